"""Open items: what of each debit is still owed, and which credit paid it.

The ledger says how much an account owes; settlements say *what* is owed. Each debit entry
(a bill's concept, a debit note, an installment) is an open item until credits (payments,
credit notes, an agreement's transfer) settle it; :class:`billing.models.Settlement` keeps
which credit paid which debit and how much.

The rules, in one place:

- An entry that was reversed, and the reversal itself, are neither open nor credit: the pair
  sums to zero. A settlement counts only while neither of its entries is reversed, so
  reversing a bounced payment re-opens exactly what it paid, and reversing a bill frees the
  credit that had paid it (it becomes free credit again).
- A document's own credits (a bill's discount, a negative rounding) pay that document first;
  they are netted here, not stored as settlements.
- Free credit pays the oldest debt first: debits by due date (no due date: the day posted),
  then by the configured order of concepts (``settings.CAUDAL_SETTLEMENT_CONCEPT_ORDER``,
  default :data:`DEFAULT_CONCEPT_ORDER`: surcharges before the water they were charged on,
  VAT with its concepts last), then by entry. Older credits are applied first.
- Credit left after every debit is paid stays free (an overpayment is a credit balance) and
  is applied by the next :func:`settle_account` (a later payment or bill).

An account's items are few (tens to hundreds of entries), so they are worked out in Python
per account under a per-account lock; whole-set figures (aging of every account) are SQL
over the same rule at document level, where the netting is a plain sum (see
:func:`billing.selectors.account_aging`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from billing.models import LedgerEntry, Settlement
from gis_core.sql import execute

ZERO = Decimal("0.00")
# pg_advisory_xact_lock(class, account id): one writer of an account's settlements at a time.
LOCK_CLASS = 9

DEFAULT_CONCEPT_ORDER = (
    "surcharge",
    "interest",
    "installment",
    "fixed",
    "flat",
    "water",
    "sewer",
    "sanitation",
    "connection",
    "adjustment",
    "rounding",
    "discount",
    "vat",
)


@dataclass
class OpenItem:
    entry_id: int
    document_type: str
    document_id: int
    concept: str
    amount: Decimal
    due_date: dt.date
    open: Decimal


@dataclass
class FreeCredit:
    entry_id: int
    document_type: str
    document_id: int
    concept: str
    amount: Decimal  # positive: how much of the credit is not applied
    posted_at: dt.datetime


def concept_rank() -> dict[str, int]:
    order = getattr(settings, "CAUDAL_SETTLEMENT_CONCEPT_ORDER", DEFAULT_CONCEPT_ORDER)
    return {concept: rank for rank, concept in enumerate(order)}


def lock_account(account_id: int) -> None:
    """The per-account settlement lock (transaction-scoped); callers that post and settle in
    one transaction take it before posting so the order is always lock → post → settle."""
    execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, account_id])


def _live_entries(account_id: int) -> list[LedgerEntry]:
    """The account's entries that are neither reversed nor reversals."""
    return list(
        LedgerEntry.objects.filter(account_id=account_id, reversal_of__isnull=True)
        .exclude(reversed_by__isnull=False)
        .order_by("posted_at", "pk")
    )


def _live_settlements(account_id: int) -> list[Settlement]:
    return list(
        Settlement.objects.filter(account_id=account_id)
        .exclude(debit__reversed_by__isnull=False)
        .exclude(credit__reversed_by__isnull=False)
    )


