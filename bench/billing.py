#!/usr/bin/env python
"""Billing (issue 8): a full billing run of one period (bills + lines + ledger, chunked,
resumable, holds, payment references, run bookkeeping, committed chunk by chunk) against the
raw SQL producing the same rows in the same run.

Set-up (untimed, kept for the next run): the demo city at ``--scale`` accounts with its sector
layers (cadastre and sectorization demo steps) in this benchmark's own database; then, once,
a bench period ``2030-01`` of every cycle with a synthetic consumption per account (about 8 %
unmetered: flat rate; 10 % estimated), its calendar, and the demo tariff set. Every account of
every cycle is billed.

Figures:
- ``billing_run_vs_raw_insert_select``: ``billing_run_execute`` of a new run over every cycle's
  bench period (chunks of ``--chunk`` accounts, each its own transaction) against the same
  rows written by bare statements in one transaction (rolled back): the pricing SQL over
  every account (``billing_in``, ``billing_ln``, rounding), then ``INSERT … SELECT`` of the
  bills (totals, no holds, no references), of their lines and of their ledger entries. Goal:
  at most 3x. Bills, lines, ledger entries and runs are truncated before each run.

Usage: bench/billing.py [--scale ACCOUNTS] [--seed S] [--chunk N]
"""

import argparse
import sys
import time

from _common import result, setup_django

NEEDED_STEPS = ("cadastre.base_map", "cadastre.customer_roll", "sectors.sectorization")
PERIOD = "2030-01"

RAW_BILLS = """
INSERT INTO billing_bill (run_id, account_id, period_id, tariff_id, use_type, tariff_zone_id,
                          method, consumption_m3, months, previous_balance, charges, tax, total,
                          due_date, payment_reference, status, hold_reason, resolution_note,
                          created_at)
SELECT %(run)s, i.account_id, %(period)s, i.tariff_id, i.use_type, i.zone_id, i.method, i.q, 1,
       i.prev_balance, coalesce(t.charges, 0), coalesce(t.tax, 0),
       coalesce(t.charges, 0) + coalesce(t.tax, 0), %(due_date)s, '', 'issued', '', '', now()
  FROM billing_in i
  LEFT JOIN (SELECT account_id, sum(amount) AS charges, sum(tax) AS tax
               FROM billing_ln GROUP BY account_id) t ON t.account_id = i.account_id
"""
RAW_LINES = """
INSERT INTO billing_billline (bill_id, seq, concept, block, quantity, unit_price, amount, tax)
SELECT b.id, l.seq, l.concept, l.block, l.quantity, l.unit_price, l.amount, l.tax
  FROM billing_ln l JOIN billing_bill b ON b.account_id = l.account_id
                    AND b.period_id = %(period)s AND b.run_id = %(run)s
"""
RAW_LEDGER = """
INSERT INTO billing_ledgerentry (account_id, document_type, document_id, concept, amount,
                                 posted_at, note, due_date)
SELECT b.account_id, 'bill', b.id, l.concept, sum(l.amount), now(), '', b.due_date
  FROM billing_ln l JOIN billing_bill b ON b.account_id = l.account_id
                    AND b.period_id = %(period)s AND b.run_id = %(run)s
 GROUP BY b.account_id, b.id, b.due_date, l.concept HAVING sum(l.amount) <> 0
UNION ALL
SELECT b.account_id, 'bill', b.id, 'vat', sum(l.tax), now(), '', b.due_date
  FROM billing_ln l JOIN billing_bill b ON b.account_id = l.account_id
                    AND b.period_id = %(period)s AND b.run_id = %(run)s
 GROUP BY b.account_id, b.id, b.due_date HAVING sum(l.tax) <> 0
"""


def ensure_city(ctx, log) -> None:
    from core.services import demo_city_build

    demo_city_build(ctx=ctx, only=NEEDED_STEPS, replace_other=True, log=log)


