"""Accounts with debts for the payments tests: ledger debits like a bill's (document "bill",
due dates), real billed bills when a payment reference is needed, users of a role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from billing import services as billing_services
from billing.models import Bill
from billing.payments import services
from billing.payments.models import Channel, Method
from core import roles
from tests.billing.factories import add_account, town
from tests.factories import UserFactory

JAN = dt.date(2026, 1, 31)
FEB = dt.date(2026, 2, 28)
MAR = dt.date(2026, 3, 31)


def debit(account, bill_id, concept, amount, due):
    """A receivable like a bill's concept (document "bill" ``bill_id``, due on ``due``)."""
    return billing_services.ledger_post(
        account=account,
        document_type="bill",
        document_id=bill_id,
        concept=concept,
        amount=D(amount),
        due_date=due,
    )


def cashier(username="cajera", role=roles.CASHIER):
    return UserFactory(username=username, roles=[role])


def bank_payment(account, amount, **kwargs):
    return services.payment_post(
        account=account,
        amount=D(amount),
        channel=Channel.BANK,
        method=kwargs.pop("method", Method.TRANSFER),
        **kwargs,
    )


def billed_town(n_accounts=2):
    """A town whose current period is billed: ``n_accounts`` accounts, each with one issued
    bill (its payment reference valid) and its ledger entries."""
    t = town()
    for i in range(n_accounts):
        add_account(t, m3=10 + i)
    run = billing_services.billing_run_start(period=t.period, enqueue=False)
    billing_services.billing_run_execute(run_id=run.pk)
    bills = list(Bill.objects.filter(status="issued").order_by("account_id"))
    return t, bills
