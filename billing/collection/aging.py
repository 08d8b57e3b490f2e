"""Aging of every account in one SQL statement, by the rules of :mod:`billing.settlement`.

Why raw SQL: aging is read for a million accounts at once (the nightly evaluation, the
report by sector); the per-account Python of ``billing.settlement`` would be a loop over every
account. The statement follows the same rules, and a test pins it to
:func:`billing.selectors.account_aging` on crafted ledgers:

- live entries only: an entry that was reversed, and the reversal, are left out;
- a debit's open amount is its amount less its *live* settlements (neither side reversed);
- a document's own unsettled credits (a bill's discount) pay that document's debits first, in
  the order the rules rank them (due date, ``CAUDAL_SETTLEMENT_CONCEPT_ORDER``, entry);
- what is left of the credits (free credit: an overpayment, a credit note not applied yet)
  pays the account's oldest open debits first (a running sum over the same order);
- an item's due date is its ``due_date`` or, without one, the day it was posted (UTC, as in
  ``billing.settlement``).

How it stays fast: most accounts have no unapplied credit at all, and then no ordering
matters — an item's open amount is simply its amount less its settlements. So one pass over
the ledger (joined to the live settlements per debit) sums the open amounts by account and
bucket, then by account (distinct documents are counted within a bucket: a period's due
date puts it in exactly one); it also yields each account's unapplied credit (credits less
what they settled). Only the accounts with unapplied credit *and* something owed (bills with
a discount, a payment not applied yet) are recomputed exactly with running sums, reading
their entries through the account index; unapplied credit with nothing owed changes no bucket
(an overpayment stays a credit balance).

The summary (``detail=False``: amounts by bucket, no per-period figures — the report by
sector) skips the join of every debit to its settlements: a settlement carries its debit's
due date (``Settlement.debit_due``, set by the table's trigger), so the open amount of a
bucket is the debits' sum less the settlements' sum there, both summed in one pass. A bill's
own credits (discounts, rounding down: the billing run posts them with the bill's due date)
net inside the bill's bucket, which is the rule as long as a bill's credits never exceed its
charges; the accounts where that or "free credit is used up" may not hold (free credit and
debt at once, a bill's debit reversed alone, an own credit settled elsewhere, a bucket below
zero) go through the exact path like the detailed statement's. Tests pin both statements to
the per-account rule.

Figures per account, as of ``day`` (a date in the utility's zone): ``balance`` (the ledger's
sum), ``current`` (not yet due), the overdue amounts by days past due ``d0_30`` (1-30),
``d31_60``, ``d61_90``, ``d91_180``, ``d180`` (more than 180), ``overdue`` (their sum),
``oldest_due`` / ``newest_due`` of the overdue debt, ``days_overdue`` (since the oldest:
overall) and ``recent_days`` (since the newest), and ``periods`` — the number of overdue
periods: distinct (document, due date) pairs still owed, so a bill is one period and each
installment of an agreement one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from billing.settlement import concept_rank

ZERO = Decimal("0.00")
BUCKETS = ("d0_30", "d31_60", "d61_90", "d91_180", "d180")
BUCKET_LABELS = {
    "current": "current",
    "d0_30": "0-30",
    "d31_60": "31-60",
    "d61_90": "61-90",
    "d91_180": "91-180",
    "d180": "180+",
}
COLUMNS = (
    "account_id",
    "balance",
    "current",
    *BUCKETS,
    "overdue",
    "oldest_due",
    "newest_due",
    "days_overdue",
    "recent_days",
    "periods",
)


def _bucket(due: str) -> str:
    """0: not yet due; 1..5: 1-30, 31-60, 61-90, 91-180, more than 180 days past due; null
    for credits (no due date)."""
    return f"""CASE WHEN {due} IS NULL THEN NULL
                WHEN {due} >= %(day)s::date THEN 0
                WHEN %(day)s::date - {due} <= 30 THEN 1
                WHEN %(day)s::date - {due} <= 60 THEN 2
                WHEN %(day)s::date - {due} <= 90 THEN 3
                WHEN %(day)s::date - {due} <= 180 THEN 4
                ELSE 5 END"""


def _figures(amount: str, due: str, bucket: str) -> str:
    """The per-account aggregates over rows with an ``amount`` still owed falling due on
    ``due`` in ``bucket`` (the exact pass; one row per period there)."""
    owed = f"{amount} > 0 AND {bucket} > 0"
    return f"""
        coalesce(sum({amount}) FILTER (WHERE {bucket} = 0), 0) AS current,
        coalesce(sum({amount}) FILTER (WHERE {bucket} = 1), 0) AS d0_30,
        coalesce(sum({amount}) FILTER (WHERE {bucket} = 2), 0) AS d31_60,
        coalesce(sum({amount}) FILTER (WHERE {bucket} = 3), 0) AS d61_90,
        coalesce(sum({amount}) FILTER (WHERE {bucket} = 4), 0) AS d91_180,
        coalesce(sum({amount}) FILTER (WHERE {bucket} = 5), 0) AS d180,
        min({due}) FILTER (WHERE {owed}) AS oldest_due,
        max({due}) FILTER (WHERE {owed}) AS newest_due,
        count(*) FILTER (WHERE {owed}) AS periods"""


def aging_sql(*, day: dt.date, account_ids=None, detail: bool = True) -> tuple[str, dict]:
    """The statement (and its parameters) giving one row per account with ledger entries
    (only ``account_ids`` when given), columns :data:`COLUMNS`. Callers may wrap it
    (``WITH aging AS (…)``) to group or filter it further in the database.

    ``detail=False`` (the summary: amounts by bucket, what a report by sector shows) leaves
    ``oldest_due``, ``newest_due``, ``days_overdue``, ``recent_days`` and ``periods`` null
    and is cheaper: the amounts are sums of ledger rows and of settlement rows by the
    bucket of the debit's due date (``Settlement.debit_due``), with no join between them —
    an item's open amount is linear in its settlements — while the per-period figures need
    each debit's own open amount."""
    rank = concept_rank()
    concepts = sorted(rank, key=rank.get)
    only = account_ids is not None
    params = {
        "day": day,
        "concepts": concepts,
        "last": len(concepts),
        "ids": list(account_ids) if only else None,
    }

    def scope(alias: str) -> str:
        return f"AND {alias}.account_id = ANY(%(ids)s::bigint[])" if only else ""

    entries = f"""
      FROM billing_ledgerentry e
      LEFT JOIN sd ON sd.id = e.id
     CROSS JOIN LATERAL (
           SELECT CASE WHEN e.amount > 0
                       THEN coalesce(e.due_date, (e.posted_at AT TIME ZONE 'UTC')::date)
                       END AS due,
                  CASE WHEN e.amount > 0 THEN e.amount - coalesce(sd.amt, 0) ELSE 0 END AS open
          ) x
     CROSS JOIN LATERAL (SELECT {_bucket("x.due")} AS b) y
     WHERE e.reversal_of_id IS NULL AND e.id NOT IN (SELECT id FROM rev) {scope("e")}"""  # noqa: S608
    acc_detail = f"""ab AS (
    -- One pass over the live entries, each with what is still open of it, summed per
    -- account and bucket (few aggregates per row: the cost of a pass is theirs)…
    SELECT e.account_id, y.b,
           sum(e.amount) AS net,
           sum(x.open) AS open,
           sum(coalesce(sd.amt, 0)) AS settled,
           min(x.due) FILTER (WHERE x.open > 0) AS oldest,
           max(x.due) FILTER (WHERE x.open > 0) AS newest,
           count(DISTINCT (e.document_type, e.document_id, x.due))
               FILTER (WHERE x.open > 0) AS periods
      {entries}
     GROUP BY e.account_id, y.b
),
acc AS MATERIALIZED (
    -- … then per account. Credits are the rows without a bucket.
    SELECT account_id,
           sum(net) AS balance,
           -- Credits not applied to any debit: only these make the order of items matter.
           -coalesce(sum(net) FILTER (WHERE b IS NULL), 0) - sum(settled) AS loose,
           coalesce(sum(open) FILTER (WHERE b = 0), 0) AS current,
           coalesce(sum(open) FILTER (WHERE b = 1), 0) AS d0_30,
           coalesce(sum(open) FILTER (WHERE b = 2), 0) AS d31_60,
           coalesce(sum(open) FILTER (WHERE b = 3), 0) AS d61_90,
           coalesce(sum(open) FILTER (WHERE b = 4), 0) AS d91_180,
           coalesce(sum(open) FILTER (WHERE b = 5), 0) AS d180,
           min(oldest) FILTER (WHERE b > 0) AS oldest_due,
           max(newest) FILTER (WHERE b > 0) AS newest_due,
           coalesce(sum(periods) FILTER (WHERE b > 0), 0)::bigint AS periods,
           -- Unapplied credit (a bill's discount too) with something owed: order matters.
           -coalesce(sum(net) FILTER (WHERE b IS NULL), 0) - sum(settled) > 0
               AND coalesce(sum(open) FILTER (WHERE b IS NOT NULL), 0) > 0 AS exact
      FROM ab
     GROUP BY account_id
),
"""  # noqa: S608
    debit_due = (
        "CASE WHEN e.amount > 0"
        " THEN coalesce(e.due_date, (e.posted_at AT TIME ZONE 'UTC')::date) END"
    )
    own_due = "CASE WHEN e.amount < 0 THEN e.due_date END"
    acc_summary = f"""sum_acc AS (
    -- The ledger's live rows and the live settlements summed per account in one pass over
    -- both tables (one level of grouping: the cost of a pass is its aggregates). A debit
    -- opens its amount in its due date's bucket; a settlement closes what it paid in its
    -- debit's bucket; a document's own credit (a bill's discount: a credit with the bill's
    -- due date) nets in that same bucket, as it pays its own bill first; other credits are
    -- free credit, which the settlements should have used up.
    SELECT account_id,
           sum(net) AS balance,
           sum(free) - sum(settled) AS loose,
           coalesce(sum(open) FILTER (WHERE b = 0), 0) AS current,
           coalesce(sum(open) FILTER (WHERE b = 1), 0) AS d0_30,
           coalesce(sum(open) FILTER (WHERE b = 2), 0) AS d31_60,
           coalesce(sum(open) FILTER (WHERE b = 3), 0) AS d61_90,
           coalesce(sum(open) FILTER (WHERE b = 4), 0) AS d91_180,
           coalesce(sum(open) FILTER (WHERE b = 5), 0) AS d180
      FROM (
        SELECT e.account_id, {_bucket(f"coalesce({debit_due}, {own_due})")} AS b,
               e.amount AS net,
               CASE WHEN e.amount > 0 OR e.due_date IS NOT NULL THEN e.amount ELSE 0 END
                   AS open,
               CASE WHEN e.amount < 0 AND e.due_date IS NULL THEN -e.amount ELSE 0 END AS free,
               0 AS settled
          FROM billing_ledgerentry e
         WHERE e.reversal_of_id IS NULL AND e.id NOT IN (SELECT id FROM rev) {scope("e")}
        UNION ALL
        SELECT s.account_id, {_bucket("s.debit_due")}, 0, -s.amount, 0, s.amount
          FROM billing_settlement s
         WHERE s.debit_id NOT IN (SELECT id FROM rev) AND s.credit_id NOT IN (SELECT id FROM rev)
               {scope("s")}
      ) u
     GROUP BY account_id
),
acc AS MATERIALIZED (
    -- Netting a document's own credit inside its bucket and ignoring free credit are exact
    -- while every bill's credits stay within its charges (a bill's total is never negative)
    -- and free credit is used up or nothing is owed. Otherwise — free credit and debt at
    -- once, a credit settled beyond that (an own credit left over), a debit reversed in the
    -- account (a bill line reversed alone leaves its discount over; a reversed payment only
    -- frees credit, counted above), a bucket below zero — the account takes the exact path.
    SELECT a.*, NULL::date AS oldest_due, NULL::date AS newest_due, NULL::bigint AS periods,
           (a.loose > 0 AND a.current + a.d0_30 + a.d31_60 + a.d61_90 + a.d91_180 + a.d180 > 0)
           OR a.loose < 0
           OR least(a.current, a.d0_30, a.d31_60, a.d61_90, a.d91_180, a.d180) < 0
           OR a.account_id IN (SELECT account_id FROM rev WHERE of_debit) AS exact
      FROM sum_acc a
),
"""  # noqa: S608
    acc = acc_detail if detail else acc_summary
    per_period = (
        """oldest_due, newest_due,
       coalesce(%(day)s::date - oldest_due, 0) AS days_overdue,
       coalesce(%(day)s::date - newest_due, 0) AS recent_days,
       periods"""
        if detail
        else "NULL::date, NULL::date, NULL::int, NULL::int, NULL::bigint"
    )
    sql = f"""
WITH rev AS MATERIALIZED (
    -- Entries that were reversed (few): neither they nor their reversals count.
    SELECT r.reversal_of_id AS id, r.account_id, r.amount < 0 AS of_debit
      FROM billing_ledgerentry r
     WHERE r.reversal_of_id IS NOT NULL {scope("r")}
),
sd AS (
    -- Live settlements per debit: what credits paid of it.
    SELECT s.debit_id AS id, sum(s.amount) AS amt
      FROM billing_settlement s
     WHERE s.debit_id NOT IN (SELECT id FROM rev) AND s.credit_id NOT IN (SELECT id FROM rev)
           {scope("s")}
     GROUP BY s.debit_id
),
{acc}cx_ids AS (
    SELECT coalesce(array_agg(account_id), '{{}}') AS ids FROM acc WHERE exact
),
cx_e AS (
    SELECT e.id, e.account_id, e.document_type, e.document_id, e.amount,
           coalesce(e.due_date, (e.posted_at AT TIME ZONE 'UTC')::date) AS due,
           coalesce(array_position(%(concepts)s::text[], e.concept::text) - 1, %(last)s) AS rank
      FROM billing_ledgerentry e
     WHERE e.account_id = ANY((SELECT ids FROM cx_ids)::bigint[]) AND e.reversal_of_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r WHERE r.reversal_of_id = e.id)
),
cx_s AS (
    SELECT s.debit_id, s.credit_id, s.amount
      FROM billing_settlement s
     WHERE s.account_id = ANY((SELECT ids FROM cx_ids)::bigint[])
       AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r WHERE r.reversal_of_id = s.debit_id)
       AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r WHERE r.reversal_of_id = s.credit_id)
),
cx_sd AS (SELECT debit_id AS id, sum(amount) AS amt FROM cx_s GROUP BY debit_id),
cx_sc AS (SELECT credit_id AS id, sum(amount) AS amt FROM cx_s GROUP BY credit_id),
cx_items AS (
    SELECT e.id, e.account_id, e.document_type, e.document_id, e.due, e.rank,
           e.amount > 0 AS is_debit,
           CASE WHEN e.amount > 0 THEN e.amount - coalesce(sd.amt, 0) ELSE 0 END AS open,
           CASE WHEN e.amount < 0 THEN -e.amount - coalesce(sc.amt, 0) ELSE 0 END AS loose
      FROM cx_e e
      LEFT JOIN cx_sd sd ON sd.id = e.id
      LEFT JOIN cx_sc sc ON sc.id = e.id
),
cx_doc AS (
    SELECT account_id, document_type, document_id,
           sum(open) AS open, sum(loose) AS own, bool_or(is_debit) AS has_debits
      FROM cx_items GROUP BY account_id, document_type, document_id
),
cx_netted AS (
    -- A document's own credit pays its debits first, in the order the rules rank them.
    SELECT i.id, i.account_id, i.document_type, i.document_id, i.due, i.rank,
           greatest(0, least(i.open, sum(i.open) OVER (
               PARTITION BY i.account_id, i.document_type, i.document_id
               ORDER BY i.due, i.rank, i.id) - d.own)) AS open
      FROM cx_items i
      JOIN cx_doc d USING (account_id, document_type, document_id)
     WHERE i.is_debit
),
cx_free AS (
    SELECT account_id,
           sum(CASE WHEN has_debits THEN greatest(own - open, 0) ELSE own END) AS credit
      FROM cx_doc GROUP BY account_id
),
cx_owed AS (
    -- Free credit pays the oldest open debits first.
    SELECT n.account_id, n.document_type, n.document_id, n.due,
           greatest(0, least(n.open, sum(n.open) OVER (
               PARTITION BY n.account_id ORDER BY n.due, n.rank, n.id)
               - coalesce(f.credit, 0))) AS owed
      FROM cx_netted n LEFT JOIN cx_free f USING (account_id)
     WHERE n.open > 0
),
cx_periods AS (
    SELECT account_id, due, {_bucket("due")} AS b, sum(owed) AS owed
      FROM cx_owed GROUP BY account_id, document_type, document_id, due
),
cx AS (
    SELECT account_id, {_figures("owed", "due", "b")}
      FROM cx_periods GROUP BY account_id
),
fig AS (
    -- Accounts with unapplied credit and something owed take the exact figures (none owed
    -- after the credit: no row in cx). With nothing owed, credit changes nothing.
    SELECT a.account_id, a.balance,
           CASE WHEN a.exact THEN coalesce(c.current, 0) ELSE a.current END AS current,
           CASE WHEN a.exact THEN coalesce(c.d0_30, 0) ELSE a.d0_30 END AS d0_30,
           CASE WHEN a.exact THEN coalesce(c.d31_60, 0) ELSE a.d31_60 END AS d31_60,
           CASE WHEN a.exact THEN coalesce(c.d61_90, 0) ELSE a.d61_90 END AS d61_90,
           CASE WHEN a.exact THEN coalesce(c.d91_180, 0) ELSE a.d91_180 END AS d91_180,
           CASE WHEN a.exact THEN coalesce(c.d180, 0) ELSE a.d180 END AS d180,
           CASE WHEN a.exact THEN c.oldest_due ELSE a.oldest_due END AS oldest_due,
           CASE WHEN a.exact THEN c.newest_due ELSE a.newest_due END AS newest_due,
           CASE WHEN a.exact THEN coalesce(c.periods, 0) ELSE a.periods END AS periods,
           a.exact
      FROM acc a
      LEFT JOIN cx c ON a.exact AND c.account_id = a.account_id
)
SELECT account_id, balance, current, d0_30, d31_60, d61_90, d91_180, d180,
       d0_30 + d31_60 + d61_90 + d91_180 + d180 AS overdue,
       {per_period}
  FROM fig
"""  # noqa: S608
    return sql, params


