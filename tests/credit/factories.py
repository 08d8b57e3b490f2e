"""Situations of credit control: debts, payments, promises and agreements on accounts."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

from django.utils import timezone

from billing.credit.models import CollectionContact, PaymentPromise
from billing.models import LedgerEntry

ON = dt.date(2026, 6, 1)
_documents = itertools.count(1)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def debt(account, amount, *, due: dt.date, posted: dt.date | None = None) -> LedgerEntry:
    """A bill's charge of ``amount`` falling due on ``due``."""
    return LedgerEntry.objects.create(
        account=account,
        document_type="bill",
        document_id=next(_documents),
        concept="water",
        amount=D(str(amount)),
        due_date=due,
        posted_at=at(posted or due - dt.timedelta(days=15)),
    )


def payment(account, amount, *, when: dt.datetime) -> LedgerEntry:
    return LedgerEntry.objects.create(
        account=account,
        document_type="payment",
        document_id=next(_documents),
        concept="payment",
        amount=-D(str(amount)),
        posted_at=when,
    )


def broken_promise(account, collector, *, decided: dt.date) -> PaymentPromise:
    contact = CollectionContact.objects.create(
        account=account,
        collector=collector,
        kind="call",
        result="promise",
        at=at(decided - dt.timedelta(days=10)),
    )
    return PaymentPromise.objects.create(
        account=account,
        contact=contact,
        promised_date=decided - dt.timedelta(days=1),
        amount=D("100.00"),
        status="broken",
        created_at=contact.at,
        decided_at=at(decided),
    )


def breached_agreement(account, user, *, closed: dt.date):
    from billing.agreements.models import Agreement

    return Agreement.objects.create(
        account=account,
        debt=D("1000.00"),
        due_before=closed - dt.timedelta(days=200),
        down_payment=D("100.00"),
        installments=6,
        monthly_rate=D("0.01"),
        first_due_date=closed - dt.timedelta(days=150),
        grace_days=15,
        status="breached",
        signed_by=user,
        signed_at=at(closed - dt.timedelta(days=180)),
        closed_at=at(closed),
        closed_by=user,
        close_reason="incumplimiento",
    )
