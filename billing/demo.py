"""Demo city, billing step: a realistic tariff set by use type and zone, the calendar, hold
policies, a few discounts, and the last ``BILLED_MONTHS`` closed periods of every cycle billed
by real billing runs (the same code as the Celery task, run in this step's transaction).

The tariff set is ``billing/fixtures/tariffs_demo.yaml`` (zones T1 popular and T3 residential
have their own domestic tariffs; commercial and industrial pay VAT and use whole-volume blocks),
valid from the first demo period. Cycles are tied to the sectors where most of their accounts
are. Calendar: reading window = the period, billing 3 days after it, due 15 days later, cut-off
30 days after that. About 3 % of domestic accounts are retirees (50 % of the first 20 m³).
No payments yet (issue 9): balances, surcharges and holds accumulate month after month.
"""

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

from billing import services
from billing.models import (
    AccountDiscount,
    Bill,
    BillingCalendar,
    BillingCycle,
    BillingRun,
    BillLine,
    HoldPolicy,
    LedgerEntry,
    Tariff,
    TariffBlock,
    TariffDiscount,
    TariffSet,
)
from billing.tariff_io import tariff_file_load, tariff_set_parse
from core.demo import DemoContext, demo_step
from gis_core.sql import execute, fetchall
from metering.models import ReadingPeriod
from sectors.models import TariffZone

TARIFF_FILE = Path(__file__).resolve().parent / "fixtures" / "tariffs_demo.yaml"
BILLED_MONTHS = 3
CAPS = {
    "domestic": Decimal("3000"),
    "commercial": Decimal("15000"),
    "mixed": Decimal("8000"),
    "public": Decimal("60000"),
    "industrial": Decimal("250000"),
}


@demo_step(
    "billing.billing",
    after=("metering.readings", "sectors.sectorization"),
    tables=(
        LedgerEntry._meta.db_table,
        BillLine._meta.db_table,
        Bill._meta.db_table,
        BillingRun._meta.db_table,
        BillingCalendar._meta.db_table,
        BillingCycle.areas.through._meta.db_table,
        BillingCycle._meta.db_table,
        HoldPolicy._meta.db_table,
        AccountDiscount._meta.db_table,
        TariffBlock._meta.db_table,
        TariffDiscount._meta.db_table,
        Tariff._meta.db_table,
        TariffSet._meta.db_table,
    ),
    description="tariffs, billing calendar and the last months billed",
)
def build_billing(ctx: DemoContext) -> dict:
    periods = list(
        ReadingPeriod.objects.filter(consumptions__isnull=False)
        .distinct()
        .order_by("starts_on", "cycle")
    )
    if not periods:
        return {"tariff_sets": 0, "runs": 0}
    spec = tariff_set_parse(tariff_file_load(TARIFF_FILE.read_text(encoding="utf-8")))
    # A small city may lack some kinds of colonia (and so their tariff zones).
    zones = set(TariffZone.objects.values_list("code", flat=True))
    spec = dataclasses.replace(
        spec,
        valid_from=min(p.starts_on for p in periods),
        tariffs=tuple(t for t in spec.tariffs if t.zone is None or t.zone in zones),
    )
    tariff_set = services.tariff_set_import(spec=spec)
    services.tariff_set_adopt(tariff_set=tariff_set)
    for use_type, cap in CAPS.items():
        HoldPolicy.objects.create(use_type=use_type, amount_cap=cap)

    cycles = {}
    for code in sorted({p.cycle for p in periods}):
        # The sectors where most of the accounts of the cycle are.
        sectors = [
            row[0]
            for row in fetchall(
                """SELECT s.sector_id FROM sectors_accountsectors s
                     JOIN cadastre_serviceaccount a ON a.id = s.account_id
                    WHERE s.sector_id IS NOT NULL GROUP BY s.sector_id
                   HAVING count(*) FILTER (WHERE a.billing_cycle = %s) * 2 > count(*)""",
                [code],
            )
        ]
        cycles[code] = services.billing_cycle_save(
            code=code, name=f"Ciclo {code}", months=1, areas=sectors
        )
    for period in periods:
        billing_date = period.ends_on + dt.timedelta(days=3)
        services.calendar_entry_save(
            cycle=cycles[period.cycle],
            period=period,
            reading_from=period.starts_on,
            reading_to=period.ends_on,
            billing_date=billing_date,
            due_date=billing_date + dt.timedelta(days=15),
            cutoff_date=billing_date + dt.timedelta(days=45),
        )
    discounts = execute(
        """INSERT INTO billing_accountdiscount (account_id, code, valid_from, valid_to, reason)
           SELECT id, 'retiree', %s, NULL, 'Credencial INAPAM (demo)'
             FROM cadastre_serviceaccount
            WHERE use_type = 'domestic'
              AND ('x' || substr(md5(%s || ':retiree:' || id), 1, 8))::bit(32)::int %% 100 < 3""",
        [spec.valid_from, str(ctx.seed)],
    )
    runs = issued = held = 0
    by_cycle: dict[str, list] = {}
    for period in periods:
        by_cycle.setdefault(period.cycle, []).append(period)
    billed = sorted(
        (p for ps in by_cycle.values() for p in ps[-BILLED_MONTHS:]),
        key=lambda p: (p.starts_on, p.cycle),
    )
    for period in billed:
        run = services.billing_run_start(period=period, chunk_size=20_000, enqueue=False)
        run = services.billing_run_execute(run_id=run.pk)
        runs += 1
        issued += run.bills_issued
        held += run.bills_held
    return {
        "tariff_sets": 1,
        "calendar_entries": len(periods),
        "discounts": discounts,
        "runs": runs,
        "bills_issued": issued,
        "bills_held": held,
    }


@demo_step(
    "billing.delinquency",
    after=("billing.payments", "billing.collection"),
    tables=("billing_delinquencyzone", "billing_accountdelinquency"),
    description="the past-due snapshot and the delinquency zones on the map",
)
def build_delinquency(ctx: DemoContext) -> dict:
    from billing.delinquency import delinquency_refresh, zones_refresh

    return {"delinquent_accounts": delinquency_refresh(), "zones": zones_refresh()}
