"""Pure builders of CFDI 4.0: from small facts (dataclasses) to sealed, XSD-validated XML.

No database here: :mod:`billing.cfdi.services` gathers the facts, these functions build the
satcfdi ``Comprobante``, seal it with the CSD and validate the bytes (:mod:`billing.cfdi.xsd`).

SAT keys and tax decisions (why):

- **ClaveProdServ** of a bill's lines: ``83101501`` *Abastecimiento de agua* for water (fixed
  charge, blocks, flat rate, discounts on them); ``83101500`` *Servicios de acueducto y
  alcantarillado* for sewer and for the surcharge and rounding of the bill (they belong to the
  service, not to a separate product); ``83101506`` *Servicios de tratamiento de aguas* for
  sanitation (wastewater treatment). **ClaveUnidad** ``E48`` (unidad de servicio) with
  ``Cantidad`` 1 and ``ValorUnitario`` = the line's amount: the line's own quantity and unit price
  (m³, %) go into the description, so ``Importe`` is the line's amount to the cent (a product of
  a 4-decimal quantity and a 6-decimal price rounded again could move a cent).
- **IVA** follows what billing computed: a bill whose tariff pays VAT has each taxed line at the
  tariff set's ``vat_rate`` (16 %) — ``ObjetoImp`` 02, Traslado IVA with the line's own tax as
  ``Importe``; its untaxed lines (late-payment surcharge, rounding) are ``ObjetoImp`` 01 (not
  subject), as billing charged no VAT on them. A bill whose tariff pays no VAT (domestic water,
  Ley del IVA art. 2-A I h) has every line at IVA **0 %** (``ObjetoImp`` 02, Tasa 0.000000):
  the supply of water for domestic use is taxed at 0 %, not exempt.
- **Negative lines** (discounts, a negative rounding): a concepto cannot be negative, so each
  negative line becomes ``Descuento`` on the positive lines — first those of its own tax group
  (largest first), which also lowers their tax base and tax by the negative line's own amount
  and tax; what is left goes on any other positive line as a discount that does not touch its
  tax base (it was not taxed in the bill either). The CFDI's Total, SubTotal - Descuento and
  tax are then the bill's total, charges and VAT to the cent. A bill whose negative lines
  exceed what its positive lines can absorb is refused (it would be a credit, not an invoice).
- **Global invoice**: one concepto per payment (``ClaveProdServ`` 01010101, ``ClaveUnidad`` ACT,
  ``NoIdentificacion`` = the payment's id, ``Descripcion`` "Venta"), its tax split in the same
  proportions as the bills it paid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from satcfdi.cfdi import CFDI
from satcfdi.create.cfd import cfdi40

from billing.cfdi.errors import CfdiError
from billing.cfdi.xsd import xsd_validate

ZERO = Decimal("0.00")
MEXICO_CENTRAL = ZoneInfo("America/Mexico_City")

PUBLIC_RFC = "XAXX010101000"
PUBLIC_NAME = "PUBLICO EN GENERAL"
PUBLIC_REGIME = "616"
PUBLIC_USE = "S01"

PROD_WATER = "83101501"
PROD_SERVICES = "83101500"
PROD_TREATMENT = "83101506"
PROD_GLOBAL = "01010101"
UNIT_SERVICE = "E48"
UNIT_ACTIVITY = "ACT"

CLAVE_PROD_SERV = {
    "fixed": PROD_WATER,
    "water": PROD_WATER,
    "flat": PROD_WATER,
    "discount": PROD_WATER,
    "sewer": PROD_SERVICES,
    "sanitation": PROD_TREATMENT,
    "surcharge": PROD_SERVICES,
    "rounding": PROD_SERVICES,
}
DESCRIPTIONS = {
    "fixed": "Cargo fijo agua potable",
    "water": "Agua potable",
    "flat": "Cuota fija agua potable",
    "discount": "Descuento",
    "sewer": "Drenaje y alcantarillado",
    "sanitation": "Saneamiento",
    "surcharge": "Recargos",
    "rounding": "Redondeo",
}


def sat_datetime(moment: dt.datetime) -> dt.datetime:
    """An aware instant as SAT writes it: naive local time of Mexico's central zone."""
    return moment.astimezone(MEXICO_CENTRAL).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Issuer:
    rfc: str
    name: str
    tax_regime: str
    postal_code: str


@dataclass(frozen=True)
class Receiver:
    rfc: str
    name: str
    tax_regime: str
    cfdi_use: str
    postal_code: str


@dataclass(frozen=True)
class LineFacts:
    """A bill line: ``amount`` and ``tax`` as billing stored them."""

    concept: str
    amount: Decimal
    tax: Decimal = ZERO
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    block: int | None = None


@dataclass
class _Draft:
    """A concepto being built from one positive bill line."""

    line: LineFacts
    group: Decimal | None  # IVA rate, or None: not subject to tax (ObjetoImp 01)
    discount: Decimal = ZERO
    base: Decimal = ZERO
    tax: Decimal = ZERO

    @property
    def room(self) -> Decimal:
        return self.line.amount - self.discount


