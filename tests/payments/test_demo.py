"""The demo city's payments: bills paid by bank, online, kiosk and at a real cash session, each
payment settled against exactly what it paid, leaving a realistic share of overdue accounts
for collections and the delinquency map."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from billing import settlement
from billing.models import AccountDelinquency
from billing.payments.models import CashSession, Payment
from billing.selectors import account_balance
from core.demo import DemoContext
from core.services import demo_city_build
from tests.conftest import rolled_back_transaction

ACCOUNTS = 1500

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    ctx = DemoContext(
        accounts=ACCOUNTS,
        seed=5,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    with rolled_back_transaction(django_db_blocker):
        demo_city_build(ctx=ctx, only=("billing.delinquency",), log=lambda _m: None)
        yield


def scalar(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_bills_are_paid_through_every_channel(city):
    channels = {
        c: Payment.objects.filter(channel=c).count() for c in ("bank", "online", "kiosk", "cashier")
    }
    assert all(channels[c] > 0 for c in ("bank", "online", "kiosk", "cashier")), channels
    assert channels["bank"] > channels["kiosk"]


def test_no_payment_settles_more_than_it_paid_nor_any_debit_more_than_it_owes(city):
    assert not scalar(
        """SELECT count(*) FROM (
             SELECT credit_id FROM billing_settlement s JOIN billing_ledgerentry c ON c.id = s.credit_id
              GROUP BY credit_id, c.amount HAVING sum(s.amount) > -c.amount) x"""
    )
    assert not scalar(
        """SELECT count(*) FROM (
             SELECT debit_id FROM billing_settlement s JOIN billing_ledgerentry d ON d.id = s.debit_id
              GROUP BY debit_id, d.amount HAVING sum(s.amount) > d.amount) x"""
    )


def test_open_items_less_free_credit_are_each_accounts_balance(city):
    sample = [
        row[0]
        for row in connection.cursor().execute(
            "SELECT DISTINCT account_id FROM payments_payment ORDER BY account_id LIMIT 60"
        )
    ]
    for account_id in sample:
        owed = sum((i.open for i in settlement.open_items(account=account_id)), Decimal(0))
        credit = sum((c.amount for c in settlement.free_credits(account=account_id)), Decimal(0))
        assert owed - credit == account_balance(account=account_id), account_id


def test_a_realistic_share_of_accounts_is_overdue_by_one_and_more_periods(city):
    billed = scalar("SELECT count(DISTINCT account_id) FROM billing_bill WHERE status = 'issued'")
    overdue = AccountDelinquency.objects.count()
    assert 0.15 * billed < overdue < 0.45 * billed
    # Of the three billed months the last may not be due yet: one or two periods past due.
    periods = set(AccountDelinquency.objects.values_list("periods_overdue", flat=True))
    assert {1, 2} <= periods


def test_the_cash_session_is_closed_and_reconciles(city):
    session = CashSession.objects.get()
    assert session.status == "closed"
    assert session.difference == Decimal("0.00")
    assert session.payments.count() > 0


def test_some_accounts_behind_signed_agreements_and_the_rest_got_tonights_actions(city):
    from billing.agreements.models import Agreement
    from billing.collection.models import CollectionAction

    current = set(Agreement.objects.filter(status="current").values_list("account_id", flat=True))
    assert current
    acted = set(CollectionAction.objects.values_list("account_id", flat=True))
    kinds = set(CollectionAction.objects.values_list("kind", flat=True))
    # Tonight's notices, and the few never-payers walked ahead down to the suspension.
    assert {"reminder", "formal_notice", "suspension", "reconnection"} <= kinds
    assert not (current & acted)  # collection pauses while an agreement is current


def test_some_never_payers_are_suspended_by_the_crews_and_some_paid_for_their_reconnection(city):
    from billing.collection.models import CollectionAction
    from cadastre.models import ServiceAccount
    from orders.models import WorkOrder

    suspended = set(ServiceAccount.objects.filter(status="suspended").values_list("pk", flat=True))
    # Suspension orders carried out and standing (not yet paid): their accounts are suspended.
    standing = set(
        CollectionAction.objects.filter(
            kind="suspension", status="issued", work_order__status="done"
        ).values_list("account_id", flat=True)
    )
    assert 5 <= len(standing) <= 100
    assert standing <= suspended
    reconnections = WorkOrder.objects.filter(source="collection", kind__code="reconnection")
    assert reconnections.filter(status="created").exists()
    # A reconnection carried out leaves its account active again.
    back = set(reconnections.filter(status="done").values_list("account_id", flat=True))
    assert back and not (back & suspended)
    statuses = set(ServiceAccount.objects.filter(pk__in=back).values_list("status", flat=True))
    assert statuses == {"active"}
