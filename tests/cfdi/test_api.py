"""The CFDI API: permissions by role, issue and cancel through services, XML download, errors
in the shared shape."""

import datetime as dt
from decimal import Decimal as D

import pytest

from billing.cfdi.models import Cfdi, CfdiStatus
from billing.payments import services as payment_services
from billing.payments.models import Channel, Method
from core import roles
from tests.cfdi.conftest import billed, invoice_customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bill(cfdi_settings):
    (bill,) = billed({"m3": 10, "customer": invoice_customer()})
    return bill


def login(client, role):
    user = UserFactory(username=role, roles=[role])
    client.force_login(user)
    return user


def test_cashier_invoices_a_bill_and_downloads_its_xml(client, bill):
    user = login(client, roles.CASHIER)
    response = client.post(
        f"/api/cfdi/bills/{bill.pk}/invoice/",
        {"receiver": {"cfdi_use": "S01"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["receiver_cfdi_use"], body["status"], body["total"]) == (
        "S01",
        "stamped",
        str(bill.total),
    )
    cfdi = Cfdi.objects.get(pk=body["id"])
    assert cfdi.created_by == user
    xml = client.get(f"/api/cfdi/cfdi/{cfdi.pk}/xml/")
    assert xml.status_code == 200
    assert xml["Content-Type"] == "application/xml"
    assert str(cfdi.uuid).upper() in xml["Content-Disposition"]
    assert xml.content == cfdi.xml.encode()
    listed = client.get(f"/api/cfdi/cfdi/?bill={bill.pk}").json()
    assert [row["id"] for row in listed] == [cfdi.pk]


def test_refusals_answer_code_field_and_status(client, bill):
    login(client, roles.BILLING_CLERK)
    response = client.post(
        f"/api/cfdi/bills/{bill.pk}/invoice/",
        {"receiver": {"postal_code": "00001"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (
        "invalid_receiver",
        "postal_code",
    )
    client.post(f"/api/cfdi/bills/{bill.pk}/invoice/", {}, content_type="application/json")
    again = client.post(f"/api/cfdi/bills/{bill.pk}/invoice/", {}, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "already_invoiced")


def test_cashiers_cannot_cancel_clerks_can_and_a_second_cancel_is_409(client, bill):
    login(client, roles.CASHIER)
    cfdi_id = client.post(
        f"/api/cfdi/bills/{bill.pk}/invoice/", {}, content_type="application/json"
    ).json()["id"]
    url = f"/api/cfdi/cfdi/{cfdi_id}/cancel/"
    assert client.post(url, {"reason": "02"}, content_type="application/json").status_code == 403
    login(client, roles.BILLING_CLERK)
    response = client.post(url, {"reason": "02"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == CfdiStatus.CANCELLED
    again = client.post(url, {"reason": "02"}, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "already_cancelled")


def test_customer_service_reads_but_does_not_issue(client, bill):
    login(client, roles.CUSTOMER_SERVICE)
    assert client.get("/api/cfdi/cfdi/").status_code == 200
    response = client.post(
        f"/api/cfdi/bills/{bill.pk}/invoice/", {}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Cfdi.objects.exists()


def test_complement_and_global_invoice_endpoints(client, bill):
    login(client, roles.BILLING_CLERK)
    client.post(f"/api/cfdi/bills/{bill.pk}/invoice/", {}, content_type="application/json")
    payment = payment_services.payment_post(
        account=bill.account,
        amount=D("20.00"),
        channel=Channel.BANK,
        method=Method.TRANSFER,
        received_at=dt.datetime(2026, 5, 2, 17, tzinfo=dt.UTC),
    )
    response = client.post(f"/api/cfdi/payments/{payment.pk}/complement/")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "payment"
    empty = client.post(
        "/api/cfdi/global/",
        {"periodicity": "04", "year": 2026, "month": 5},
        content_type="application/json",
    )
    assert (empty.status_code, empty.json()["code"]) == (400, "empty_period")


def test_not_configured_answers_503(client, bill, settings):
    settings.CAUDAL_CFDI = {}
    login(client, roles.BILLING_CLERK)
    response = client.post(
        f"/api/cfdi/bills/{bill.pk}/invoice/", {}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (503, "not_configured")
