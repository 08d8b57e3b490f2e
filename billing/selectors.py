"""Reads of billing: balances and statements from the ledger, bills, runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Sum, Window
from django.db.models.functions import RowNumber

from billing.models import Bill, BillStatus, LedgerEntry
from billing.settlement import free_credits, open_items
from gis_core.sql import fetchone


def account_balance(*, account, at: dt.datetime | None = None) -> Decimal:
    """What the account owes (positive) or has in its favour (negative): the ledger's sum."""
    entries = LedgerEntry.objects.filter(account_id=getattr(account, "pk", account))
    if at is not None:
        entries = entries.filter(posted_at__lte=at)
    return entries.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


def account_balances(*, account_ids) -> dict[int, Decimal]:
    """Balances of several accounts in one aggregate (accounts without entries are absent)."""
    return dict(
        LedgerEntry.objects.filter(account_id__in=list(account_ids))
        .values_list("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )


def account_statement(*, account, limit: int = 200):
    """The account's ledger entries, newest first."""
    return LedgerEntry.objects.filter(account_id=getattr(account, "pk", account)).order_by(
        "-posted_at", "-pk"
    )[:limit]


def account_aging(*, account, on: dt.date) -> dict[str, Decimal]:
    """The balance split by how long ago its open items fell due (see billing.settlement):
    free credit (an unapplied overpayment) pays the oldest items first. Keys: current, 1-30,
    31-60, 61-90, 90+."""
    buckets = {k: Decimal("0.00") for k in ("current", "1-30", "31-60", "61-90", "90+")}
    credit = sum((c.amount for c in free_credits(account=account)), Decimal("0.00"))
    for item in open_items(account=account):
        applied = min(item.open, credit)
        credit -= applied
        left = item.open - applied
        days = (on - item.due_date).days
        key = (
            "current"
            if days <= 0
            else "1-30"
            if days <= 30
            else "31-60"
            if days <= 60
            else "61-90"
            if days <= 90
            else "90+"
        )
        buckets[key] += left
    return buckets


def bills_held(*, run=None):
    bills = Bill.objects.filter(status=BillStatus.HELD).select_related("account")
    if run is not None:
        bills = bills.filter(run=run)
    return bills.order_by("account_id")


def bill_lines_digest(*, period) -> str:
    """md5 of every line of the live bills of a period, by account (ids and times left out):
    two runs that billed the same accounts the same way have the same digest."""
    return fetchone(
        """SELECT md5(coalesce(string_agg(concat_ws('|', b.account_id, b.status,
                     b.hold_reason, b.previous_balance, b.total, b.payment_reference,
                     l.seq, l.concept, l.quantity, l.unit_price, l.amount, l.tax),
                     ';' ORDER BY b.account_id, l.seq), ''))
             FROM billing_bill b LEFT JOIN billing_billline l ON l.bill_id = b.id
            WHERE b.period_id = %s AND b.status IN ('issued', 'held')""",
        [getattr(period, "pk", period)],
    )[0]


def recent_bills_and_payments(*, account_ids, limit: int = 6) -> tuple[dict, dict]:
    """The last ``limit`` bills and payments of each account, newest first, money as strings:
    ``({account_id: [bill…]}, {account_id: [payment…]})``. Payments are the ledger's payment
    credits, whatever window took them; a reversed one (a bounced cheque) says so. Meant for a
    customer's few accounts (the 360° view), not for whole sets; the database keeps only the
    last ``limit`` rows of each account (a row number per account), not years of history."""
    ids = list(account_ids)

    def newest_first(*order):
        return Window(RowNumber(), partition_by=[F("account_id")], order_by=list(order))

    bills: dict[int, list] = {}
    for b in (
        Bill.objects.filter(account_id__in=ids)
        .select_related("period")
        .annotate(rank=newest_first(F("period__starts_on").desc(), F("pk").desc()))
        .filter(rank__lte=limit)
        .order_by("account_id", "-period__starts_on", "-pk")
    ):
        bills.setdefault(b.account_id, []).append(
            {
                "id": b.pk,
                "period": b.period.code,
                "total": str(b.total),
                "due_date": b.due_date,
                "status": b.status,
                "reference": b.payment_reference,
            }
        )
    payments: dict[int, list] = {}
    for e in (
        LedgerEntry.objects.filter(
            account_id__in=ids, document_type="payment", reversal_of__isnull=True
        )
        .annotate(
            rank=newest_first(F("posted_at").desc(), F("pk").desc()),
            reversed=Exists(LedgerEntry.objects.filter(reversal_of=OuterRef("pk"))),
        )
        .filter(rank__lte=limit)
        .order_by("account_id", "-posted_at", "-pk")
    ):
        payments.setdefault(e.account_id, []).append(
            {
                "posted_at": e.posted_at,
                "amount": str(-e.amount),
                "payment": e.document_id,
                "reversed": e.reversed,
            }
        )
    return bills, payments