def ensure_bench_period(seed: int) -> list:
    """The bench periods (one per cycle) with consumption, calendar, cycles and tariffs."""
    import dataclasses
    import datetime as dt
    from pathlib import Path

    from django.db import connection, transaction

    from billing import services
    from billing.models import TariffSet
    from billing.tariff_io import tariff_file_load, tariff_set_parse
    from metering.models import ReadingPeriod
    from sectors.models import TariffZone

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT billing_cycle FROM cadastre_serviceaccount ORDER BY 1")
        cycles = [row[0] for row in cursor.fetchall()]
    periods = []
    with transaction.atomic():
        if not TariffSet.objects.filter(code="BENCH").exists():
            path = (
                Path(__file__).resolve().parent.parent
                / "billing"
                / "fixtures"
                / "tariffs_demo.yaml"
            )
            spec = tariff_set_parse(tariff_file_load(path.read_text(encoding="utf-8")))
            zones = set(TariffZone.objects.values_list("code", flat=True))
            spec = dataclasses.replace(
                spec,
                code="BENCH",
                valid_from=dt.date(2030, 1, 1),
                tariffs=tuple(t for t in spec.tariffs if t.zone is None or t.zone in zones),
            )
            services.tariff_set_adopt(tariff_set=services.tariff_set_import(spec=spec))
        for code in cycles:
            period, created = ReadingPeriod.objects.get_or_create(
                cycle=code,
                code=PERIOD,
                defaults={"starts_on": dt.date(2030, 1, 1), "ends_on": dt.date(2030, 1, 31)},
            )
            periods.append(period)
            if not created:
                continue
            cycle = services.billing_cycle_save(code=code, name=f"Ciclo {code}")
            services.calendar_entry_save(
                cycle=cycle,
                period=period,
                reading_from=period.starts_on,
                reading_to=period.ends_on,
                billing_date=dt.date(2030, 2, 3),
                due_date=dt.date(2030, 2, 18),
                cutoff_date=dt.date(2030, 3, 20),
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    """INSERT INTO metering_accountconsumption (account_id, period_id, volume_m3,
                                                                method, basis_count, computed_at)
                       SELECT a.id, %(period)s,
                              round(mod(h.x, 4000) / 100.0 * CASE a.use_type
                                    WHEN 'domestic' THEN 1 WHEN 'industrial' THEN 12 ELSE 3 END, 0),
                              CASE WHEN mod(h.x, 10) = 0 THEN 'estimated' ELSE 'measured' END, 1, now()
                         FROM cadastre_serviceaccount a
                        CROSS JOIN LATERAL (SELECT ('x' || substr(md5(%(seed)s || ':' || a.id), 1, 7))
                                                   ::bit(28)::int AS x) h
                        WHERE a.billing_cycle = %(cycle)s AND mod(h.x, 100) >= 8""",
                    {"period": period.pk, "seed": str(seed), "cycle": code},
                )
    return periods


def truncate_billing() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # TRUNCATE fires no row triggers: the append-only ledger allows it (scratch database).
        cursor.execute(
            "TRUNCATE billing_ledgerentry, billing_billline, billing_bill, billing_billingrun"
        )


def raw_seconds(periods) -> float:
    """The bare statements, every cycle, one transaction, rolled back."""
    from django.db import connection, transaction

    from billing import run_sql, services

    elapsed = 0.0
    with transaction.atomic():
        for period in periods:
            run = services.billing_run_start(period=period, enqueue=False)
            params = services._run_params(run)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("DROP TABLE IF EXISTS bench_scope")
                cursor.execute(
                    """CREATE TEMP TABLE bench_scope ON COMMIT DROP AS
                       SELECT id FROM cadastre_serviceaccount
                        WHERE billing_cycle = %(cycle)s AND status <> 'inactive'""",
                    params,
                )
                started = time.perf_counter()
                run_sql.compute(cursor, params, "bench_scope")
                cursor.execute(RAW_BILLS, params)
                cursor.execute(RAW_LINES, params)
                cursor.execute(RAW_LEDGER, params)
                elapsed += time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def run_seconds(periods, chunk: int) -> tuple[float, list]:
    from billing import services

    truncate_billing()
    runs = [
        services.billing_run_start(period=period, chunk_size=chunk, enqueue=False)
        for period in periods
    ]
    started = time.perf_counter()
    done = [services.billing_run_execute(run_id=run.pk) for run in runs]
    return time.perf_counter() - started, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="accounts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=5000, help="accounts per chunk")
    args = parser.parse_args()

    setup_django("caudal_billing_bench")
    from django.conf import settings
    from django.db import connection

    from core.demo import DemoContext

    ctx = DemoContext(
        accounts=args.scale,
        seed=args.seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    ensure_city(ctx, log=print)
    periods = ensure_bench_period(args.seed)
    truncate_billing()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cadastre_serviceaccount WHERE status <> 'inactive'")
        accounts = cursor.fetchone()[0]
        cursor.execute("ANALYZE")
    print(f"{accounts:,} accounts to bill in {len(periods)} cycles", flush=True)

    raw = [raw_seconds(periods)]
    print(f"raw INSERT … SELECT: {raw[0]:.2f} s", flush=True)
    ours, runs = run_seconds(periods, args.chunk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM billing_bill), (SELECT count(*) FROM billing_billline),"
            " (SELECT count(*) FROM billing_ledgerentry)"
        )
        bills, lines, entries = cursor.fetchone()
    held = sum(run.bills_held for run in runs)
    print(
        f"billing run: {ours:.2f} s ({bills:,} bills of which {held:,} held, {lines:,} lines, "
        f"{entries:,} ledger entries; {accounts / ours:,.0f} accounts/s)",
        flush=True,
    )
    truncate_billing()
    raw.append(raw_seconds(periods))
    print(f"raw INSERT … SELECT again: {raw[1]:.2f} s", flush=True)
    ok = result("billing_run_vs_raw_insert_select", value=ours, baseline=min(raw), goal=3.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