def _position(account_id: int) -> tuple[list[OpenItem], list[FreeCredit]]:
    entries = _live_entries(account_id)
    settled_debit: dict[int, Decimal] = defaultdict(lambda: ZERO)
    used_credit: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for s in _live_settlements(account_id):
        settled_debit[s.debit_id] += s.amount
        used_credit[s.credit_id] += s.amount

    rank = concept_rank()
    last = len(rank)

    def order(item: OpenItem):
        return (item.due_date, rank.get(item.concept, last), item.entry_id)

    by_document: dict[tuple[str, int], list[LedgerEntry]] = defaultdict(list)
    for e in entries:
        by_document[(e.document_type, e.document_id)].append(e)

    items: list[OpenItem] = []
    credits: list[FreeCredit] = []
    for (doc_type, doc_id), doc_entries in by_document.items():
        debits = [e for e in doc_entries if e.amount > 0]
        doc_items = sorted(
            (
                OpenItem(
                    e.pk,
                    doc_type,
                    doc_id,
                    e.concept,
                    e.amount,
                    e.due_date or e.posted_at.date(),
                    e.amount - settled_debit[e.pk],
                )
                for e in debits
            ),
            key=order,
        )
        for e in doc_entries:
            if e.amount >= 0:
                continue
            left = -e.amount - used_credit[e.pk]
            if debits:
                # A document's own credit (a bill's discount) pays that document first.
                for item in doc_items:
                    take = min(left, item.open)
                    item.open -= take
                    left -= take
            if left > 0:
                credits.append(FreeCredit(e.pk, doc_type, doc_id, e.concept, left, e.posted_at))
        items.extend(i for i in doc_items if i.open > 0)
    items.sort(key=order)
    credits.sort(key=lambda c: (c.posted_at, c.entry_id))
    return items, credits


def open_items(*, account) -> list[OpenItem]:
    """The account's debits still owed (``open`` > 0), in the order credit pays them."""
    return _position(getattr(account, "pk", account))[0]


def free_credits(*, account) -> list[FreeCredit]:
    """The account's credits not applied to any debit, oldest first."""
    return _position(getattr(account, "pk", account))[1]


def _apply(account_id: int, credit: FreeCredit, items: list[OpenItem]) -> list[Settlement]:
    made = []
    left = credit.amount
    for item in items:
        if left <= 0:
            break
        take = min(left, item.open)
        if take <= 0:
            continue
        made.append(
            Settlement(
                account_id=account_id,
                debit_id=item.entry_id,
                credit_id=credit.entry_id,
                amount=take,
            )
        )
        item.open -= take
        left -= take
    return made


@transaction.atomic
def settle_account(*, account) -> list[Settlement]:
    """Apply the account's free credits, oldest first, to its open debits, oldest debt first.
    Returns the settlements written (none when nothing is both owed and paid)."""
    account_id = getattr(account, "pk", account)
    lock_account(account_id)
    items, credits = _position(account_id)
    made: list[Settlement] = []
    for credit in credits:
        made += _apply(account_id, credit, items)
        items = [i for i in items if i.open > 0]
        if not items:
            break
    return Settlement.objects.bulk_create(made)


@transaction.atomic
def settle_credit(*, credit: LedgerEntry, debits: list[LedgerEntry]) -> list[Settlement]:
    """Apply one credit to the given debits only, in their order as the rules rank them (a
    credit note against the bill it corrects). What the debits cannot take stays free."""
    lock_account(credit.account_id)
    items, credits = _position(credit.account_id)
    wanted = {d.pk for d in debits}
    mine = [c for c in credits if c.entry_id == credit.pk]
    if not mine:
        return []
    made = _apply(credit.account_id, mine[0], [i for i in items if i.entry_id in wanted])
    return Settlement.objects.bulk_create(made)


def settled_by_credit(*, credit: LedgerEntry) -> list[Settlement]:
    """What one credit paid (live settlements), with the debit entries, oldest debt first."""
    return settled_by_credits(credit_ids=[credit.pk]).get(credit.pk, [])


def settled_by_credits(*, credit_ids) -> dict[int, list[Settlement]]:
    """What each of several credits paid, in one query: {credit id: its live settlements,
    with the debit entries, oldest debt first}; a credit that paid nothing is absent."""
    paid: dict[int, list[Settlement]] = {}
    for settlement in (
        Settlement.objects.filter(credit_id__in=list(credit_ids))
        .exclude(debit__reversed_by__isnull=False)
        .exclude(credit__reversed_by__isnull=False)
        .select_related("debit")
        .order_by("credit_id", "debit__due_date", "debit_id")
    ):
        paid.setdefault(settlement.credit_id, []).append(settlement)
    return paid
