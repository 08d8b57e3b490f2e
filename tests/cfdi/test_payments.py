"""Payments and CFDI: the payment complement (Pagos 2.0) of PPD invoices, the invoice of a
payment, and the PUE invoice of a bill already paid."""

import datetime as dt
from decimal import Decimal as D

import pytest
from lxml import etree

from billing.cfdi import services
from billing.cfdi.errors import CfdiError
from billing.cfdi.models import CfdiRelatedDocument
from billing.cfdi.xsd import xsd_validate
from billing.payments import services as payment_services
from billing.payments.models import Channel, Method
from tests.cfdi.conftest import billed, invoice_customer

pytestmark = pytest.mark.django_db

NS = {
    "cfdi": "http://www.sat.gob.mx/cfd/4",
    "pago20": "http://www.sat.gob.mx/Pagos20",
    "tfd": "http://www.sat.gob.mx/TimbreFiscalDigital",
}


def pay(bill, amount, method=Method.TRANSFER, reference="SPEI-1"):
    return payment_services.payment_post(
        account=bill.account,
        amount=D(amount),
        channel=Channel.BANK,
        method=method,
        reference=reference,
        received_at=dt.datetime(2026, 5, 2, 10, 30, tzinfo=dt.UTC),
    )


def test_bill_paid_in_full_is_invoiced_pue_with_the_payments_form(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    pay(bill, bill.total, method=Method.DEBIT_CARD)
    cfdi = services.invoice_bill(bill=bill, user=user)
    root = etree.fromstring(cfdi.xml.encode())
    assert (root.get("MetodoPago"), root.get("FormaPago")) == ("PUE", "28")


def test_partly_paid_bill_is_still_ppd(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    pay(bill, "10.00")
    cfdi = services.invoice_bill(bill=bill, user=user)
    assert (cfdi.payment_method, cfdi.payment_form) == ("PPD", "99")


def test_complements_count_installments_and_balances_of_a_ppd_invoice(cfdi_settings, user):
    (bill,) = billed({"m3": 23, "use": "commercial", "customer": invoice_customer()})
    invoice = services.invoice_bill(bill=bill, user=user)
    first_part = D("100.00")
    first = services.payment_complement(payment=pay(bill, first_part), user=user)
    second = services.payment_complement(payment=pay(bill, bill.total - first_part), user=user)

    for complement, number, before, paid in (
        (first, 1, bill.total, first_part),
        (second, 2, bill.total - first_part, bill.total - first_part),
    ):
        xsd_validate(complement.xml.encode())
        root = etree.fromstring(complement.xml.encode())
        assert root.get("TipoDeComprobante") == "P"
        assert root.find("cfdi:Receptor", NS).get("UsoCFDI") == "CP01"
        pago = root.find("cfdi:Complemento/pago20:Pagos/pago20:Pago", NS)
        assert (pago.get("FormaDePagoP"), D(pago.get("Monto"))) == ("03", paid)
        assert pago.get("NumOperacion") == "SPEI-1"
        doc = pago.find("pago20:DoctoRelacionado", NS)
        assert doc.get("IdDocumento").lower() == str(invoice.uuid)
        assert int(doc.get("NumParcialidad")) == number
        assert D(doc.get("ImpSaldoAnt")) == before
        assert D(doc.get("ImpPagado")) == paid
        assert D(doc.get("ImpSaldoInsoluto")) == before - paid
        # Pagos 2.0 carries the IVA paid: ObjetoImpDR 02 with TrasladosDR at the invoice's rate.
        assert doc.get("ObjetoImpDR") == "02"
        traslado = doc.find("pago20:ImpuestosDR/pago20:TrasladosDR/pago20:TrasladoDR", NS)
        assert traslado.get("TasaOCuotaDR") == "0.160000"
        totales = root.find("cfdi:Complemento/pago20:Pagos/pago20:Totales", NS)
        assert D(totales.get("MontoTotalPagos")) == paid
        assert totales.get("TotalTrasladosImpuestoIVA16") is not None
    assert CfdiRelatedDocument.objects.get(cfdi=second).balance_after == 0
    # The IVA of both installments adds up to the invoice's IVA (to within a cent of rounding).
    paid_tax = sum(
        D(
            etree.fromstring(c.xml.encode())
            .find(".//pago20:Totales", NS)
            .get("TotalTrasladosImpuestoIVA16")
        )
        for c in (first, second)
    )
    assert abs(paid_tax - invoice.tax) <= D("0.01")


def test_cancelled_complement_frees_its_installment_number(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    services.invoice_bill(bill=bill, user=user)
    payment = pay(bill, "20.00")
    first = services.payment_complement(payment=payment, user=user)
    services.cfdi_cancel(cfdi=first, reason="02", user=user)
    again = services.payment_complement(payment=payment, user=user)
    assert again.related_documents.get().installment == 1


def test_complement_is_refused_for_a_payment_of_no_ppd_invoice(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    payment = pay(bill, bill.total)
    with pytest.raises(CfdiError) as refused:
        services.payment_complement(payment=payment, user=user)
    assert refused.value.code == "no_ppd_invoice"


def test_a_payment_has_one_active_complement(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    services.invoice_bill(bill=bill, user=user)
    payment = pay(bill, "20.00")
    services.payment_complement(payment=payment, user=user)
    with pytest.raises(CfdiError) as refused:
        services.payment_complement(payment=payment, user=user)
    assert (refused.value.code, refused.value.status) == ("already_complemented", 409)


def test_invoice_with_complements_cannot_be_cancelled_before_them(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    invoice = services.invoice_bill(bill=bill, user=user)
    services.payment_complement(payment=pay(bill, "20.00"), user=user)
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason="02", user=user)
    assert refused.value.code == "has_payment_complements"


def test_payment_is_invoiced_pue_for_the_bills_it_paid(cfdi_settings, user):
    (bill,) = billed({"m3": 23, "use": "commercial", "customer": invoice_customer()})
    payment = pay(bill, bill.total, method=Method.CASH)
    cfdi = services.invoice_payment(payment=payment, user=user)
    xsd_validate(cfdi.xml.encode())
    root = etree.fromstring(cfdi.xml.encode())
    assert (root.get("MetodoPago"), root.get("FormaPago")) == ("PUE", "01")
    assert D(root.get("Total")) == payment.amount == cfdi.total
    assert cfdi.tax == bill.tax  # paid in full: all of the bill's IVA
    with pytest.raises(CfdiError) as refused:
        services.invoice_bill(bill=bill, user=user)
    assert (refused.value.code, refused.value.status) == ("paid_invoiced", 409)


def test_payment_of_an_invoiced_bill_gets_a_complement_not_an_invoice(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    services.invoice_bill(bill=bill, user=user)
    with pytest.raises(CfdiError) as refused:
        services.invoice_payment(payment=pay(bill, "20.00"), user=user)
    assert refused.value.code == "bill_already_invoiced"


def test_pue_form_is_the_form_of_the_payment_that_paid_most(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    pay(bill, "10.00", method=Method.CASH)
    pay(bill, bill.total - D("10.00"), method=Method.CREDIT_CARD, reference="AUT-9")
    cfdi = services.invoice_bill(bill=bill, user=user)
    assert (cfdi.payment_method, cfdi.payment_form) == ("PUE", "04")


def test_a_reversed_payment_neither_makes_a_bill_pue_nor_gets_a_cfdi(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    payment = pay(bill, bill.total)
    payment_services.payment_reverse(payment=payment, reason="cheque sin fondos", user=user)
    with pytest.raises(CfdiError) as refused:
        services.invoice_payment(payment=payment, user=user)
    assert (refused.value.code, refused.value.status) == ("payment_reversed", 409)
    cfdi = services.invoice_bill(bill=bill, user=user)
    assert cfdi.payment_method == "PPD"  # its settlement no longer counts
