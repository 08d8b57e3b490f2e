"""Reads of payments: what a payment paid, payments of an account, a session or a day, and the
account look-up of the cashier window and the kiosk."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from billing.models import LIVE_BILL, Bill
from billing.payments.models import CashSession, Payment
from billing.settlement import open_items, settled_by_credits
from cadastre.models import ServiceAccount

# Account id (10 digits) + period (YYMM) + 2 check digits: 16 digits (more once ids outgrow 10).
REFERENCE_RE = re.compile(r"^\d{16,20}$")


def reference_is_valid(reference: str) -> bool:
    """ISO 7064 MOD 97-10 check of a bill's payment reference (14 digits + 2 check
    digits, see billing.services): the whole number modulo 97 is 1."""
    return bool(REFERENCE_RE.match(reference or "")) and int(reference) % 97 == 1


@dataclass
class Allocation:
    bill_id: int | None
    document_type: str
    document_id: int
    concept: str
    amount: Decimal


def payment_allocation(*, payment: Payment) -> list[Allocation]:
    """What the payment paid (live settlements), oldest debt first: bill (when the debit is a
    bill's), concept and amount. Empty once the payment is reversed."""
    return payment_allocations(payments=[payment]).get(payment.pk, [])


def payment_allocations(*, payments) -> dict[int, list[Allocation]]:
    """:func:`payment_allocation` of several payments in one query: {payment id: allocation}
    (every payment is a key; a reversed or unposted one has an empty list)."""
    payments = list(payments)
    paid = settled_by_credits(
        credit_ids=[p.ledger_entry_id for p in payments if p.ledger_entry_id is not None]
    )
    return {
        payment.pk: [
            Allocation(
                bill_id=s.debit.document_id if s.debit.document_type == "bill" else None,
                document_type=s.debit.document_type,
                document_id=s.debit.document_id,
                concept=s.debit.concept,
                amount=s.amount,
            )
            for s in paid.get(payment.ledger_entry_id, [])
        ]
        for payment in payments
    }


def payments_of_account(*, account, limit: int = 100):
    return Payment.objects.filter(account_id=getattr(account, "pk", account)).order_by(
        "-received_at", "-pk"
    )[:limit]


def payments_of_session(*, session: CashSession):
    return Payment.objects.filter(cash_session=session).order_by("received_at", "pk")


def payments_of_day(*, day: dt.date, channel: str | None = None):
    """Payments received on ``day`` (the utility's local day)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    payments = Payment.objects.filter(
        received_at__gte=start, received_at__lt=start + dt.timedelta(days=1)
    )
    if channel:
        payments = payments.filter(channel=channel)
    return payments.order_by("received_at", "pk")


def bill_by_reference(reference: str) -> Bill | None:
    """The latest bill carrying ``reference`` (a corrected bill keeps its reference)."""
    return (
        Bill.objects.filter(payment_reference=reference)
        .select_related("account")
        .order_by("-id")
        .first()
    )


def account_find(*, query: str) -> ServiceAccount | None:
    """The account of an account number or of a bill's payment reference."""
    query = (query or "").strip()
    if not query:
        return None
    account = ServiceAccount.objects.filter(number=query).first()
    if account is None and reference_is_valid(query):
        bill = bill_by_reference(query)
        account = bill.account if bill else None
    return account


def last_bill(*, account) -> Bill | None:
    return (
        Bill.objects.filter(LIVE_BILL, account_id=getattr(account, "pk", account))
        .select_related("period")
        .order_by("-period__starts_on", "-id")
        .first()
    )


def initials(name: str) -> str:
    """ "Juana Pérez López" → "J. P. L.": what the kiosk may show of a customer."""
    return " ".join(f"{part[0].upper()}." for part in (name or "").split() if part[:1].isalpha())


def open_items_of(*, account):
    """The account's open items for the window (see billing.settlement.open_items)."""
    return open_items(account=account)
