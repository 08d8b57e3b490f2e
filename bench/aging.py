#!/usr/bin/env python
"""Aging (issue 10): the collections aging report of every account, grouped by commercial
sector and bucket, against a raw SQL aggregation over the same ledger in the same run.

Set-up (untimed, kept for the next run at the same scale and seed): the demo city at
``--scale`` accounts with its sectors (cadastre and sectorization demo steps) in this
benchmark's own database, then a ledger written by set-based SQL (generate_series): six
monthly bills per active account (water, sewer, VAT for non-domestic; ~6 % with a discount
line), due on the 20th; payments as negative entries with their settlements (~55 % of the
accounts paid everything but the last bill, ~20 % paid nothing, ~15 % paid half of their
bills, ~5 % overpaid, the rest paid one bill); ~1 % of payments bounced (reversed, their
settlements no longer live).

Figures:
- ``aging``: :func:`billing.collection.selectors.aging_report` (the aging statement of
  :mod:`billing.collection.aging` — live entries, live settlements, a bill's own credits,
  free credit to the oldest debt — grouped by sector x bucket with amounts and counts)
  against the baseline: the ledger's amounts summed per account and due-date bucket with no
  settlement logic, then per sector and bucket, run with the report's session settings (no
  JIT, its ``work_mem``). Goal: at most 2x. Best of ``--reps``.

Usage: bench/aging.py [--scale ACCOUNTS] [--seed S] [--reps N]
"""

import argparse
import sys
import time

from _common import result, setup_django

NEEDED_STEPS = ("cadastre.base_map", "cadastre.customer_roll", "sectors.sectorization")
DAY = "2030-07-01"

BASELINE_SQL = """
WITH per AS (
    SELECT e.account_id,
           CASE WHEN d.due >= %(day)s::date THEN 'current'
                WHEN %(day)s::date - d.due <= 30 THEN '0-30'
                WHEN %(day)s::date - d.due <= 60 THEN '31-60'
                WHEN %(day)s::date - d.due <= 90 THEN '61-90'
                WHEN %(day)s::date - d.due <= 180 THEN '91-180'
                ELSE '180+' END AS bucket,
           sum(e.amount) AS amount
      FROM billing_ledgerentry e
     CROSS JOIN LATERAL (SELECT coalesce(e.due_date, (e.posted_at AT TIME ZONE 'UTC')::date)
                                AS due) d
     GROUP BY 1, 2
)
SELECT s.sector_id, per.bucket, sum(per.amount), count(*) FILTER (WHERE per.amount > 0)
  FROM per LEFT JOIN sectors_accountsectors s ON s.account_id = per.account_id
 GROUP BY 1, 2
"""

# h: a stable pseudo-random 0..2^28 per account (and seed); the mix of payers follows it.
LEDGER_SQL = [
    "TRUNCATE billing_settlement, billing_ledgerentry CASCADE",
    "DROP TABLE IF EXISTS bench_aging_accounts",
    """CREATE UNLOGGED TABLE bench_aging_accounts AS
       SELECT a.id, a.use_type,
              ('x' || substr(md5(%(seed)s || ':' || a.id), 1, 7))::bit(28)::int AS h
         FROM cadastre_serviceaccount a WHERE a.status <> 'inactive'""",
    # Bills: document id = account * 10 + month; water 50-450, sewer 20 %, VAT 16 % of
    # non-domestic water; a discount line for ~6 %.
    """INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                        posted_at, note, due_date)
       SELECT a.id, 'bill', a.id * 10 + m, c.concept,
              round(CASE c.concept
                      WHEN 'water' THEN w
                      WHEN 'sewer' THEN w * 0.20
                      WHEN 'vat' THEN w * 0.16
                      ELSE -w * 0.10 END, 2),
              make_timestamptz(2030, m, 5, 12, 0, 0, 'UTC'), '', make_date(2030, m, 20)
         FROM bench_aging_accounts a
        CROSS JOIN generate_series(1, 6) m
        CROSS JOIN LATERAL (SELECT 50 + mod(a.h / 7 + m * 13, 400)::numeric AS w) x
        CROSS JOIN LATERAL (VALUES ('water'), ('sewer'), ('vat'), ('discount')) c(concept)
        WHERE (c.concept <> 'vat' OR a.use_type <> 'domestic')
          AND (c.concept <> 'discount' OR mod(a.h, 100) < 6)""",
    # How many of the six bills each account paid, oldest first.
    """ALTER TABLE bench_aging_accounts ADD COLUMN paid int""",
    """UPDATE bench_aging_accounts SET paid = CASE
           WHEN mod(h / 100, 100) < 55 THEN 5
           WHEN mod(h / 100, 100) < 75 THEN 0
           WHEN mod(h / 100, 100) < 90 THEN 3
           WHEN mod(h / 100, 100) < 95 THEN 6
           ELSE 1 END""",
    # One payment per paid bill (its total), posted on the 18th of its month.
    """INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                        posted_at, note)
       SELECT e.account_id, 'payment', e.document_id, 'payment', -sum(e.amount),
              make_timestamptz(2030, mod(e.document_id, 10)::int, 18, 12, 0, 0, 'UTC'), ''
         FROM billing_ledgerentry e
         JOIN bench_aging_accounts a ON a.id = e.account_id
        WHERE e.document_type = 'bill' AND mod(e.document_id, 10) <= a.paid
        GROUP BY e.account_id, e.document_id""",
    # Overpayers (paid = 6) pay 100.00 more, left as free credit.
    """INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                        posted_at, note)
       SELECT a.id, 'payment', a.id * 10 + 7, 'payment', -100,
              make_timestamptz(2030, 6, 25, 12, 0, 0, 'UTC'), ''
         FROM bench_aging_accounts a WHERE a.paid = 6""",
    # Each payment settles its bill's debits (the bill's own discount nets inside the bill,
    # so the payment is its total and each debit less its share of the discount is paid: to
    # keep settlements simple the discount's bills settle water first and leave the rest).
    """INSERT INTO billing_settlement (account_id, debit_id, credit_id, amount, created_at,
                                       debit_due)
       SELECT d.account_id, d.id, p.id, d.amount - coalesce(dc.discount, 0), p.posted_at,
              d.due_date
         FROM billing_ledgerentry p
         JOIN billing_ledgerentry d ON d.document_type = 'bill'
                                   AND d.document_id = p.document_id AND d.amount > 0
         LEFT JOIN LATERAL (
              SELECT -sum(x.amount) AS discount FROM billing_ledgerentry x
               WHERE x.document_type = 'bill' AND x.document_id = p.document_id
                 AND x.amount < 0 AND d.concept = 'water') dc ON TRUE
        WHERE p.document_type = 'payment' AND p.amount < 0
          AND d.amount - coalesce(dc.discount, 0) > 0""",
    # ~1 % of the payments bounced: reversed (their settlements stop counting).
    """INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                        posted_at, note, reversal_of_id)
       SELECT p.account_id, p.document_type, p.document_id, p.concept, -p.amount,
              p.posted_at + interval '3 days', 'bounced', p.id
         FROM billing_ledgerentry p
        WHERE p.document_type = 'payment' AND mod(p.document_id, 97) = 0""",
]


