"""Writes of CFDI: invoice a bill, cancel; (with the payments app) the payment complement, the
invoice of a payment and the global invoice.

Every function takes keyword arguments only, runs in one transaction and raises
:class:`billing.cfdi.errors.CfdiError` with nothing written when it refuses. Each builds the
CFDI with satcfdi (:mod:`billing.cfdi.build`), seals it with the configured CSD, validates the
bytes against the SAT XSDs, stamps it through the configured PAC (:mod:`billing.cfdi.pac`) and
stores the stamped XML.

The PAC is called inside the transaction, after every check and after the folio is taken: a
refusal by the PAC rolls everything back (the folio too). If the database fails *after* a
successful stamp, SAT holds a CFDI we did not record: :func:`_stamp_and_store` logs its UUID and
stamped XML (logger ``billing.cfdi.services``, level CRITICAL), keeps them as an
:class:`~billing.cfdi.models.UnrecordedStamp` and refuses with ``not_recorded``, which tells the
clerk not to issue it again. The issuing transaction (:func:`_issuing`) then commits instead of
rolling back — the serie's counter and that row, nothing else was written — so the stamped
folio is never handed to the next CFDI. Recording or cancelling it is an administrator's task
(the admin lists them; not automated here).

Folios: ``_folio_next`` bumps the serie's counter row with one ``INSERT … ON CONFLICT DO UPDATE
… RETURNING``; the row lock it takes serializes issuers of the same serie until commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal

from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.cfdi import build
from billing.cfdi.conf import issuer_config
from billing.cfdi.errors import CfdiError
from billing.cfdi.models import (
    Cfdi,
    CfdiGlobalPayment,
    CfdiKind,
    CfdiRelatedDocument,
    CfdiStatus,
    PaymentMethod,
    Periodicity,
    UnrecordedStamp,
)
from billing.cfdi.pac import CANCEL_REASONS, SAT_CANCELLED, SAT_REJECTED
from billing.cfdi.receivers import receiver_of_customer
from billing.models import Bill, BillStatus, Settlement
from billing.payments.models import Payment, PaymentStatus
from billing.pricing import money
from gis_core.sql import fetchall

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
# pg_advisory_xact_lock(class, 0): one global invoice at a time (billing uses 8 and 9).
GLOBAL_LOCK_CLASS = 19
UNDEFINED_FORM = "99"  # c_FormaPago "Por definir": the form of a PPD invoice


def _issuer(config) -> build.Issuer:
    return build.Issuer(
        rfc=config.rfc,
        name=config.name,
        tax_regime=config.tax_regime,
        postal_code=config.postal_code,
    )


def _global_lock(*, shared: bool) -> None:
    """The global invoice reads every payment of its period; nominative invoices (of a bill, of
    a payment) take this lock shared, the global invoice exclusive, so neither includes a sale
    the other is invoicing at the same moment."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, 0)", [GLOBAL_LOCK_CLASS])