@dataclass(frozen=True)
class Built:
    """A sealed, XSD-validated CFDI ready to stamp."""

    xml: bytes
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    document: CFDI = field(repr=False)


def _describe(line: LineFacts, account_label: str) -> str:
    text = DESCRIPTIONS.get(line.concept, line.concept)
    if line.concept == "water" and line.quantity is not None:
        text += (
            f" rango {line.block or 1}: {line.quantity.normalize():f} m3 a ${line.unit_price:.2f}"
        )
    elif line.concept in ("sewer", "sanitation") and line.quantity is not None:
        text += f" {line.quantity.normalize():f} %"
    return f"{text} ({account_label})" if account_label else text


def bill_concepts(
    lines: list[LineFacts], *, vat_rate: Decimal, pays_vat: bool, account_label: str = ""
) -> list[cfdi40.Concepto]:
    """The conceptos of a bill's lines (see the module docstring for the rules)."""

    def group_of(line: LineFacts) -> Decimal | None:
        if not pays_vat:
            return ZERO
        return vat_rate if line.tax != 0 else None

    drafts = [
        _Draft(line=line, group=group_of(line), base=line.amount, tax=line.tax)
        for line in lines
        if line.amount > 0
    ]
    negatives = [line for line in lines if line.amount < 0]
    for line in negatives:
        left = -line.amount
        group = group_of(line)
        same = sorted((d for d in drafts if d.group == group), key=lambda d: -d.room)
        others = sorted((d for d in drafts if d.group != group), key=lambda d: -d.room)
        tax_left = -line.tax
        for draft in same + others:
            take = min(left, draft.room)
            if take <= 0:
                continue
            draft.discount += take
            if draft.group == group:
                draft.base -= take
                draft.tax -= tax_left
                tax_left = ZERO
            left -= take
            if left == 0:
                break
        if left > 0 or tax_left != 0:
            raise CfdiError(
                "negative_bill",
                _(
                    "The bill's discounts exceed its charges; a CFDI cannot carry a negative "
                    "amount. Correct the bill or issue a credit note instead."
                ),
            )
    concepts = []
    for draft in drafts:
        if draft.group is not None and (draft.base <= 0 or draft.tax < 0):
            raise CfdiError(
                "negative_bill",
                _("A discount of the bill leaves no taxable base for one of its concepts."),
            )
        taxes = None
        if draft.group is not None:
            taxes = cfdi40.Impuestos(
                traslados=cfdi40.Traslado(
                    impuesto="002",
                    tipo_factor="Tasa",
                    tasa_o_cuota=draft.group.quantize(Decimal("0.000001")),
                    base=draft.base,
                    importe=draft.tax,
                )
            )
        concepts.append(
            cfdi40.Concepto(
                clave_prod_serv=CLAVE_PROD_SERV.get(draft.line.concept, PROD_SERVICES),
                cantidad=Decimal(1),
                clave_unidad=UNIT_SERVICE,
                descripcion=_describe(draft.line, account_label),
                valor_unitario=draft.line.amount,
                descuento=draft.discount or None,
                impuestos=taxes,
                objeto_imp="02" if taxes else "01",
            )
        )
    if not concepts:
        raise CfdiError("empty_invoice", _("The bill has no charge to invoice."))
    return concepts


@dataclass
class GlobalItem:
    """What one payment paid of bills not invoiced individually: ``amount`` in all, and its IVA
    by rate (rate → (base, tax)) in the proportions of the bills it paid."""

    payment_id: int
    amount: Decimal
    taxes: dict = field(default_factory=dict)
    method: str = ""


def paid_concept(
    *,
    amount: Decimal,
    taxes: dict,
    clave: str,
    unit: str,
    description: str,
    identification: str | None = None,
) -> cfdi40.Concepto:
    """A concepto for an amount paid with its IVA by rate: ValorUnitario is the amount less its
    IVA; a Traslado per rate with a base (ObjetoImp 02), none when nothing is taxed (01)."""
    taxed = sum((tax for _base, tax in taxes.values()), ZERO)
    traslados = [
        cfdi40.Traslado(
            impuesto="002",
            tipo_factor="Tasa",
            tasa_o_cuota=rate.quantize(Decimal("0.000001")),
            base=base,
            importe=tax,
        )
        for rate, (base, tax) in sorted(taxes.items())
        if base > 0
    ]
    return cfdi40.Concepto(
        clave_prod_serv=clave,
        cantidad=Decimal(1),
        clave_unidad=unit,
        descripcion=description,
        no_identificacion=identification,
        valor_unitario=amount - taxed,
        impuestos=cfdi40.Impuestos(traslados=traslados) if traslados else None,
        objeto_imp="02" if traslados else "01",
    )


