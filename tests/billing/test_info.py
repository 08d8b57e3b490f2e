"""billing.info: the parcel's accounts with their ledger balance in the map's info panel; the
360° view carries the same balances."""

from decimal import Decimal

import pytest

from billing.services import ledger_post
from core import roles
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_info_panel_shows_each_accounts_balance_to_billing_staff(client):
    account = ServiceAccountFactory(number="000777")
    other = ServiceAccountFactory(parcel=account.parcel, customer=account.customer, number="000778")
    ledger_post(
        account=account,
        document_type="adjustment",
        document_id=1,
        concept="water",
        amount=Decimal("150.50"),
    )
    ledger_post(
        account=account,
        document_type="adjustment",
        document_id=2,
        concept="water",
        amount=Decimal("-50.25"),
    )
    client.force_login(UserFactory(username="facturacion", roles=[roles.BILLING_CLERK]))
    point = account.parcel.geom.point_on_surface.transform(4326, clone=True)
    body = client.get("/api/map/info/", {"lon": point.x, "lat": point.y}).json()
    section = next(s for s in body["sections"] if s["key"] == "balance")
    rows = {r["account"]: r for r in section["tables"][0]["rows"]}
    assert rows["000777"]["balance"] == "100.25"
    assert rows[other.number]["balance"] == "0.00" and rows[other.number]["last_bill"] == "—"


def test_the_360_view_carries_the_balance(client):
    account = ServiceAccountFactory()
    ledger_post(
        account=account,
        document_type="adjustment",
        document_id=1,
        concept="water",
        amount=Decimal("80.00"),
    )
    client.force_login(UserFactory(username="ventanilla", roles=[roles.CUSTOMER_SERVICE]))
    (row,) = client.get(f"/api/orders/customers/{account.customer_id}/overview/").json()["accounts"]
    assert row["balance"] == "80.00"


def test_meter_readers_see_no_balances(client):
    account = ServiceAccountFactory()
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    point = account.parcel.geom.point_on_surface.transform(4326, clone=True)
    body = client.get("/api/map/info/", {"lon": point.x, "lat": point.y}).json()
    assert "balance" not in [s["key"] for s in body["sections"]]


def test_the_360_view_lists_the_bills_and_the_payments_a_bounced_one_marked(client):
    from billing import services
    from billing.models import Bill
    from tests.billing.factories import add_account, town

    account = add_account(town(), m3=12)
    run = services.billing_run_start(period=account.consumptions.get().period, enqueue=False)
    services.billing_run_execute(run_id=run.pk)
    bill = Bill.objects.get(account=account)
    cheque = ledger_post(
        account=account,
        document_type="payment",
        document_id=41,
        concept="payment",
        amount=Decimal("-100.00"),
    )
    services.ledger_reverse(entry=cheque, note="cheque devuelto")
    ledger_post(
        account=account,
        document_type="payment",
        document_id=42,
        concept="payment",
        amount=Decimal("-60.00"),
    )
    client.force_login(UserFactory(username="ventanilla", roles=[roles.CUSTOMER_SERVICE]))
    (row,) = client.get(f"/api/orders/customers/{account.customer_id}/overview/").json()["accounts"]
    assert [(b["id"], b["total"], b["reference"]) for b in row["bills"]] == [
        (bill.pk, str(bill.total), bill.payment_reference)
    ]
    assert [(p["payment"], p["amount"], p["reversed"]) for p in row["payments"]] == [
        (42, "60.00", False),
        (41, "100.00", True),
    ]
