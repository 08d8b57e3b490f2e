"""The global invoice to the general public: a day or a month of payments whose bills were not
invoiced individually; one per period unless cancelled; reason 04 when a customer asks later."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone
from lxml import etree

from billing.cfdi import services
from billing.cfdi.errors import CfdiError
from billing.cfdi.models import CfdiGlobalPayment, CfdiStatus
from billing.cfdi.xsd import xsd_validate
from billing.payments import services as payment_services
from billing.payments.models import Channel, Method
from tests.cfdi.conftest import billed, invoice_customer

pytestmark = pytest.mark.django_db

NS = {"cfdi": "http://www.sat.gob.mx/cfd/4"}
MAY_2 = dt.datetime(2026, 5, 2, 17, 0, tzinfo=dt.UTC)  # 11:00 in Mexico City


def pay(bill, amount, *, when=MAY_2, method=Method.CASH):
    return payment_services.payment_post(
        account=bill.account,
        amount=D(amount),
        channel=Channel.BANK,
        method=method,
        received_at=when,
    )


@pytest.fixture
def three_bills():
    return billed(
        {"m3": 10},
        {"m3": 23, "use": "commercial", "customer": invoice_customer()},
        {"m3": 15, "customer": invoice_customer(rfc="GODE561231GR8")},
    )


def test_monthly_global_invoice_has_a_concepto_per_payment_not_invoiced(
    cfdi_settings, user, three_bills
):
    domestic, commercial, nominative = three_bills
    services.invoice_bill(bill=nominative, user=user)
    p1 = pay(domestic, domestic.total)
    p2 = pay(commercial, "50.00", method=Method.TRANSFER)
    pay(nominative, nominative.total)  # its bill has its own invoice: not in the global one
    cfdi = services.global_invoice(periodicity="04", year=2026, month=5, user=user)

    xsd_validate(cfdi.xml.encode())
    root = etree.fromstring(cfdi.xml.encode())
    info = root.find("cfdi:InformacionGlobal", NS)
    assert (info.get("Periodicidad"), info.get("Meses"), info.get("Año")) == ("04", "05", "2026")
    receptor = root.find("cfdi:Receptor", NS)
    assert (receptor.get("Rfc"), receptor.get("Nombre")) == ("XAXX010101000", "PUBLICO EN GENERAL")
    assert (receptor.get("RegimenFiscalReceptor"), receptor.get("UsoCFDI")) == ("616", "S01")
    assert receptor.get("DomicilioFiscalReceptor") == root.get("LugarExpedicion") == "42501"
    conceptos = root.findall("cfdi:Conceptos/cfdi:Concepto", NS)
    assert [c.get("NoIdentificacion") for c in conceptos] == [str(p1.pk), str(p2.pk)]
    assert {(c.get("ClaveProdServ"), c.get("ClaveUnidad")) for c in conceptos} == {
        ("01010101", "ACT")
    }
    assert D(root.get("Total")) == p1.amount + p2.amount == cfdi.total
    assert (root.get("MetodoPago"), root.get("FormaPago")) == ("PUE", "01")  # cash: the largest
    # The commercial payment carries IVA 16 % in its bill's proportion; the domestic one 0 %.
    rates = [[t.get("TasaOCuota") for t in c.iterfind(".//cfdi:Traslado", NS)] for c in conceptos]
    assert rates == [["0.000000"], ["0.160000"]]
    assert cfdi.tax == (D("50.00") * commercial.tax / commercial.total).quantize(D("0.01"))
    assert set(CfdiGlobalPayment.objects.values_list("payment_id", flat=True)) == {p1.pk, p2.pk}


def test_daily_global_invoice_covers_only_that_local_day(cfdi_settings, user, three_bills):
    domestic, commercial, _ = three_bills
    p1 = pay(domestic, "30.00")
    # 2026-05-03 01:00 UTC is still May 2 in Mexico City.
    p2 = pay(commercial, "40.00", when=dt.datetime(2026, 5, 3, 1, 0, tzinfo=dt.UTC))
    pay(commercial, "5.00", when=dt.datetime(2026, 5, 3, 7, 0, tzinfo=dt.UTC))  # May 3
    cfdi = services.global_invoice(periodicity="01", year=2026, month=5, day=2, user=user)
    root = etree.fromstring(cfdi.xml.encode())
    ids = [c.get("NoIdentificacion") for c in root.iterfind(".//cfdi:Concepto", NS)]
    assert ids == [str(p1.pk), str(p2.pk)]
    assert root.find("cfdi:InformacionGlobal", NS).get("Periodicidad") == "01"


def test_second_global_invoice_of_a_period_is_refused_until_the_first_is_cancelled(
    cfdi_settings, user, three_bills
):
    pay(three_bills[0], "30.00")
    first = services.global_invoice(periodicity="04", year=2026, month=5, user=user)
    with pytest.raises(CfdiError) as refused:
        services.global_invoice(periodicity="04", year=2026, month=5, user=user)
    assert (refused.value.code, refused.value.status) == ("global_exists", 409)
    services.cfdi_cancel(cfdi=first, reason="02", user=user)
    again = services.global_invoice(periodicity="04", year=2026, month=5, user=user)
    assert again.status == CfdiStatus.STAMPED and again.pk != first.pk


def test_empty_period_and_a_period_not_over_are_refused(cfdi_settings, user, three_bills):
    with pytest.raises(CfdiError) as refused:
        services.global_invoice(periodicity="04", year=2026, month=4, user=user)
    assert refused.value.code == "empty_period"
    future = timezone.localdate() + dt.timedelta(days=40)
    with pytest.raises(CfdiError) as refused:
        services.global_invoice(periodicity="04", year=future.year, month=future.month, user=user)
    assert refused.value.code == "period_not_over"
    with pytest.raises(CfdiError) as refused:
        services.global_invoice(periodicity="01", year=2026, month=5, user=user)  # no day
    assert refused.value.code == "invalid_period"


def test_customer_asking_later_needs_the_global_invoice_cancelled_with_reason_04(
    cfdi_settings, user, three_bills
):
    _, _, bill = three_bills
    pay(bill, bill.total)
    global_cfdi = services.global_invoice(periodicity="04", year=2026, month=5, user=user)
    with pytest.raises(CfdiError) as refused:
        services.invoice_bill(bill=bill, user=user)
    assert refused.value.code == "in_global_invoice"
    services.cfdi_cancel(cfdi=global_cfdi, reason="04", user=user)
    invoice = services.invoice_bill(bill=bill, user=user)
    assert invoice.payment_method == "PUE"
    # The reissued global invoice leaves the nominatively invoiced bill out: nothing is left.
    with pytest.raises(CfdiError) as refused:
        services.global_invoice(periodicity="04", year=2026, month=5, user=user)
    assert refused.value.code == "empty_period"
