"""The staff API and pages (cashier window, bank file upload, reversal permissions, receipt)
and the public kiosk (initials only, card gateway double)."""

from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from billing.payments import services as payment_services
from billing.payments.api import payment_answer
from billing.payments.errors import PaymentError
from billing.payments.gateways import GatewayUnavailable, TestCardGateway
from billing.payments.models import Channel, Payment
from core import roles
from tests.payments.factories import bank_payment, billed_town, cashier

pytestmark = pytest.mark.django_db

API = "/api/payments/"


@pytest.fixture
def bills():
    return billed_town(1)[1]


def client_of(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_cashier_window_opens_takes_a_payment_and_closes(bills):
    [bill] = bills
    user = cashier()
    api = client_of(user)
    assert api.get(f"{API}session/").status_code == 404
    opened = api.post(
        f"{API}session/", {"window": "Caja 1", "opening_float": "500.00"}, format="json"
    )
    assert opened.status_code == 201, opened.content
    found = api.get(f"{API}accounts/", {"q": bill.payment_reference})
    assert found.status_code == 200
    assert found.json()["balance"] == str(bill.total)
    paid = api.post(
        f"{API}cashier/",
        {"account": bill.account_id, "amount": "50.00", "method": "01"},
        format="json",
    )
    assert paid.status_code == 201, paid.content
    assert paid.json()["allocation"][0]["bill_id"] == bill.pk
    session = api.get(f"{API}session/").json()
    assert session["expected_cash"] == "550.00"
    closed = api.post(f"{API}session/close/", {"counted": {"500": 1, "50": 1}}, format="json")
    assert closed.status_code == 200
    assert closed.json()["difference"] == "0.00"
    refused = api.post(
        f"{API}cashier/",
        {"account": bill.account_id, "amount": "5.00", "method": "01"},
        format="json",
    )
    assert refused.status_code == 409


def test_a_cashier_cannot_reverse_but_a_billing_clerk_can(bills):
    [bill] = bills
    user = cashier()
    api = client_of(user)
    # A drawer may start empty: "0.00" is a valid float.
    opened = api.post(
        f"{API}session/", {"window": "Caja 1", "opening_float": "0.00"}, format="json"
    )
    assert opened.status_code == 201, opened.content
    payment_id = api.post(
        f"{API}cashier/",
        {"account": bill.account_id, "amount": "20.00", "method": "02", "reference": "0042"},
        format="json",
    ).json()["id"]
    assert (
        api.post(f"{API}{payment_id}/reverse/", {"reason": "x"}, format="json").status_code == 403
    )
    clerk = client_of(cashier("cobranza", roles.BILLING_CLERK))
    answer = clerk.post(f"{API}{payment_id}/reverse/", {"reason": "cheque devuelto"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["status"] == "reversed"
    again = clerk.post(f"{API}{payment_id}/reverse/", {"reason": "otra"}, format="json")
    assert again.status_code == 409


def test_a_bank_file_uploads_once_and_a_bad_one_answers_its_lines(bills):
    [bill] = bills
    clerk = client_of(cashier("cobranza", roles.BILLING_CLERK))
    content = (
        "referencia,importe,fecha,hora,sucursal,autorizacion\n"
        f"{bill.payment_reference},10.00,15/04/2026,10:00:00,01,X1\n"
    ).encode()

    def upload(data, name="f.csv"):
        return clerk.post(
            f"{API}bank-files/",
            {"bank": "BBVA", "file": SimpleUploadedFile(name, data, "text/csv")},
            format="multipart",
        )

    first = upload(content)
    assert first.status_code == 201, first.content
    assert first.json()["lines_posted"] == 1
    assert upload(content).status_code == 409
    bad = upload(content.replace(b"10.00", b"10,00"), "bad.csv")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["line"] == 2
    # A cashier may not import bank files.
    assert client_of(cashier()).post(f"{API}bank-files/", {}).status_code == 403


def test_the_kiosk_shows_only_initials_and_pays_through_the_gateway_double(bills, settings):
    [bill] = bills
    settings.CAUDAL_CARD_GATEWAY = {"class": "test"}
    TestCardGateway.reset()
    customer = bill.account.customer
    kiosk = APIClient()
    found = kiosk.post(f"{API}kiosk/lookup/", {"reference": bill.payment_reference}, format="json")
    assert found.status_code == 200
    data = found.json()
    assert customer.name not in str(data)
    assert data["initials"].startswith(customer.name[0].upper() + ".")
    assert data["balance"] == str(bill.total)
    wrong = kiosk.post(
        f"{API}kiosk/lookup/",
        {"reference": bill.payment_reference, "account": "NOT-HIS"},
        format="json",
    )
    assert wrong.status_code == 404
    declined = kiosk.post(
        f"{API}kiosk/pay/",
        {
            "reference": bill.payment_reference,
            "amount": "30.00",
            "method": "28",
            "token": "tok_declined",
        },
        format="json",
    )
    assert declined.status_code == 402
    assert Payment.objects.count() == 0
    paid = kiosk.post(
        f"{API}kiosk/pay/",
        {
            "reference": bill.payment_reference,
            "amount": "30.00",
            "method": "28",
            "token": "tok_approved",
        },
        format="json",
    )
    assert paid.status_code == 201, paid.content
    payment = Payment.objects.get()
    assert (payment.channel, payment.amount) == (Channel.KIOSK, D("30.00"))
    assert [c["approved"] for c in TestCardGateway.charges] == [False, True]


def test_without_a_configured_gateway_the_kiosk_charges_nothing(bills, settings):
    [bill] = bills
    settings.CAUDAL_CARD_GATEWAY = None
    answer = APIClient().post(
        f"{API}kiosk/pay/",
        {
            "reference": bill.payment_reference,
            "amount": "30.00",
            "method": "04",
            "token": "tok_approved",
        },
        format="json",
    )
    assert answer.status_code == 503
    assert Payment.objects.count() == 0


@pytest.mark.usefixtures("bills")
def test_pages_need_their_permissions_and_the_kiosk_is_public(client):
    assert client.get("/pay/cashier/").status_code == 302
    assert client.get("/pay/kiosk/").status_code == 200
    client.force_login(cashier("lector", roles.AUDITOR))
    assert client.get("/pay/cashier/").status_code == 403
    client.force_login(cashier())
    page = client.get("/pay/cashier/")
    assert page.status_code == 200
    assert b"cashier-config" in page.content


def test_the_receipt_page_shows_what_the_payment_paid(client, bills):
    [bill] = bills
    from tests.payments.factories import bank_payment

    payment = bank_payment(bill.account, "25.00", reference="BBVA:9")
    client.force_login(cashier())
    page = client.get(f"/pay/receipt/{payment.pk}/")
    assert page.status_code == 200
    assert b"25.00" in page.content
    assert f"bill {bill.pk}".encode() in page.content


def _kiosk_pay(bill):
    return APIClient().post(
        f"{API}kiosk/pay/",
        {
            "reference": bill.payment_reference,
            "amount": "30.00",
            "method": "28",
            "token": "tok_approved",
        },
        format="json",
    )


def test_a_kiosk_charge_whose_payment_fails_in_the_database_is_refunded(
    bills, settings, monkeypatch
):
    [bill] = bills
    settings.CAUDAL_CARD_GATEWAY = {"class": "test"}
    TestCardGateway.reset()

    def broken_post(**_kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(payment_services, "payment_post", broken_post)
    with pytest.raises(DatabaseError):
        _kiosk_pay(bill)
    [charge] = TestCardGateway.charges
    assert TestCardGateway.refunds == [{"charge_id": charge["id"], "amount": D("30.00")}]
    assert Payment.objects.count() == 0


def test_a_database_failure_whose_refund_is_refused_tells_the_customer_what_to_keep(
    bills, settings, monkeypatch
):
    [bill] = bills
    settings.CAUDAL_CARD_GATEWAY = {"class": "test"}
    TestCardGateway.reset()

    def broken_post(**_kwargs):
        raise DatabaseError("connection lost")

    def refund_down(self, *, charge_id, amount):
        raise GatewayUnavailable("down")

    monkeypatch.setattr(payment_services, "payment_post", broken_post)
    monkeypatch.setattr(TestCardGateway, "refund", refund_down)
    answer = _kiosk_pay(bill)
    assert answer.status_code == 502
    assert answer.json()["code"] == "refund_failed"
    [charge] = TestCardGateway.charges
    assert charge["id"][-6:].upper() in answer.json()["detail"]
    assert Payment.objects.count() == 0


def test_a_kiosk_refund_the_gateway_refuses_tells_the_customer_what_to_keep(
    bills, settings, monkeypatch
):
    [bill] = bills
    settings.CAUDAL_CARD_GATEWAY = {"class": "test"}
    TestCardGateway.reset()

    def refused_post(**_kwargs):
        raise PaymentError("bad_amount", "no")

    def refund_down(self, *, charge_id, amount):
        raise GatewayUnavailable("down")

    monkeypatch.setattr(payment_services, "payment_post", refused_post)
    monkeypatch.setattr(TestCardGateway, "refund", refund_down)
    answer = _kiosk_pay(bill)
    assert answer.status_code == 502
    assert answer.json()["code"] == "refund_failed"
    [charge] = TestCardGateway.charges
    assert charge["id"][-6:].upper() in answer.json()["detail"]


def test_account_lookup_lists_each_payments_allocation_in_queries_that_do_not_grow_with_them(
    bills,
):
    """The cashier's lookup shows the last payments with what each paid and the balance; a
    reversed one paid nothing. The allocations come in one query for the whole list: the
    lookup of an account with four payments costs what it costs with one."""
    [bill] = bills
    api = client_of(cashier())
    payment_of = {"first": bank_payment(bill.account, "10.00")}

    def lookup():
        with CaptureQueriesContext(connection) as queries:
            found = api.get(f"{API}accounts/", {"q": bill.payment_reference})
        assert found.status_code == 200
        return found.json(), len(queries)

    lookup()  # the first request of this user also loads its permissions
    _one, queries_with_one = lookup()
    for name, amount in (("second", "20.00"), ("third", "5.00"), ("bounced", "7.00")):
        payment_of[name] = bank_payment(bill.account, amount)
    payment_services.payment_reverse(
        payment=payment_of["bounced"],
        reason="cheque devuelto",
        user=cashier("cobranza", roles.BILLING_CLERK),
    )
    answer, queries_with_four = lookup()
    assert queries_with_four == queries_with_one
    listed = {p["id"]: p for p in answer["payments"]}
    assert len(listed) == 4
    for name, amount in (("first", "10.00"), ("second", "20.00"), ("third", "5.00")):
        [paid] = listed[payment_of[name].pk]["allocation"]
        assert (paid["bill_id"], paid["amount"]) == (bill.pk, amount)
    assert listed[payment_of["bounced"].pk]["allocation"] == []
    assert {p["balance"] for p in listed.values()} == {answer["balance"]}
    assert D(answer["balance"]) == bill.total - D("35.00")
    # The same figures as a single payment's own answer.
    single = payment_answer(payment_of["second"])
    assert listed[payment_of["second"].pk]["allocation"] == single["allocation"]
    assert listed[payment_of["second"].pk]["balance"] == single["balance"]
