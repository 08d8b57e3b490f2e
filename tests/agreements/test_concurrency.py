"""Races on real connections: two approvals of one adjustment post once; a breach check
racing the signing of an agreement and a payment leaves the ledger whole (the account lock
orders them)."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connections
from django.utils import timezone

from billing import selectors as billing_selectors
from billing import settlement
from billing.agreements import services
from billing.agreements.errors import AgreementError
from billing.models import LedgerEntry
from core import roles
from tests.agreements.factories import JAN, debit, pay
from tests.billing.factories import add_account, town
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def race(*calls):
    gate = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            gate.wait(10)
            outcomes.append(call())
        except AgreementError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_two_approvers_at_once_post_the_adjustment_once():
    account = add_account(town(), m3=10)
    debit(account, 1, "water", "100.00", JAN)
    desk = UserFactory(username="atencion", roles=[roles.CUSTOMER_SERVICE])
    clerk = UserFactory(username="facturacion", roles=[roles.BILLING_CLERK])
    manager = UserFactory(username="gerente", roles=[roles.MANAGER])
    adjustment = services.adjustment_request(
        account=account, kind="credit_note", amount=D("30.00"), reason="other", user=desk
    )
    outcomes = race(
        lambda: services.adjustment_approve(adjustment=adjustment, user=clerk).status,
        lambda: services.adjustment_approve(adjustment=adjustment, user=manager).status,
    )
    assert sorted(outcomes) == ["approved", "not_pending"]
    assert LedgerEntry.objects.filter(document_type="adjustment").count() == 1
    assert billing_selectors.account_balance(account=account) == D("70.00")


def test_a_payment_racing_the_signing_is_applied_once_either_way():
    account = add_account(town(), m3=10)
    debit(account, 1, "water", "1000.00", JAN)
    desk = UserFactory(username="atencion", roles=[roles.CUSTOMER_SERVICE])
    first_due = timezone.localdate() + dt.timedelta(days=30)
    outcomes = race(
        lambda: (
            services.agreement_sign(
                account=account,
                down_payment=D("100.00"),
                installments=3,
                first_due_date=first_due,
                user=desk,
            ).debt
        ),
        lambda: pay(account, "100.00") and "paid",
    )
    assert "paid" in outcomes
    # Paid before signing: the debt is 900.00 and the down payment open; paid after: the
    # debt is 1,000.00 and the payment paid the down payment. The balance is 900.00 either way
    # and every credit is applied.
    assert billing_selectors.account_balance(account=account) == D("900.00")
    assert settlement.free_credits(account=account) == []
    assert sum(i.open for i in settlement.open_items(account=account)) == D("900.00")