def ensure_city(scale: int, seed: int) -> None:
    from django.conf import settings

    from core.demo import DemoContext
    from core.services import demo_city_build

    ctx = DemoContext(
        accounts=scale,
        seed=seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    demo_city_build(ctx=ctx, only=NEEDED_STEPS, replace_other=True, log=print)


def ensure_ledger(scale: int, seed: int) -> None:
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_aging_meta (scale int, seed int)")
        cursor.execute("SELECT scale, seed FROM bench_aging_meta")
        if cursor.fetchone() == (scale, seed):
            print("ledger: reused", flush=True)
            return
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Bench data only: the per-row trigger that checks each settlement's sides would
        # triple the set-up time; the generator writes them consistent by construction.
        # (Foreign keys checked as rows go in, so the ALTER at the end finds no pending
        # trigger events.)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE billing_settlement DISABLE TRIGGER USER")
        for statement in LEDGER_SQL:
            cursor.execute(statement, {"seed": str(seed)})
        cursor.execute("ALTER TABLE billing_settlement ENABLE TRIGGER USER")
        cursor.execute("DELETE FROM bench_aging_meta")
        cursor.execute("INSERT INTO bench_aging_meta VALUES (%s, %s)", [scale, seed])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_ledgerentry")
        cursor.execute("ANALYZE billing_settlement")
        cursor.execute(
            "SELECT (SELECT count(*) FROM billing_ledgerentry),"
            " (SELECT count(*) FROM billing_settlement)"
        )
        entries, settlements = cursor.fetchone()
    print(
        f"ledger: {entries:,} entries, {settlements:,} settlements "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def ours_seconds(day) -> tuple[float, list]:
    from billing.collection.selectors import aging_report

    started = time.perf_counter()
    rows = aging_report(day=day, group_by="sector")
    return time.perf_counter() - started, rows


def baseline_seconds(day) -> tuple[float, list]:
    from django.db import connection, transaction

    from billing.collection.selectors import REPORT_WORK_MEM

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # The session settings the report runs with (no JIT, its work_mem): the figure
        # compares the statements, not the settings.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        cursor.execute(BASELINE_SQL, {"day": day})
        rows = cursor.fetchall()
    return time.perf_counter() - started, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="accounts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    setup_django("caudal_aging_bench")
    import datetime as dt

    ensure_city(args.scale, args.seed)
    ensure_ledger(args.scale, args.seed)
    day = dt.date.fromisoformat(DAY)
    ours, base = [], []
    for rep in range(args.reps):
        b, base_rows = baseline_seconds(day)
        o, rows = ours_seconds(day)
        base.append(b)
        ours.append(o)
        print(f"rep {rep + 1}: aging report {o:.2f} s, baseline {b:.2f} s", flush=True)
    overdue = sum(r["overdue"] for r in rows)
    accounts = sum(r["n_overdue"] for r in rows)
    print(
        f"{len(rows)} sectors, {accounts:,} accounts overdue owing {overdue:,.2f} "
        f"({len(base_rows)} baseline rows)",
        flush=True,
    )
    ok = result("aging", value=min(ours), baseline=min(base), goal=2.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
