"""The pure builders: bill lines to conceptos (taxes, discounts), sealing and XSD validation."""

import datetime as dt
from decimal import Decimal as D

import pytest
from lxml import etree

from billing.cfdi import build
from billing.cfdi.conf import issuer_config
from billing.cfdi.errors import CfdiError
from billing.cfdi.xsd import xsd_validate

NS = {"cfdi": "http://www.sat.gob.mx/cfd/4"}
ISSUER = build.Issuer("EKU9003173C9", "ESCUELA KEMPER URGATE", "603", "42501")
RECEIVER = build.Receiver("CACX7605101P8", "XOCHILT CASAS CHAVEZ", "612", "G03", "42501")
WHEN = dt.datetime(2026, 5, 2, 17, 0, tzinfo=dt.UTC)

COMMERCIAL = [
    build.LineFacts("fixed", D("50.00"), D("8.00")),
    build.LineFacts("water", D("143.30"), D("22.93"), D("10"), D("14.33"), 2),
    build.LineFacts("discount", D("-20.00"), D("-3.20")),
    build.LineFacts("sewer", D("48.33"), D("7.73"), D("25"), D("1.933")),
    build.LineFacts("surcharge", D("4.00")),
    build.LineFacts("rounding", D("-0.29")),
]


@pytest.fixture
def signer(cfdi_settings):
    return issuer_config().signer()


def invoice(concepts, signer, **kwargs):
    return build.invoice_build(
        issuer=ISSUER,
        receiver=RECEIVER,
        concepts=concepts,
        serie="A",
        folio=7,
        payment_method="PPD",
        payment_form="99",
        issued_at=WHEN,
        signer=signer,
        **kwargs,
    )


def test_bill_totals_survive_discounts_and_untaxed_lines_to_the_cent(signer):
    concepts = build.bill_concepts(COMMERCIAL, vat_rate=D("0.16"), pays_vat=True)
    built = invoice(concepts, signer)
    charges = sum(line.amount for line in COMMERCIAL)
    tax = sum(line.tax for line in COMMERCIAL)
    assert (built.subtotal - built.discount, built.tax, built.total) == (
        charges,
        tax,
        charges + tax,
    )
    root = etree.fromstring(built.xml)
    by_kind = {c.get("Descripcion").split()[0]: c for c in root.iterfind(".//cfdi:Concepto", NS)}
    # The discount lowers the water's base and IVA (same tax group)…
    water = by_kind["Agua"]
    assert D(water.get("Descuento")) == D("20.00")
    traslado = water.find(".//cfdi:Traslado", NS)
    assert (D(traslado.get("Base")), D(traslado.get("Importe"))) == (D("123.30"), D("19.73"))
    # …the untaxed surcharge is ObjetoImp 01 and absorbs the negative rounding.
    surcharge = by_kind["Recargos"]
    assert (surcharge.get("ObjetoImp"), D(surcharge.get("Descuento"))) == ("01", D("0.29"))
    assert surcharge.find("cfdi:Impuestos", NS) is None


def test_domestic_lines_are_iva_zero_not_exempt(signer):
    lines = [build.LineFacts("fixed", D("30.00")), build.LineFacts("water", D("50.00"))]
    concepts = build.bill_concepts(lines, vat_rate=D("0.16"), pays_vat=False)
    root = etree.fromstring(invoice(concepts, signer).xml)
    traslados = root.findall(".//cfdi:Concepto//cfdi:Traslado", NS)
    assert [(t.get("TipoFactor"), t.get("TasaOCuota")) for t in traslados] == [
        ("Tasa", "0.000000")
    ] * 2


def test_discount_larger_than_the_charges_is_refused():
    lines = [build.LineFacts("water", D("50.00")), build.LineFacts("discount", D("-60.00"))]
    with pytest.raises(CfdiError) as refused:
        build.bill_concepts(lines, vat_rate=D("0.16"), pays_vat=False)
    assert refused.value.code == "negative_bill"


def test_sealed_xml_validates_and_a_broken_one_does_not(signer):
    concepts = build.bill_concepts(COMMERCIAL, vat_rate=D("0.16"), pays_vat=True)
    built = invoice(concepts, signer)
    assert xsd_validate(built.xml)["Total"] == built.total
    root = etree.fromstring(built.xml)
    root.set("MetodoPago", "XYZ")  # not in c_MetodoPago
    with pytest.raises(CfdiError) as refused:
        xsd_validate(etree.tostring(root))
    assert refused.value.code == "invalid_xml"
    assert "MetodoPago" in refused.value.message
    root = etree.fromstring(built.xml)
    root.remove(root.find("cfdi:Receptor", NS))  # a required node
    with pytest.raises(CfdiError) as refused:
        xsd_validate(etree.tostring(root))
    assert refused.value.code == "invalid_xml"


def test_global_invoice_carries_informacion_global_and_validates(signer):
    concepts = build.global_concepts(
        [
            build.GlobalItem(
                payment_id=11, amount=D("116.00"), taxes={D("0.16"): (D("100.00"), D("16.00"))}
            ),
            build.GlobalItem(
                payment_id=12, amount=D("80.00"), taxes={D("0"): (D("80.00"), D("0.00"))}
            ),
        ]
    )
    built = build.invoice_build(
        issuer=ISSUER,
        receiver=build.Receiver(
            build.PUBLIC_RFC, build.PUBLIC_NAME, build.PUBLIC_REGIME, build.PUBLIC_USE, "42501"
        ),
        concepts=concepts,
        serie="G",
        folio=1,
        payment_method="PUE",
        payment_form="01",
        issued_at=WHEN,
        signer=signer,
        global_period=("04", "05", 2026),
    )
    xsd_validate(built.xml)
    assert (built.total, built.tax) == (D("196.00"), D("16.00"))
    root = etree.fromstring(built.xml)
    assert root.find("cfdi:InformacionGlobal", NS).get("Meses") == "05"
    # Periodicidad outside c_Periodicidad breaks the schema.
    root.find("cfdi:InformacionGlobal", NS).set("Periodicidad", "09")
    with pytest.raises(CfdiError):
        xsd_validate(etree.tostring(root))


def test_times_are_written_in_mexico_central_time():
    assert build.sat_datetime(WHEN).isoformat() == "2026-05-02T11:00:00"