def global_concepts(items: list[GlobalItem]) -> list[cfdi40.Concepto]:
    """One concepto per payment, as SAT asks of a global invoice: ClaveProdServ 01010101,
    ClaveUnidad ACT, Descripcion "Venta", NoIdentificacion = the payment (the "ticket")."""
    return [
        paid_concept(
            amount=item.amount,
            taxes=item.taxes,
            clave=PROD_GLOBAL,
            unit=UNIT_ACTIVITY,
            description="Venta",
            identification=str(item.payment_id),
        )
        for item in items
    ]


def _emisor(issuer: Issuer) -> cfdi40.Emisor:
    return cfdi40.Emisor(rfc=issuer.rfc, nombre=issuer.name, regimen_fiscal=issuer.tax_regime)


def _receptor(receiver: Receiver) -> cfdi40.Receptor:
    return cfdi40.Receptor(
        rfc=receiver.rfc,
        nombre=receiver.name,
        domicilio_fiscal_receptor=receiver.postal_code,
        regimen_fiscal_receptor=receiver.tax_regime,
        uso_cfdi=receiver.cfdi_use,
    )


def invoice_build(
    *,
    issuer: Issuer,
    receiver: Receiver,
    concepts: list[cfdi40.Concepto],
    serie: str,
    folio: int,
    payment_method: str,
    payment_form: str,
    issued_at: dt.datetime,
    signer,
    global_period: tuple[str, str, int] | None = None,
) -> Built:
    """An ingreso (I) CFDI; ``global_period`` = (Periodicidad, Meses, Año) for the global
    invoice to the general public."""
    comprobante = cfdi40.Comprobante(
        emisor=_emisor(issuer),
        lugar_expedicion=issuer.postal_code,
        receptor=_receptor(receiver),
        conceptos=concepts,
        serie=serie,
        folio=str(folio),
        forma_pago=payment_form,
        metodo_pago=payment_method,
        informacion_global=cfdi40.InformacionGlobal(*global_period) if global_period else None,
        fecha=sat_datetime(issued_at),
    )
    return seal(comprobante, signer)


@dataclass(frozen=True)
class PaidDocument:
    """A PPD invoice (its stamped XML) and what a payment paid of it."""

    invoice_xml: bytes
    installment: int
    previous_balance: Decimal
    amount_paid: Decimal


def payment_build(
    *,
    issuer: Issuer,
    receiver: Receiver,
    paid_at: dt.datetime,
    payment_form: str,
    reference: str,
    documents: list[PaidDocument],
    serie: str,
    folio: int,
    issued_at: dt.datetime,
    signer,
) -> Built:
    """A pago (P) CFDI with the Pagos 2.0 complement: one Pago of ``paid_at`` in MXN, one
    DoctoRelacionado per invoice with its installment and balances, and the taxes paid in
    proportion (ImpuestosDR / ImpuestosP / Totales, computed by satcfdi from each invoice's
    conceptos)."""
    if not documents:
        raise CfdiError("no_ppd_invoice", _("The payment paid no invoice issued as PPD."))
    comprobante = cfdi40.Comprobante.pago_comprobantes(
        comprobantes=[
            cfdi40.PagoComprobante(
                comprobante=_invoice_for_payment(doc.invoice_xml),
                num_parcialidad=doc.installment,
                imp_saldo_ant=doc.previous_balance,
                imp_pagado=doc.amount_paid,
            )
            for doc in documents
        ],
        fecha_pago=sat_datetime(paid_at),
        forma_pago=payment_form,
        emisor=_emisor(issuer),
        lugar_expedicion=issuer.postal_code,
        receptor=_receptor(receiver),
        serie=serie,
        folio=str(folio),
        fecha=sat_datetime(issued_at),
    )
    if reference:
        # NumOperacion (bank reference, SPEI tracking key…) is a Pago attribute satcfdi's
        # helper does not take; it is set before sealing.
        comprobante["Complemento"]["Pago"][0]["NumOperacion"] = reference[:100]
    return seal(comprobante, signer)


def _invoice_for_payment(xml: bytes) -> CFDI:
    """A stamped invoice parsed for satcfdi's payment computations, which expect every concepto
    to have an ``Impuestos`` key (a concepto not subject to tax, ObjetoImp 01, has none)."""
    invoice = CFDI.from_string(xml)
    for concepto in invoice["Conceptos"]:
        concepto.setdefault("Impuestos", None)
    return invoice


def seal(comprobante: cfdi40.Comprobante, signer) -> Built:
    """Sign with the CSD and validate the exact bytes against the SAT XSDs."""
    comprobante.sign(signer)
    xml = comprobante.xml_bytes(include_schema_location=True)
    xsd_validate(xml)
    impuestos = comprobante.get("Impuestos") or {}
    return Built(
        xml=xml,
        subtotal=comprobante["SubTotal"],
        discount=comprobante.get("Descuento") or ZERO,
        tax=impuestos.get("TotalImpuestosTrasladados") or ZERO,
        total=comprobante["Total"],
        document=comprobante,
    )
