"""Cancellation with SAT reason codes, through the PAC."""

import pytest

from billing.cfdi import services
from billing.cfdi.errors import CfdiError
from billing.cfdi.models import CfdiStatus
from billing.cfdi.pac import TestStampingPac
from tests.cfdi.conftest import billed, invoice_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(cfdi_settings):
    return billed(
        {"m3": 10, "customer": invoice_customer()}, {"m3": 12, "customer": invoice_customer()}
    )


@pytest.fixture
def invoice(bills, user):
    return services.invoice_bill(bill=bills[0], user=user)


def test_cancel_with_reason_02_goes_through_the_pac_and_keeps_who_and_when(invoice, user):
    cancelled = services.cfdi_cancel(cfdi=invoice, reason="02", user=user)
    assert cancelled.status == CfdiStatus.CANCELLED
    assert cancelled.cancel_reason == "02"
    assert cancelled.cancelled_by == user
    assert cancelled.cancelled_at is not None and cancelled.cancel_requested_at is not None
    assert TestStampingPac.cancellations == [
        {
            "uuid": str(invoice.uuid).upper(),
            "rfc": "EKU9003173C9",
            "reason": "02",
            "replacement": None,
        }
    ]


def test_already_cancelled_is_refused_with_409(invoice, user):
    services.cfdi_cancel(cfdi=invoice, reason="03", user=user)
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason="03", user=user)
    assert (refused.value.code, refused.value.status) == ("already_cancelled", 409)
    assert len(TestStampingPac.cancellations) == 1


def test_reason_01_needs_a_stamped_replacement_of_ours(invoice, user):
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason="01", user=user)
    assert (refused.value.code, refused.value.field) == ("invalid_replacement", "replacement")
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason="01", replacement=invoice, user=user)
    assert refused.value.code == "invalid_replacement"


def test_reason_01_names_the_replacement_to_the_pac(bills, invoice, user):
    replacement = services.invoice_bill(bill=bills[1], user=user)
    cancelled = services.cfdi_cancel(cfdi=invoice, reason="01", replacement=replacement, user=user)
    assert cancelled.replacement == replacement
    assert TestStampingPac.cancellations[-1]["replacement"] == str(replacement.uuid).upper()


@pytest.mark.parametrize("reason", ["05", "1", ""])
def test_unknown_reason_is_refused(invoice, user, reason):
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason=reason, user=user)
    assert refused.value.code == "invalid_reason"


def test_reason_04_is_for_global_invoices_only(invoice, user):
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason="04", user=user)
    assert refused.value.code == "invalid_reason"
    invoice.refresh_from_db()
    assert invoice.status == CfdiStatus.STAMPED


@pytest.fixture
def acceptance_needed(settings):
    settings.CAUDAL_CFDI = {**settings.CAUDAL_CFDI, "PAC_OPTIONS": {"receiver_acceptance": True}}
    TestStampingPac.receiver_answers.clear()
    yield
    TestStampingPac.receiver_answers.clear()


def test_cancellation_waiting_for_the_receiver_is_settled_by_refresh(
    invoice, user, acceptance_needed
):
    requested = services.cfdi_cancel(cfdi=invoice, reason="02", user=user)
    assert requested.status == CfdiStatus.CANCEL_REQUESTED and requested.cancelled_at is None
    with pytest.raises(CfdiError) as refused:
        services.cfdi_cancel(cfdi=invoice, reason="02", user=user)
    assert refused.value.code == "cancel_pending"
    assert services.cfdi_cancel_refresh(cfdi=invoice).status == CfdiStatus.CANCEL_REQUESTED
    TestStampingPac.receiver_answers[str(invoice.uuid).upper()] = "accept"
    cancelled = services.cfdi_cancel_refresh(cfdi=invoice)
    assert cancelled.status == CfdiStatus.CANCELLED and cancelled.cancelled_at is not None


def test_cancellation_rejected_by_the_receiver_leaves_the_cfdi_stamped(
    invoice, user, acceptance_needed
):
    services.cfdi_cancel(cfdi=invoice, reason="03", user=user)
    TestStampingPac.receiver_answers[str(invoice.uuid).upper()] = "reject"
    back = services.cfdi_cancel_refresh(cfdi=invoice)
    assert (back.status, back.cancel_reason, back.cancel_requested_at) == (
        CfdiStatus.STAMPED,
        "",
        None,
    )
    # The request and its rejection stay in the CFDI's history.
    assert back.events.filter(status=CfdiStatus.CANCEL_REQUESTED).exists()