@dataclass(frozen=True)
class Aging:
    account_id: int
    balance: Decimal
    current: Decimal
    d0_30: Decimal
    d31_60: Decimal
    d61_90: Decimal
    d91_180: Decimal
    d180: Decimal
    overdue: Decimal
    oldest_due: dt.date | None
    newest_due: dt.date | None
    days_overdue: int
    recent_days: int
    periods: int

    def buckets(self) -> dict[str, Decimal]:
        return {BUCKET_LABELS[k]: getattr(self, k) for k in ("current", *BUCKETS)}


def accounts_aging(*, day: dt.date, account_ids=None, detail: bool = True) -> dict[int, Aging]:
    """The aging of the given accounts (or all: mind the size) as of ``day``, by account id.
    Accounts without ledger entries are absent. ``detail=False``: amounts only (the per-period
    figures are None), see :func:`aging_sql`."""
    sql, params = aging_sql(day=day, account_ids=account_ids, detail=detail)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return {row[0]: Aging(*row) for row in cursor.fetchall()}


def account_aging(*, account, day: dt.date) -> Aging | None:
    account_id = getattr(account, "pk", account)
    return accounts_aging(day=day, account_ids=[account_id]).get(account_id)


def document_aging(*, account, day: dt.date) -> list[dict]:
    """The documents (bills, installments…) an account still owes, oldest first, each with
    its due date, amount owed and days overdue (0: not yet due) as of ``day``. Uses the
    per-account rules of :mod:`billing.settlement` (one account's items are few) with free
    credit paying the oldest first, as the aging statement does."""
    from billing.settlement import free_credits, open_items

    account_id = getattr(account, "pk", account)
    credit = sum((c.amount for c in free_credits(account=account_id)), ZERO)
    docs: dict[tuple, Decimal] = {}
    for item in open_items(account=account_id):
        applied = min(item.open, credit)
        credit -= applied
        left = item.open - applied
        if left <= 0:
            continue
        key = (item.document_type, item.document_id, item.due_date)
        docs[key] = docs.get(key, ZERO) + left
    return [
        {
            "document_type": doc_type,
            "document_id": doc_id,
            "due_date": due,
            "owed": owed,
            "days_overdue": max((day - due).days, 0),
        }
        for (doc_type, doc_id, due), owed in sorted(docs.items(), key=lambda kv: kv[0][2])
    ]