def _folio_next(serie: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO cfdi_cfdiserie (serie, last_folio) VALUES (%s, 1)
               ON CONFLICT (serie) DO UPDATE SET last_folio = cfdi_cfdiserie.last_folio + 1
               RETURNING last_folio""",
            [serie],
        )
        return cursor.fetchone()[0]


class _StampNotRecorded(Exception):
    """Raised inside :func:`_issuing` once a stamp the database refused is kept: the issuing
    transaction commits (the folio stays taken), then ``refusal`` is raised."""

    def __init__(self, refusal: CfdiError):
        super().__init__(refusal.message)
        self.refusal = refusal


@contextmanager
def _issuing():
    """The transaction of one CFDI: everything or nothing, except after a stamp the database
    refused (:func:`_stamp_and_store`): then it commits what is left in it — the serie's
    counter and the :class:`UnrecordedStamp`, the CFDI's own rows were rolled back with their
    savepoint — and raises ``not_recorded``. Rolling back would free a folio SAT has stamped,
    and the next CFDI of the serie would carry it too.

    Called with a transaction already open (none of the API's calls are), "commits" means
    releasing a savepoint: the caller's rollback would still undo the record, and the log
    line (CRITICAL, with the stamped XML) stays the only trace."""
    refusal = None
    with transaction.atomic():
        try:
            yield
        except _StampNotRecorded as kept:
            refusal = kept.refusal
    if refusal is not None:
        raise refusal


def _stamp_and_store(
    *, config, built: build.Built, then: Callable[[Cfdi], object] | None = None, **fields
) -> Cfdi:
    """Stamp ``built`` at the PAC and record it (``fields``: the :class:`Cfdi`'s own), then
    ``then(cfdi)`` writes the rows that hang from it (its related documents, its payments).
    Runs inside :func:`_issuing`.

    Once the PAC has stamped, the CFDI exists at SAT whatever happens here: if the database
    refuses these writes, the stamp is logged (CRITICAL, UUID and XML) and kept as an
    :class:`UnrecordedStamp` so an administrator can record or cancel it, its folio stays
    taken, and ``not_recorded`` tells the clerk not to issue it again."""
    stamp = config.pac().stamp(built.xml)
    xml = stamp.xml.decode("utf-8")
    try:
        with transaction.atomic():
            cfdi = Cfdi.objects.create(
                status=CfdiStatus.STAMPED,
                uuid=uuid.UUID(stamp.uuid),
                issuer_rfc=config.rfc,
                subtotal=built.subtotal,
                discount=built.discount,
                tax=built.tax,
                total=built.total,
                xml=xml,
                stamped_at=stamp.stamped_at,
                **fields,
            )
            if then is not None:
                then(cfdi)
    except DatabaseError as exc:
        logger.critical(
            "CFDI %s (serie %s, folio %s) stamped by the PAC but not recorded: %s\n%s",
            stamp.uuid,
            fields.get("serie"),
            fields.get("folio"),
            exc,
            xml,
        )
        refusal = CfdiError(
            "not_recorded",
            _(
                "SAT stamped the CFDI %(uuid)s (serie %(serie)s, folio %(folio)s) but Caudal could "
                "not record it. Do not issue it again: give this UUID to the system "
                "administrator, who will record or cancel it."
            )
            % {"uuid": stamp.uuid, "serie": fields.get("serie"), "folio": fields.get("folio")},
            status=500,
        )
        try:
            with transaction.atomic():
                UnrecordedStamp.objects.create(
                    uuid=uuid.UUID(stamp.uuid),
                    kind=fields["kind"],
                    serie=fields["serie"],
                    folio=fields["folio"],
                    issuer_rfc=config.rfc,
                    total=built.total,
                    xml=xml,
                    error=str(exc),
                    stamped_at=stamp.stamped_at,
                    created_by=fields.get("created_by"),
                )
        except DatabaseError as again:
            # The database refuses everything (connection lost…): the transaction rolls back,
            # the folio with it, and the log line above is the only record.
            logger.critical("CFDI %s: could not keep the unrecorded stamp: %s", stamp.uuid, again)
            raise refusal from exc
        raise _StampNotRecorded(refusal) from exc
    return cfdi


def _receiver_fields(receiver: build.Receiver) -> dict:
    return {
        "receiver_rfc": receiver.rfc,
        "receiver_name": receiver.name,
        "receiver_tax_regime": receiver.tax_regime,
        "receiver_cfdi_use": receiver.cfdi_use,
        "receiver_postal_code": receiver.postal_code,
    }


# --- what the ledger says a bill was paid with ----------------------------------------------------


def _live_settlements():
    """Settlements that count: neither side reversed."""
    return Settlement.objects.filter(
        debit__reversed_by__isnull=True, credit__reversed_by__isnull=True
    )


def _bill_settled_by_payments(bill_id: int):
    """The live settlements of the bill's debits by payments (credit entries of document type
    "payment")."""
    return _live_settlements().filter(
        debit__document_type="bill", debit__document_id=bill_id, credit__document_type="payment"
    )


def bill_paid_by_payments(bill_id: int) -> Decimal:
    """What payments settled of the bill."""
    paid = _bill_settled_by_payments(bill_id).aggregate(total=Sum("amount"))["total"]
    return paid or Decimal("0.00")


def _main_payment_form(bill_id: int) -> str:
    """The SAT form of the payment that paid most of the bill (SAT: with several forms, the
    form of the largest amount). ``99`` when it cannot be known."""
    rows = list(
        _bill_settled_by_payments(bill_id)
        .values("credit_id")
        .annotate(paid=Sum("amount"))
        .order_by("-paid", "credit_id")[:1]
    )
    if not rows:
        return UNDEFINED_FORM
    method = (
        Payment.objects.filter(ledger_entry_id=rows[0]["credit_id"])
        .values_list("method", flat=True)
        .first()
    )
    return method or UNDEFINED_FORM


# --- invoice of a bill ----------------------------------------------------------------------------


def invoice_bill(*, bill: Bill, receiver: dict | None = None, user) -> Cfdi:
    """Issue and stamp the CFDI (ingreso) of an issued bill, for the bill's customer.

    ``receiver`` overrides the customer's CFDI defaults (``rfc``, ``name``, ``tax_regime``,
    ``cfdi_use``, ``postal_code``) for this invoice; the customer's record is not changed.
    The conceptos are the bill's lines (:func:`billing.cfdi.build.bill_concepts`); the CFDI's
    total, charges and VAT equal the bill's to the cent. A bill fully paid according to the
    ledger is invoiced PUE with the form of its (main) payment; otherwise PPD with form 99, and
    its payments will get payment complements.

    Raises ``not_configured``, ``not_issued`` / ``already_invoiced`` / ``paid_invoiced`` /
    ``in_global_invoice`` (409), ``invalid_receiver``,
    ``negative_bill``, ``invalid_xml``, ``pac_error``, ``not_recorded`` (500)."""
    config = issuer_config()
    signer = config.signer()
    with _issuing():
        _global_lock(shared=True)
        bill = (
            Bill.objects.select_for_update(of=("self",))
            .select_related("account__customer", "tariff", "run__tariff_set")
            .get(pk=bill.pk)
        )
        if bill.status != BillStatus.ISSUED or bill.total <= 0:
            raise CfdiError(
                "not_issued",
                _("Only an issued bill with an amount to pay can be invoiced."),
                status=409,
            )
        if (
            Cfdi.objects.filter(bill=bill, kind=CfdiKind.BILL)
            .exclude(status=CfdiStatus.CANCELLED)
            .exists()
        ):
            raise CfdiError(
                "already_invoiced",
                _("This bill already has a CFDI; cancel it first to issue another."),
                status=409,
            )
        _refuse_if_invoiced_through_payments(bill)
        to = receiver_of_customer(bill.account.customer, receiver)
        lines = [
            build.LineFacts(
                concept=line.concept,
                amount=line.amount,
                tax=line.tax,
                quantity=line.quantity,
                unit_price=line.unit_price,
                block=line.block,
            )
            for line in bill.lines.order_by("seq")
        ]
        concepts = build.bill_concepts(
            lines,
            vat_rate=bill.run.tariff_set.vat_rate,
            pays_vat=_pays_vat(bill),
            # The CFDI's text is the fiscal document's, in Spanish whatever the user's language.
            account_label=f"cuenta {bill.account.number}",
        )
        paid = bill_paid_by_payments(bill.pk)
        if paid >= bill.total:
            method, form = PaymentMethod.PUE, _main_payment_form(bill.pk)
        else:
            method, form = PaymentMethod.PPD, UNDEFINED_FORM
        serie = config.series["bill"]
        folio = _folio_next(serie)
        built = build.invoice_build(
            issuer=_issuer(config),
            receiver=to,
            concepts=concepts,
            serie=serie,
            folio=folio,
            payment_method=method,
            payment_form=form,
            issued_at=timezone.now(),
            signer=signer,
        )
        if (built.total, built.tax, built.subtotal - built.discount) != (
            bill.total,
            bill.tax,
            bill.charges,
        ):
            raise CfdiError(
                "totals_mismatch",
                _("The CFDI's totals do not match the bill's; nothing was issued."),
                status=500,
            )
        return _stamp_and_store(
            config=config,
            built=built,
            kind=CfdiKind.BILL,
            serie=serie,
            folio=folio,
            payment_method=method,
            payment_form=form,
            bill=bill,
            created_by=user,
            **_receiver_fields(to),
        )


def _refuse_if_invoiced_through_payments(bill: Bill) -> None:
    """A bill whose payment was invoiced (an invoice of the payment, or a global invoice) is
    not invoiced again: the global invoice must first be cancelled (reason 04) and reissued
    without that payment; an invoiced payment already covers the bill."""
    credits = _bill_settled_by_payments(bill.pk).values("credit_id")
    if _active(
        Cfdi.objects.filter(kind=CfdiKind.PAYMENT_INVOICE, payment__ledger_entry_id__in=credits)
    ).exists():
        raise CfdiError(
            "paid_invoiced",
            _("The payment of this bill was invoiced; that invoice covers the bill."),
            status=409,
        )
    if (
        CfdiGlobalPayment.objects.filter(payment__ledger_entry_id__in=credits)
        .exclude(cfdi__status=CfdiStatus.CANCELLED)
        .exists()
    ):
        raise CfdiError(
            "in_global_invoice",
            _(
                "A payment of this bill is in a global invoice. Cancel the global invoice with "
                "reason 04, invoice the bill, then issue the global invoice again."
            ),
            status=409,
        )


# --- cancellation -----------------------------------------------------------------------------------


def cfdi_cancel(*, cfdi: Cfdi, reason: str, replacement: Cfdi | None = None, user) -> Cfdi:
    """Ask SAT (through the PAC) to cancel a stamped CFDI with a SAT reason:

    - ``01`` issued with errors, replaced: ``replacement`` is required, a stamped CFDI of ours;
    - ``02`` issued with errors, not replaced; ``03`` the operation did not take place;
    - ``04`` a nominative operation included in a global invoice (global invoices only).

    The CFDI becomes ``cancelled`` when the PAC answers that SAT cancelled it, else
    ``cancel_requested`` (SAT waits for the receiver). Raises ``invalid_reason``,
    ``invalid_replacement``, ``already_cancelled`` / ``cancel_pending`` /
    ``has_payment_complements`` (409), ``not_configured``, ``pac_error``."""
    if reason not in CANCEL_REASONS:
        raise CfdiError(
            "invalid_reason",
            _("The cancellation reason must be one of SAT's codes 01, 02, 03 or 04."),
            field="reason",
        )
    config = issuer_config()
    with transaction.atomic():
        cfdi = Cfdi.objects.select_for_update().get(pk=cfdi.pk)
        if cfdi.status == CfdiStatus.CANCELLED:
            raise CfdiError("already_cancelled", _("This CFDI is already cancelled."), status=409)
        if cfdi.status == CfdiStatus.CANCEL_REQUESTED:
            raise CfdiError(
                "cancel_pending",
                _("A cancellation of this CFDI is already waiting for SAT."),
                status=409,
            )
        if reason == "01":
            if replacement is None:
                raise CfdiError(
                    "invalid_replacement",
                    _("Reason 01 needs the CFDI that replaces this one."),
                    field="replacement",
                )
            replacement = Cfdi.objects.get(pk=replacement.pk)
            if (
                replacement.pk == cfdi.pk
                or replacement.status != CfdiStatus.STAMPED
                or replacement.uuid is None
            ):
                raise CfdiError(
                    "invalid_replacement",
                    _("The replacement must be another stamped, not cancelled CFDI of ours."),
                    field="replacement",
                )
        elif replacement is not None:
            raise CfdiError(
                "invalid_replacement",
                _("Only reason 01 names a replacing CFDI."),
                field="replacement",
            )
        if reason == "04" and cfdi.kind != CfdiKind.GLOBAL:
            raise CfdiError(
                "invalid_reason",
                _("Reason 04 is for global invoices only."),
                field="reason",
            )
        if cfdi.payments_received.exclude(cfdi__status=CfdiStatus.CANCELLED).exists():
            raise CfdiError(
                "has_payment_complements",
                _("This invoice has payment complements; cancel them first."),
                status=409,
            )
        result = config.pac().cancel(
            uuid=str(cfdi.uuid).upper(),
            rfc_emisor=cfdi.issuer_rfc,
            reason=reason,
            replacement_uuid=str(replacement.uuid).upper() if replacement else None,
        )
        now = timezone.now()
        cfdi.cancel_reason = reason
        cfdi.replacement = replacement
        cfdi.cancel_requested_at = now
        cfdi.cancelled_by = user
        if result.status == "cancelled":
            cfdi.status = CfdiStatus.CANCELLED
            cfdi.cancelled_at = now
        else:
            cfdi.status = CfdiStatus.CANCEL_REQUESTED
        cfdi.save()
        return cfdi


def cfdi_cancel_refresh(*, cfdi: Cfdi) -> Cfdi:
    """Ask SAT (through the PAC) how a ``cancel_requested`` CFDI stands: cancelled (it becomes
    ``cancelled`` with its time), rejected by the receiver (back to ``stamped``, its
    cancellation fields cleared; the history keeps the request) or still pending (unchanged).
    "Active" without a cancellation status is taken as not yet registered by SAT (unchanged).
    A CFDI in another status is returned as is. Raises ``not_configured``, ``pac_error``."""
    config = issuer_config()
    with transaction.atomic():
        cfdi = Cfdi.objects.select_for_update().get(pk=cfdi.pk)
        if cfdi.status != CfdiStatus.CANCEL_REQUESTED:
            return cfdi
        answer = config.pac().status(xml=cfdi.xml.encode("utf-8"))
        if answer == SAT_CANCELLED:
            cfdi.status = CfdiStatus.CANCELLED
            cfdi.cancelled_at = timezone.now()
        elif answer == SAT_REJECTED:
            cfdi.status = CfdiStatus.STAMPED
            cfdi.cancel_reason = ""
            cfdi.replacement = None
            cfdi.cancel_requested_at = None
            cfdi.cancelled_by = None
        else:
            return cfdi
        cfdi.save()
        return cfdi


# --- payments: complement, invoice of a payment, global invoice -------------------------------------


def _payment_locked(payment):
    payment = (
        Payment.objects.select_for_update().select_related("account__customer").get(pk=payment.pk)
    )
    if payment.status != PaymentStatus.POSTED:
        raise CfdiError(
            "payment_reversed", _("This payment was reversed; it cannot be invoiced."), status=409
        )
    return payment


def payment_bill_amounts(payment) -> dict[int, Decimal]:
    """What the payment paid of each bill (bill id → amount), from its live settlements."""
    rows = (
        _live_settlements()
        .filter(credit_id=payment.ledger_entry_id, debit__document_type="bill")
        .values("debit__document_id")
        .annotate(paid=Sum("amount"))
        .order_by("debit__document_id")
    )
    return {row["debit__document_id"]: row["paid"] for row in rows}


def _active(queryset):
    return queryset.exclude(status=CfdiStatus.CANCELLED)


def payment_complement(*, payment, user) -> Cfdi:
    """Issue and stamp the payment complement (CFDI type P, Pagos 2.0) of a payment that paid
    bills invoiced as PPD: one DoctoRelacionado per such invoice, with NumParcialidad (the
    invoice's active complements before this one + 1), ImpSaldoAnt (the invoice's total less
    what earlier complements paid), ImpPagado (what this payment settled of the bill) and
    ImpSaldoInsoluto; the taxes paid in proportion (ObjetoImpDR, TrasladosDR, ImpuestosP,
    Totales). The receiver is the invoices' receiver.

    Raises ``no_ppd_invoice`` (the payment paid no PPD invoice), ``payment_reversed`` /
    ``already_complemented`` (409), ``mixed_receivers``, ``not_configured``, ``pac_error``,
    ``not_recorded`` (500)."""
    config = issuer_config()
    signer = config.signer()
    with _issuing():
        payment = _payment_locked(payment)
        if _active(Cfdi.objects.filter(payment=payment, kind=CfdiKind.PAYMENT)).exists():
            raise CfdiError(
                "already_complemented",
                _("This payment already has a payment complement; cancel it first."),
                status=409,
            )
        paid = payment_bill_amounts(payment)
        invoices = list(
            _active(
                Cfdi.objects.filter(
                    kind=CfdiKind.BILL, bill_id__in=paid, payment_method=PaymentMethod.PPD
                )
            )
            .select_for_update()
            .order_by("pk")
        )
        if not invoices:
            raise CfdiError(
                "no_ppd_invoice",
                _("This payment paid no bill invoiced as PPD: it needs no payment complement."),
            )
        receivers = {
            (i.receiver_rfc, i.receiver_name, i.receiver_tax_regime, i.receiver_postal_code)
            for i in invoices
        }
        if len(receivers) > 1:
            raise CfdiError(
                "mixed_receivers",
                _("The invoices this payment paid have different receivers."),
            )
        rfc, name, regime, postal_code = receivers.pop()
        documents, related = [], []
        for invoice in invoices:
            earlier = CfdiRelatedDocument.objects.filter(invoice=invoice).exclude(
                cfdi__status=CfdiStatus.CANCELLED
            )
            paid_before = earlier.aggregate(total=Sum("amount_paid"))["total"] or Decimal("0.00")
            balance = invoice.total - paid_before
            amount = min(paid[invoice.bill_id], balance)
            if amount <= 0:
                continue
            installment = earlier.count() + 1
            documents.append(
                build.PaidDocument(
                    invoice_xml=invoice.xml.encode("utf-8"),
                    installment=installment,
                    previous_balance=balance,
                    amount_paid=amount,
                )
            )
            related.append((invoice, installment, balance, amount))
        if not documents:
            raise CfdiError(
                "no_ppd_invoice",
                _("The PPD invoices this payment paid were already paid in full."),
            )
        to = build.Receiver(
            rfc=rfc, name=name, tax_regime=regime, cfdi_use="CP01", postal_code=postal_code
        )
        serie = config.series["payment"]
        folio = _folio_next(serie)
        built = build.payment_build(
            issuer=_issuer(config),
            receiver=to,
            paid_at=payment.received_at,
            payment_form=payment.method,
            reference=payment.reference,
            documents=documents,
            serie=serie,
            folio=folio,
            issued_at=timezone.now(),
            signer=signer,
        )
        return _stamp_and_store(
            config=config,
            built=built,
            then=lambda cfdi: CfdiRelatedDocument.objects.bulk_create(
                CfdiRelatedDocument(
                    cfdi=cfdi,
                    invoice=invoice,
                    installment=installment,
                    previous_balance=balance,
                    amount_paid=amount,
                    balance_after=balance - amount,
                )
                for invoice, installment, balance, amount in related
            ),
            kind=CfdiKind.PAYMENT,
            serie=serie,
            folio=folio,
            payment=payment,
            created_by=user,
            **_receiver_fields(to),
        )


def _pays_vat(bill: Bill) -> bool:
    """Whether the bill's lines carry IVA (its tariff says; a bill without one, by its tax).
    ``_GLOBAL_ITEMS_SQL`` says the same in SQL."""
    return bill.tariff.vat if bill.tariff_id else bill.tax != 0


def _bill_tax_shape(bill: Bill) -> dict:
    """A bill's amounts by IVA rate: rate → (net of its lines, their tax); ``None`` holds the
    lines not subject to tax (see :func:`billing.cfdi.build.bill_concepts`)."""
    pays_vat = _pays_vat(bill)
    shape: dict = {}
    for line in bill.lines.all():
        rate = (bill.run.tariff_set.vat_rate if line.tax != 0 else None) if pays_vat else ZERO
        net, tax = shape.get(rate, (ZERO, ZERO))
        shape[rate] = (net + line.amount, tax + line.tax)
    return shape


def _paid_taxes(bill: Bill, paid: Decimal) -> dict:
    """The IVA in ``paid`` of ``bill``, in the bill's proportions: rate → (base, tax), rounded
    to the cent."""
    share = paid / bill.total
    return {
        rate: (money(net * share), money(tax * share))
        for rate, (net, tax) in _bill_tax_shape(bill).items()
        if rate is not None
    }


def _in_active_global(payment_ids) -> set[int]:
    return set(
        CfdiGlobalPayment.objects.filter(payment_id__in=list(payment_ids))
        .exclude(cfdi__status=CfdiStatus.CANCELLED)
        .values_list("payment_id", flat=True)
    )


def invoice_payment(*, payment, receiver: dict | None = None, user) -> Cfdi:
    """Issue and stamp the CFDI (ingreso, PUE, the payment's form) of a payment whose customer
    asks for an invoice at the counter: one concepto per bill it paid (ClaveProdServ 83101501,
    the paid amount with its IVA in the bill's proportions). Only bills not invoiced on their
    own: an invoiced bill's payment gets a payment complement instead.

    Raises ``payment_reversed`` / ``already_invoiced`` / ``in_global_invoice`` (409),
    ``bill_already_invoiced``, ``nothing_to_invoice``, ``invalid_receiver``,
    ``not_configured``, ``pac_error``, ``not_recorded`` (500)."""
    config = issuer_config()
    signer = config.signer()
    with _issuing():
        payment = _payment_locked(payment)
        if _active(Cfdi.objects.filter(payment=payment, kind=CfdiKind.PAYMENT_INVOICE)).exists():
            raise CfdiError(
                "already_invoiced", _("This payment already has an invoice."), status=409
            )
        if _in_active_global({payment.pk}):
            raise CfdiError(
                "in_global_invoice",
                _(
                    "This payment is in a global invoice. Cancel the global invoice with reason "
                    "04, invoice the payment, then issue the global invoice again."
                ),
                status=409,
            )
        paid = payment_bill_amounts(payment)
        if _active(Cfdi.objects.filter(kind=CfdiKind.BILL, bill_id__in=paid)).exists():
            raise CfdiError(
                "bill_already_invoiced",
                _(
                    "A bill this payment paid already has its own invoice: issue a payment "
                    "complement instead."
                ),
            )
        if not paid:
            raise CfdiError(
                "nothing_to_invoice", _("This payment paid no bill; there is nothing to invoice.")
            )
        to = receiver_of_customer(payment.account.customer, receiver)
        bills = (
            Bill.objects.select_related("tariff", "run__tariff_set")
            .prefetch_related("lines")
            .in_bulk(list(paid))
        )
        concepts = []
        for bill_id, amount in paid.items():
            concepts.append(
                build.paid_concept(
                    amount=amount,
                    taxes=_paid_taxes(bills[bill_id], amount),
                    clave=build.PROD_WATER,
                    unit=build.UNIT_SERVICE,
                    description=(
                        f"Pago del recibo {bills[bill_id].payment_reference}, "
                        f"cuenta {payment.account.number}"
                    ),
                )
            )
        serie = config.series["bill"]
        folio = _folio_next(serie)
        built = build.invoice_build(
            issuer=_issuer(config),
            receiver=to,
            concepts=concepts,
            serie=serie,
            folio=folio,
            payment_method=PaymentMethod.PUE,
            payment_form=payment.method,
            issued_at=timezone.now(),
            signer=signer,
        )
        return _stamp_and_store(
            config=config,
            built=built,
            kind=CfdiKind.PAYMENT_INVOICE,
            serie=serie,
            folio=folio,
            payment_method=PaymentMethod.PUE,
            payment_form=payment.method,
            payment=payment,
            created_by=user,
            **_receiver_fields(to),
        )


def global_invoice(
    *, periodicity: str, year: int, month: int, day: int | None = None, user
) -> Cfdi:
    """Issue and stamp the global invoice to the general public (RFC XAXX010101000, PUBLICO EN
    GENERAL, regime 616, use S01, the issuer's postal code) of a day (periodicity ``01``, with
    ``day``) or a month (``04``) that is over: one concepto per payment received in it (local
    time) that paid bills not invoiced individually, for what it paid of them (ClaveProdServ
    01010101, ClaveUnidad ACT, NoIdentificacion = the payment's id), PUE with the form of the
    largest amount. Payments already invoiced or already in an active global invoice are left
    out; credit not applied to a bill (an advance) is not included.

    Raises ``invalid_period``, ``period_not_over``, ``global_exists`` (409, an active global
    invoice of the period), ``empty_period``, ``not_configured``, ``pac_error``,
    ``not_recorded`` (500)."""
    start, end = _global_period(periodicity, year, month, day)
    config = issuer_config()
    signer = config.signer()
    with _issuing():
        _global_lock(shared=False)
        if _active(
            Cfdi.objects.filter(kind=CfdiKind.GLOBAL, periodicity=periodicity, period_start=start)
        ).exists():
            raise CfdiError(
                "global_exists",
                _("This period already has a global invoice; cancel it first to issue another."),
                status=409,
            )
        zone = timezone.get_current_timezone()
        items = _global_items(
            dt.datetime.combine(start, dt.time(), zone), dt.datetime.combine(end, dt.time(), zone)
        )
        forms: dict[str, Decimal] = {}
        for item in items:
            forms[item.method] = forms.get(item.method, ZERO) + item.amount
        if not items:
            raise CfdiError(
                "empty_period",
                _("No payment of this period needs the global invoice."),
            )
        form = max(sorted(forms), key=lambda code: forms[code])
        concepts = build.global_concepts(items)
        public = build.Receiver(
            rfc=build.PUBLIC_RFC,
            name=build.PUBLIC_NAME,
            tax_regime=build.PUBLIC_REGIME,
            cfdi_use=build.PUBLIC_USE,
            postal_code=config.postal_code,
        )
        serie = config.series["global"]
        folio = _folio_next(serie)
        built = build.invoice_build(
            issuer=_issuer(config),
            receiver=public,
            concepts=concepts,
            serie=serie,
            folio=folio,
            payment_method=PaymentMethod.PUE,
            payment_form=form,
            issued_at=timezone.now(),
            signer=signer,
            global_period=(periodicity, f"{start.month:02d}", start.year),
        )
        return _stamp_and_store(
            config=config,
            built=built,
            then=lambda cfdi: CfdiGlobalPayment.objects.bulk_create(
                CfdiGlobalPayment(cfdi=cfdi, payment_id=item.payment_id, amount=item.amount)
                for item in items
            ),
            kind=CfdiKind.GLOBAL,
            serie=serie,
            folio=folio,
            payment_method=PaymentMethod.PUE,
            payment_form=form,
            periodicity=periodicity,
            period_start=start,
            period_end=end - dt.timedelta(days=1),
            created_by=user,
            **_receiver_fields(public),
        )


# SQL: what each payment received in [start, end) paid of bills that have no active invoice of
# their own, when the payment itself is in no active CFDI (its invoice, a complement, a global
# invoice), with the IVA of what it paid split by rate in its bills' proportions. One query for
# the whole period (a month may hold many thousands of payments); a settlement counts while
# neither of its entries is reversed. Rates: the tariff set's VAT rate for taxed lines of a
# bill that pays VAT, 0 for every line of a bill that does not, NULL for untaxed lines of a
# bill that does (not subject to tax). round() is half away from zero, like billing's.
_GLOBAL_ITEMS_SQL = """
WITH paid AS (
    SELECT p.id AS payment_id, p.method, p.received_at, d.document_id AS bill_id,
           sum(s.amount) AS amount
      FROM payments_payment p
      JOIN billing_settlement s ON s.credit_id = p.ledger_entry_id
      JOIN billing_ledgerentry d ON d.id = s.debit_id AND d.document_type = 'bill'
     WHERE p.status = 'posted' AND p.received_at >= %(start)s AND p.received_at < %(end)s
       AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r WHERE r.reversal_of_id = s.debit_id)
       AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r WHERE r.reversal_of_id = s.credit_id)
       AND NOT EXISTS (SELECT 1 FROM cfdi_cfdi c
                        WHERE c.payment_id = p.id AND c.status <> 'cancelled')
       AND NOT EXISTS (SELECT 1 FROM cfdi_cfdiglobalpayment g JOIN cfdi_cfdi c ON c.id = g.cfdi_id
                        WHERE g.payment_id = p.id AND c.status <> 'cancelled')
       AND NOT EXISTS (SELECT 1 FROM cfdi_cfdi c
                        WHERE c.kind = 'bill' AND c.bill_id = d.document_id
                          AND c.status <> 'cancelled')
     GROUP BY p.id, p.method, p.received_at, d.document_id
),
shape AS (
    SELECT b.id AS bill_id, b.total,
           CASE WHEN NOT coalesce(t.vat, b.tax <> 0) THEN 0::numeric
                WHEN l.tax <> 0 THEN ts.vat_rate END AS rate,
           sum(l.amount) AS net, sum(l.tax) AS tax
      FROM billing_bill b
      JOIN billing_billline l ON l.bill_id = b.id
      JOIN billing_billingrun r ON r.id = b.run_id
      JOIN billing_tariffset ts ON ts.id = r.tariff_set_id
      LEFT JOIN billing_tariff t ON t.id = b.tariff_id
     WHERE b.id IN (SELECT bill_id FROM paid)
     GROUP BY 1, 2, 3
),
payments AS (
    SELECT payment_id, method, received_at, sum(amount) AS amount
      FROM paid GROUP BY 1, 2, 3
),
taxes AS (
    SELECT p.payment_id, sh.rate, sum(round(sh.net * p.amount / sh.total, 2)) AS base,
           sum(round(sh.tax * p.amount / sh.total, 2)) AS tax
      FROM paid p JOIN shape sh USING (bill_id)
     WHERE sh.rate IS NOT NULL
     GROUP BY 1, 2
)
SELECT y.payment_id, y.method, y.amount, x.rate, x.base, x.tax
  FROM payments y LEFT JOIN taxes x USING (payment_id)
 WHERE y.amount > 0
 ORDER BY y.received_at, y.payment_id, x.rate
"""


def _global_items(start: dt.datetime, end: dt.datetime) -> list[build.GlobalItem]:
    items: dict[int, build.GlobalItem] = {}
    for payment_id, method, amount, rate, base, tax in fetchall(
        _GLOBAL_ITEMS_SQL, {"start": start, "end": end}
    ):
        item = items.setdefault(
            payment_id, build.GlobalItem(payment_id=payment_id, amount=amount, method=method)
        )
        if rate is not None:
            item.taxes[rate] = (base, tax)
    return list(items.values())


def _global_period(periodicity: str, year: int, month: int, day: int | None):
    """[start, end) dates of a global invoice's period; refuses periods not over yet."""
    try:
        if periodicity == Periodicity.DAILY:
            if day is None:
                raise ValueError
            start = dt.date(year, month, day)
            end = start + dt.timedelta(days=1)
        elif periodicity == Periodicity.MONTHLY:
            start = dt.date(year, month, 1)
            end = (start + dt.timedelta(days=32)).replace(day=1)
        else:
            raise ValueError
    except (TypeError, ValueError):
        raise CfdiError(
            "invalid_period",
            _(
                "Give the periodicity 01 (a day: year, month and day) or 04 (a month: year and month)."
            ),
            field="periodicity",
        ) from None
    if end > timezone.localdate():
        raise CfdiError(
            "period_not_over",
            _("The global invoice of a period is issued once the period is over."),
            field="periodicity",
        )
    return start, end
