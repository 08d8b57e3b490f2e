"""Ledger helpers of the adjustments and agreements tests: bills' debits and payments posted
straight to the ledger (the payments app is not used here)."""

import datetime as dt
from decimal import Decimal as D

from billing import services, settlement

JAN = dt.date(2026, 1, 31)
FEB = dt.date(2026, 2, 28)


def debit(account, bill_id, concept, amount, due):
    return services.ledger_post(
        account=account,
        document_type="bill",
        document_id=bill_id,
        concept=concept,
        amount=D(amount),
        due_date=due,
    )


def pay(account, amount, payment_id=1, settle=True):
    """What the payments app does: a negative payment entry, then settle the account."""
    entry = services.ledger_post(
        account=account,
        document_type="payment",
        document_id=payment_id,
        concept="payment",
        amount=-D(amount),
    )
    if settle:
        settlement.settle_account(account=account)
    return entry


def opened(account):
    return {
        (i.document_type, i.document_id, i.concept): i.open
        for i in settlement.open_items(account=account)
    }
