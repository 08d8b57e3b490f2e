"""Invoice of a bill: receiver defaults from the customer, conceptos from the bill's lines,
totals to the cent, PUE/PPD from the ledger, folios, XSD-valid stamped XML."""

import logging
import threading
import uuid
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, connection
from lxml import etree

from billing.cfdi import services
from billing.cfdi.errors import CfdiError
from billing.cfdi.models import Cfdi, CfdiStatus, UnrecordedStamp
from billing.cfdi.xsd import xsd_validate
from tests.cfdi.conftest import billed, invoice_customer

pytestmark = pytest.mark.django_db

NS = {"cfdi": "http://www.sat.gob.mx/cfd/4", "tfd": "http://www.sat.gob.mx/TimbreFiscalDigital"}


def parsed(cfdi: Cfdi):
    return etree.fromstring(cfdi.xml.encode())


def test_domestic_bill_is_invoiced_at_iva_zero_with_the_customers_defaults(cfdi_settings, user):
    (bill,) = billed({"m3": 25, "customer": invoice_customer(), "discount": "retiree"})
    cfdi = services.invoice_bill(bill=bill, user=user)

    xsd_validate(cfdi.xml.encode())  # raises when invalid
    root = parsed(cfdi)
    receptor = root.find("cfdi:Receptor", NS)
    assert receptor.get("Rfc") == "CACX7605101P8"
    assert receptor.get("Nombre") == "XOCHILT CASAS CHAVEZ"
    assert receptor.get("RegimenFiscalReceptor") == "612"
    assert receptor.get("UsoCFDI") == "G03"
    assert receptor.get("DomicilioFiscalReceptor") == "42501"
    assert D(root.get("Total")) == bill.total == cfdi.total
    assert cfdi.subtotal - cfdi.discount == bill.charges
    assert cfdi.tax == bill.tax == D("0.00")
    # The retiree discount is a negative line: it is a Descuento, no concepto is negative.
    assert cfdi.discount > 0
    assert all(D(c.get("Importe")) > 0 for c in root.iterfind("cfdi:Conceptos/cfdi:Concepto", NS))
    rates = {t.get("TasaOCuota") for t in root.iterfind(".//cfdi:Concepto//cfdi:Traslado", NS)}
    assert rates == {"0.000000"}
    tfd = root.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    assert uuid.UUID(tfd.get("UUID")) == cfdi.uuid
    assert tfd.get("SelloCFD") == root.get("Sello")
    assert cfdi.status == CfdiStatus.STAMPED and cfdi.stamped_at is not None
    assert (cfdi.serie, cfdi.folio, cfdi.created_by) == ("A", 1, user)


def test_commercial_bill_carries_iva_16_per_line_equal_to_the_bills_vat(cfdi_settings, user):
    (bill,) = billed({"m3": 23, "use": "commercial", "customer": invoice_customer()})
    assert bill.tax > 0
    cfdi = services.invoice_bill(bill=bill, user=user)
    root = parsed(cfdi)
    assert D(root.find("cfdi:Impuestos", NS).get("TotalImpuestosTrasladados")) == bill.tax
    assert D(root.get("Total")) == bill.total
    taxed = [t.get("TasaOCuota") for t in root.iterfind(".//cfdi:Concepto//cfdi:Traslado", NS)]
    assert set(taxed) == {"0.160000"}


def test_unpaid_bill_is_ppd_with_form_99(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    cfdi = services.invoice_bill(bill=bill, user=user)
    root = parsed(cfdi)
    assert (root.get("MetodoPago"), root.get("FormaPago")) == ("PPD", "99")
    assert (cfdi.payment_method, cfdi.payment_form) == ("PPD", "99")


def test_receiver_given_overrides_the_defaults_for_this_invoice_only(cfdi_settings, user):
    customer = invoice_customer()
    (bill,) = billed({"m3": 10, "customer": customer})
    cfdi = services.invoice_bill(
        bill=bill, receiver={"cfdi_use": "S01", "postal_code": "06300"}, user=user
    )
    assert (cfdi.receiver_cfdi_use, cfdi.receiver_postal_code) == ("S01", "06300")
    customer.refresh_from_db()
    assert (customer.cfdi_use, customer.tax_postal_code) == ("G03", "42501")


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"rfc": "CACX7605101P9"}, "rfc"),
        ({"rfc": "XAXX010101000"}, "rfc"),
        ({"tax_regime": "601"}, "tax_regime"),  # a company regime for a person's RFC
        ({"cfdi_use": "CP01"}, "cfdi_use"),
        ({"tax_regime": "605", "cfdi_use": "G03"}, "cfdi_use"),  # wages earners: no G03
        ({"postal_code": "4250"}, "postal_code"),
        ({"postal_code": "00001"}, "postal_code"),  # not in SAT's catalog
    ],
)
def test_invalid_receiver_is_refused_naming_the_field(cfdi_settings, user, override, field):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    with pytest.raises(CfdiError) as refused:
        services.invoice_bill(bill=bill, receiver=override, user=user)
    assert (refused.value.code, refused.value.field) == ("invalid_receiver", field)
    assert not Cfdi.objects.exists()


def test_company_receiver_with_a_company_regime_is_accepted(cfdi_settings, user):
    company = {"rfc": "JES900109Q90", "name": "JIMENEZ ESTRADA SALAS A A", "tax_regime": "601"}
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    cfdi = services.invoice_bill(bill=bill, receiver=company, user=user)
    assert (cfdi.receiver_rfc, cfdi.receiver_tax_regime) == ("JES900109Q90", "601")


def test_customer_without_tax_data_is_refused(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer(rfc="", tax_regime="")})
    with pytest.raises(CfdiError) as refused:
        services.invoice_bill(bill=bill, user=user)
    assert refused.value.code == "invalid_receiver"


def test_a_bill_has_one_active_invoice_and_can_be_reinvoiced_after_cancelling(cfdi_settings, user):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    first = services.invoice_bill(bill=bill, user=user)
    with pytest.raises(CfdiError) as refused:
        services.invoice_bill(bill=bill, user=user)
    assert (refused.value.code, refused.value.status) == ("already_invoiced", 409)
    services.cfdi_cancel(cfdi=first, reason="02", user=user)
    second = services.invoice_bill(bill=bill, user=user)
    assert second.folio == first.folio + 1
    assert second.uuid != first.uuid


def test_not_configured_is_refused_before_anything_is_written(settings, user):
    settings.CAUDAL_CFDI = {}
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    with pytest.raises(CfdiError) as refused:
        services.invoice_bill(bill=bill, user=user)
    assert refused.value.code == "not_configured"
    assert "CAUDAL_CFDI" in refused.value.message
    assert not Cfdi.objects.exists()


def test_stamp_the_database_refuses_is_logged_kept_and_its_folio_never_reissued(
    cfdi_settings, user, monkeypatch, caplog
):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})

    def refuse(**fields):
        raise IntegrityError("the database is gone")

    monkeypatch.setattr(Cfdi.objects, "create", refuse)
    with (
        caplog.at_level(logging.CRITICAL, logger="billing.cfdi.services"),
        pytest.raises(CfdiError) as refused,
    ):
        services.invoice_bill(bill=bill, user=user)
    assert (refused.value.code, refused.value.status) == ("not_recorded", 500)
    (record,) = [r for r in caplog.records if r.name == "billing.cfdi.services"]
    stamped = etree.fromstring(record.getMessage().split("\n", 1)[1].encode())
    tfd = stamped.find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
    # The clerk's message and the log name the same UUID: the administrator can find it.
    assert tfd.get("UUID") in refused.value.message
    assert "(serie A, folio 1)" in refused.value.message
    monkeypatch.undo()
    assert not Cfdi.objects.exists()
    # Kept for the administrator, with the XML SAT holds; and the issue's transaction kept the
    # folio: the next CFDI of the serie does not carry folio 1 a second time.
    (kept,) = UnrecordedStamp.objects.all()
    assert (str(kept.uuid).upper(), kept.serie, kept.folio) == (tfd.get("UUID").upper(), "A", 1)
    assert (kept.kind, kept.total, kept.created_by) == ("bill", bill.total, user)
    assert (
        etree.fromstring(kept.xml.encode()).find("cfdi:Complemento/tfd:TimbreFiscalDigital", NS)
        is not None
    )
    assert "the database is gone" in kept.error
    again = services.invoice_bill(bill=bill, user=user)
    assert (again.serie, again.folio) == ("A", 2)


def test_stamp_that_cannot_even_be_kept_rolls_the_folio_back_and_is_logged(
    cfdi_settings, user, monkeypatch, caplog
):
    """When the database refuses the record of the unrecorded stamp too (connection gone),
    nothing is written: the folio goes back with the rest, and the log lines are the trace."""
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})

    def refuse(**fields):
        raise IntegrityError("the database is gone")

    monkeypatch.setattr(Cfdi.objects, "create", refuse)
    monkeypatch.setattr(UnrecordedStamp.objects, "create", refuse)
    with (
        caplog.at_level(logging.CRITICAL, logger="billing.cfdi.services"),
        pytest.raises(CfdiError) as refused,
    ):
        services.invoice_bill(bill=bill, user=user)
    assert refused.value.code == "not_recorded"
    messages = [r.getMessage() for r in caplog.records if r.name == "billing.cfdi.services"]
    assert len(messages) == 2
    assert "could not keep the unrecorded stamp" in messages[1]
    monkeypatch.undo()
    assert not UnrecordedStamp.objects.exists()
    assert services.invoice_bill(bill=bill, user=user).folio == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_invoices_take_distinct_consecutive_folios(cfdi_settings, user):
    bills = billed(*({"m3": 10 + i, "customer": invoice_customer()} for i in range(4)))
    errors = []

    def issue(bill):
        try:
            services.invoice_bill(bill=bill, user=user)
        except Exception as exc:  # noqa: BLE001  (reported to the main thread)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(bill,)) for bill in bills]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Cfdi.objects.values_list("folio", flat=True)) == [1, 2, 3, 4]
