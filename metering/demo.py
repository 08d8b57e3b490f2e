"""Demo city, metering steps (set-based SQL).

``metering.meters``: one installed meter per metered account. About 8 % of domestic accounts
are unmetered (flat rate, cuota fija), as in many Mexican utilities; parks' irrigation accounts
are metered. Serials are brand prefix + account number. Diameter and technology follow the use
(13 mm single-jet or volumetric at homes, multi-jet in shops, Woltmann/electromagnetic in
industry, a few ultrasonic among recent installs); ~2 % are old 4-dial meters close to the end
of their register (they roll over during the demo year). The meter box is beside the service
point.

``metering.readings``: reading periods (calendar months) for every billing cycle: the 12 months
before the build month (closed) and the build month (open, for the field app). Each cycle
reads on its own days (cycle 1 around the 3rd, cycle 2 around the 7th…). Per meter a base
monthly consumption by use (lognormal-like), a seasonal factor (peak in the dry, hot May, low
in the rainy season and winter) and noise; the register accumulates it. Anomalies, a few
percent: houses nobody lives in (zero consumption all year), no access / closed / dog
observations (no value; the next reading covers both months), leaks (spikes), registers that
roll over, readers far from the meter, and, in the last two months only, mistyped values
(below the previous reading), leak observations and two devices reading the same meter.

Months 1-10 are written directly with the flags the rules would raise on the injected anomalies
(and reviewed: ``accepted``). The last two months go through the very pipeline of the field sync
and the bulk file (:mod:`metering.validation`), one month at a time, so the review queue holds
what the rules really flag. Then every closed period's consumption is computed
(:func:`metering.estimation.consumption_compute`).

Reading dates depend on the build date (the demo's last year); values depend only on the seed.

``metering.macrometers``: macrometers at the districts' inlets and between districts, daily
registers, and the water balance of every month (see :func:`build_macrometers`).

``metering.assignments``: the open period's reading books (from the sectorization step) are
assigned to the demo meter reader, each on its cycle's reading day.
"""

import datetime as dt
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from cadastre.demo import _rnd, _sql_array
from core.db import deferred_checks_run
from core.demo import DemoContext, demo_step
from core.history import history_paused
from core.roles import METER_READER
from metering.estimation import consumption_compute
from metering.models import (
    AccountConsumption,
    Macrometer,
    MacrometerImport,
    MacrometerReading,
    Meter,
    PeriodStatus,
    Reading,
    ReadingAssignment,
    ReadingPeriod,
    ReadingSource,
    WaterBalance,
)
from metering.validation import (
    STAGE_COLUMNS,
    rules_load,
    stage_create,
    stage_evaluate,
    stage_resolve,
    stage_write,
)
from metering.water_balance import month_bounds, water_balance_compute

BRANDS = ["Cicasa", "Badger", "Elster", "Itron", "Zenner", "Sensus"]
MONTHS = 12
# The two last months go through the validation pipeline; the others are written directly.
PIPELINE_MONTHS = (11, 12)


@demo_step(
    "metering.meters",
    after=("cadastre.customer_roll",),
    tables=(Meter._meta.db_table,),
    description="meters of the service accounts",
)
def build_meters(ctx: DemoContext) -> dict:
    seed = int(ctx.seed)
    brands = "ARRAY" + _sql_array(BRANDS)
    pick = f"({brands})[1 + floor({_rnd(seed, 'brand', 'a.id')} * {len(BRANDS)})::int]"
    r = lambda stream: _rnd(seed, stream, "a.id")  # noqa: E731
    with history_paused(Meter), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        sql = f"""
            INSERT INTO metering_meter (serial, brand, model, diameter_mm, technology, dials,
                                        account_id, installed_on, location, status)
            SELECT upper(substr(b.brand, 1, 3)) || '-' || a.number, b.brand,
                   b.brand || CASE WHEN a.use_type = 'industrial' THEN ' WPD' ELSE ' MNK' END,
                   CASE a.use_type
                        WHEN 'industrial' THEN (ARRAY[50, 75, 100])[1 + floor({r("dia")} * 3)::int]
                        WHEN 'commercial' THEN CASE WHEN {r("dia")} < 0.7 THEN 19 ELSE 25 END
                        WHEN 'public' THEN 25
                        ELSE CASE WHEN {r("dia")} < 0.9 THEN 13 ELSE 19 END END,
                   CASE WHEN i.installed_on >= DATE '2022-01-01' AND {r("tech")} < 0.15
                             THEN 'ultrasonic'
                        WHEN a.use_type = 'industrial'
                             THEN CASE WHEN {r("tech")} < 0.7 THEN 'woltmann'
                                       ELSE 'electromagnetic' END
                        WHEN a.use_type IN ('commercial', 'public') THEN 'multi_jet'
                        WHEN {r("tech")} < 0.7 THEN 'single_jet' ELSE 'volumetric' END,
                   CASE WHEN {r("old")} < 0.02 THEN 4
                        WHEN a.use_type = 'industrial' THEN 7 ELSE 6 END,
                   a.id, i.installed_on,
                   ST_Translate(a.service_point, 0.6 * cos(2 * pi() * {r("box")}),
                                0.6 * sin(2 * pi() * {r("box")})),
                   'installed'
            FROM cadastre_serviceaccount a
            CROSS JOIN LATERAL (SELECT {pick} AS brand) b
            CROSS JOIN LATERAL (
                -- Installed before the demo's reading year (its readings start late 2025).
                SELECT least(a.connected_on + floor({r("inst")} * 3000)::int,
                             DATE '2024-12-31') AS installed_on) i
            WHERE NOT (a.use_type = 'domestic' AND {r("flat")} < 0.08)"""
        cur.execute(sql.replace("%", "%%"), [])
        cur.execute("SELECT COUNT(*) FROM metering_meter")
        return {"meters": cur.fetchone()[0]}


def _months(today: dt.date) -> list[dt.date]:
    """First days of the 14 months from the baseline month (k=0) to the build month (k=13)."""
    first = today.replace(day=1)
    out = []
    for back in range(MONTHS + 1, -1, -1):
        y, m = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(dt.date(y, m + 1, 1))
    return out


STREAMS = ("vacant", "base", "start", "anom", "noise", "day", "time", "obs", "acc", "dist", "dir")


def _u(seed: int, stream: str, key: str) -> str:
    """SQL for a uniform [0, 1) number fixed by (seed, stream, key).

    PostgreSQL's own 64-bit integer hash (the one hash partitioning relies on, so stable
    across versions): some twenty times cheaper than the md5 of cadastre.demo._rnd, which
    matters at 13 million readings with eight random numbers each.
    """
    salt = int(seed) * 64 + STREAMS.index(stream)
    return f"((hashint8extended(({key})::bigint, {salt}) & 4294967295)::float8 / 4294967296.0)"


def _generator_sql(seed: int) -> str:
    """One row per (installed meter, month k in ``months``) with everything a reading needs.

    Columns: meter_id, account_id, cycle, k, captured_at, anomaly, obs, device, accuracy,
    position, value (NULL when not read), consumption, rollover.

    ``OFFSET 0`` fences keep PostgreSQL from inlining each level into the next: inlined, every
    use of a random number repeats its md5, dozens of times a row.
    """
    rm = lambda stream: _u(seed, stream, "m.id")  # noqa: E731
    rk = lambda stream: _u(seed, stream, "m.meter_id * 16 + g.k")  # noqa: E731
    # Seasonal factor of calendar month mo (1-12): +18 % in May, -18 % in November.
    season = "(1 + 0.18 * cos(2 * pi() * (g.mo - 5) / 12.0))"
    return f"""
        SELECT g.meter_id, g.account_id, g.cycle, g.k, g.captured_at, g.anomaly, g.obs,
               g.device, g.accuracy, g.vacant, g.reads_before,
               ST_Translate(g.loc, g.dist * cos(g.dir), g.dist * sin(g.dir)) AS position,
               CASE WHEN g.obs_only THEN NULL
                    ELSE (g.reg - g.cap * floor(g.reg / g.cap))::numeric(12, 3) END AS value,
               CASE WHEN g.k = 0 OR g.obs_only THEN NULL
                    ELSE (g.reg - g.prev_reg)::numeric(12, 3) END AS consumption,
               NOT g.obs_only AND g.k > 0
                   AND floor(g.reg / g.cap) > floor(g.prev_reg / g.cap) AS rollover
        FROM (
            SELECT g.*,
                   g.start + g.cum AS reg,
                   -- The register when last read: the largest earlier one read (the register
                   -- never goes down, so no IGNORE NULLS is needed).
                   g.start + max(CASE WHEN g.obs_only THEN NULL ELSE g.cum END)
                       OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_reg,
                   -- Regular readings with a value before this one (the zero rule counts them).
                   count(*) FILTER (WHERE NOT g.obs_only AND g.k > 0)
                       OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reads_before
            FROM (
                SELECT g.*, sum(g.used) OVER w AS cum
                FROM (
                    SELECT g.*,
                           -- Whole cubic metres as float8 (exact far beyond any register);
                           -- numeric only on output: float sums are several times cheaper.
                           CASE WHEN g.k = 0 THEN 0::float8
                                ELSE round(g.base * {season} * (0.85 + 0.3 * g.u_noise)
                                           * CASE WHEN g.anomaly = 'spike' THEN 5 ELSE 1 END)
                           END AS used,
                           CASE WHEN g.anomaly = 'gps_far' THEN 150 + 450 * g.u_dist
                                ELSE 2 + 12 * g.u_dist END AS dist,
                           CASE WHEN g.anomaly = 'no_access' THEN
                                (ARRAY['no_access', 'no_access', 'house_closed', 'house_closed',
                                       'dog'])[1 + floor(5 * g.u_obs)::int]
                                WHEN g.anomaly = 'leak' THEN 'leak' END AS obs,
                           coalesce(g.anomaly = 'no_access', FALSE) AS obs_only,
                           'demo-tablet-' || g.cycle AS device,
                           4 + floor(20 * g.u_acc) AS accuracy,
                           2 * pi() * g.u_dir AS dir,
                           g.month_start
                             + make_interval(days => least(2 + 4 * (g.cycle_no - 1)
                                                           + floor(3 * g.u_day)::int, 27),
                                             mins => 480 + floor(540 * g.u_time)::int)
                               AS captured_at
                    FROM (
                        SELECT g.*,
                               CASE WHEN g.k = 0 THEN NULL
                                    WHEN g.u_anom < 0.015 THEN 'no_access'
                                    WHEN g.u_anom < 0.02 AND g.k >= 4 AND NOT g.vacant
                                         AND g.base >= 4 THEN 'spike'
                                    WHEN g.u_anom >= 0.02 AND g.u_anom < 0.025 THEN 'gps_far'
                                    WHEN g.u_anom >= 0.025 AND g.u_anom < 0.028 AND g.k >= 11
                                         THEN 'misread'
                                    WHEN g.u_anom >= 0.028 AND g.u_anom < 0.030 AND g.k >= 11
                                         THEN 'leak'
                                    WHEN g.u_anom >= 0.030 AND g.u_anom < 0.034 AND g.k = 12
                                         THEN 'conflict'
                               END AS anomaly
                        FROM (
                            SELECT m.*, g.k, g.mo, g.month_start,
                                   {rk("anom")} AS u_anom, {rk("noise")} AS u_noise,
                                   {rk("day")} AS u_day, {rk("time")} AS u_time,
                                   {rk("obs")} AS u_obs, {rk("acc")} AS u_acc,
                                   {rk("dist")} AS u_dist, {rk("dir")} AS u_dir
                            FROM (
                                SELECT m.id AS meter_id, m.account_id, m.dials,
                                       a.billing_cycle AS cycle,
                                       CASE WHEN a.billing_cycle ~ '^[0-9]+$'
                                            THEN a.billing_cycle::int ELSE 1 END AS cycle_no,
                                       coalesce(m.location, a.service_point) AS loc,
                                       power(10::float8, m.dials) AS cap,
                                       CASE WHEN u.vacant < 0.01 THEN 0
                                            WHEN a.use_type = 'domestic' THEN 6 + 28 * u.base ^ 2
                                            WHEN a.use_type = 'mixed' THEN 15 + 40 * u.base ^ 2
                                            WHEN a.use_type = 'commercial'
                                                 THEN 12 + 70 * u.base ^ 2
                                            WHEN a.use_type = 'public' THEN 30 + 220 * u.base ^ 2
                                            ELSE 120 + 900 * u.base ^ 2 END AS base,
                                       u.vacant < 0.01 AS vacant,
                                       CASE WHEN m.dials = 4 THEN 9999 - floor(30 + 150 * u.start)
                                            ELSE floor(500 + 4000 * u.start) END AS start
                                FROM metering_meter m
                                JOIN cadastre_serviceaccount a ON a.id = m.account_id
                                CROSS JOIN LATERAL (
                                    SELECT {rm("vacant")} AS vacant, {rm("base")} AS base,
                                           {rm("start")} AS start OFFSET 0) u
                                WHERE m.status = 'installed'
                                  AND (m.installed_on IS NULL
                                       OR m.installed_on <= %(base_month)s::date)
                                ORDER BY m.id
                                OFFSET 0
                            ) m
                            -- Lateral on the meter so the months come inside each meter, in
                            -- meter order: the running sums then need no sort of the whole.
                            CROSS JOIN LATERAL generate_series(0, {MONTHS} + 0 * m.dials) k
                            CROSS JOIN LATERAL (
                                -- Midnight (local) of the first day of month k.
                                SELECT k, extract(month FROM d)::int AS mo,
                                       d::timestamp AT TIME ZONE %(tz)s AS month_start
                                FROM (SELECT (%(base_month)s::date
                                              + make_interval(months => k))::date AS d) d
                            ) g
                            OFFSET 0
                        ) g
                        OFFSET 0
                    ) g
                    OFFSET 0
                ) g
                WINDOW w AS (PARTITION BY g.meter_id ORDER BY g.k)
            ) g
            WINDOW w AS (PARTITION BY g.meter_id ORDER BY g.k)
        ) g
    """


class _Clock:
    """Seconds spent in each phase of a step (reported with its counts)."""

    def __init__(self):
        self.last = time.perf_counter()
        self.laps = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 1)
        self.last = now


def _indexes_dropped(cur, table: str) -> list[str]:
    """Drop ``table``'s secondary indexes and unique constraints (not its primary key) when
    it is empty; return the statements that build them again, exactly as they were."""
    cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {table})")
    if not cur.fetchone()[0]:
        return []
    cur.execute(
        """SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
           WHERE c.conrelid = %s::regclass AND c.contype = 'u'""",
        [table],
    )
    constraints = cur.fetchall()
    cur.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        [table],
    )
    indexes = cur.fetchall()
    for name, _definition in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f"DROP INDEX {name}")
    return [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in constraints] + [
        d for _n, d in indexes
    ]


def _demo_uuid(meter: str, k: str) -> str:
    """Client ids of demo readings: meter and month in hex, so they ascend as rows are written
    (a random UUID per row would scatter 13 million inserts over the unique index)."""
    return f"(lpad(to_hex({meter}), 16, '0') || lpad(to_hex({k}), 4, '0') || 'de0000000000')::uuid"


def _periods_create(months: list[dt.date], cycles: list[str]) -> dict:
    """(cycle, k) → period id, for k = 1..13 (13 = the build month)."""
    import calendar

    periods = {}
    for cycle in cycles:
        for k in range(1, MONTHS + 2):
            first = months[k]
            last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
            period = ReadingPeriod.objects.create(
                cycle=cycle, code=f"{first:%Y-%m}", starts_on=first, ends_on=last
            )
            periods[(cycle, k)] = period.pk
    return periods


@demo_step(
    "metering.readings",
    after=("metering.meters",),
    tables=(
        AccountConsumption._meta.db_table,
        Reading._meta.db_table,
        ReadingPeriod._meta.db_table,
    ),
    description="reading periods, 12 months of readings with anomalies, consumption",
)
def build_readings(ctx: DemoContext) -> dict:
    seed = int(ctx.seed)
    today = timezone.localdate()
    months = _months(today)
    clock = _Clock()
    with (
        history_paused(Reading, ReadingPeriod, AccountConsumption),
        connection.cursor() as cur,
    ):
        cur.execute("SET LOCAL jit = off")
        # Sorting a few million (meter, month) rows for the running sums stays in memory.
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SELECT DISTINCT billing_cycle FROM cadastre_serviceaccount ORDER BY 1")
        cycles = [row[0] for row in cur.fetchall()]
        periods = _periods_create(months, cycles)
        cur.execute("DROP TABLE IF EXISTS demo_period")
        cur.execute("CREATE TEMP TABLE demo_period (cycle text, k int, id bigint) ON COMMIT DROP")
        # One statement, arrays unnested: executemany breaks under a history context
        # (pghistory prepends its two context values to the list of rows).
        cur.execute(
            "INSERT INTO demo_period SELECT * FROM unnest(%s::text[], %s::int[], %s::bigint[])",
            [
                [cycle for (cycle, _k), _pk in periods.items()],
                [k for (_cycle, k), _pk in periods.items()],
                list(periods.values()),
            ],
        )
        params = {"tz": settings.TIME_ZONE, "base_month": months[0]}
        reader = (
            get_user_model()
            .objects.filter(username=METER_READER, groups__name=METER_READER)
            .values_list("pk", flat=True)
            .first()
        )
        # Every (meter, month) once; the writes below read it.
        cur.execute("DROP TABLE IF EXISTS demo_gen")
        cur.execute(f"CREATE TEMP TABLE demo_gen ON COMMIT DROP AS {_generator_sql(seed)}", params)
        clock.lap("generate")
        # The rows below come from these very tables, so their references hold by
        # construction: skip the statement check (an anti-join per column over 11 million rows
        # at the largest scale). And build the secondary indexes once afterwards instead of
        # maintaining them row by row. Transactional, demo only, like history_paused.
        cur.execute("ALTER TABLE metering_reading DISABLE TRIGGER metering_refs_insert")
        rebuild = _indexes_dropped(cur, "metering_reading")
        # Months 0 (baseline) to 10, with the flags the rules raise on the injected anomalies
        # (zero consumption: the third zero month on; spikes; far readers), reviewed long ago.
        cur.execute(
            f"""
            INSERT INTO metering_reading (client_id, meter_id, account_id, period_id, kind,
                source, value, observation_id, captured_at, received_at, device_id, reader_id,
                position, position_accuracy_m, photo_expected, photo, consumption, rollover,
                flags, status, reviewed_at, review_note)
            SELECT {_demo_uuid("g.meter_id", "g.k")},
                   g.meter_id, g.account_id, p.id,
                   CASE WHEN g.k = 0 THEN 'baseline' ELSE 'regular' END, 'demo',
                   g.value, g.obs, g.captured_at, g.captured_at + interval '3 hours',
                   g.device, %(reader)s, g.position, g.accuracy, FALSE, '',
                   g.consumption, coalesce(g.rollover, FALSE), f.flags,
                   CASE WHEN cardinality(f.flags) > 0 THEN 'accepted' ELSE 'valid' END,
                   CASE WHEN cardinality(f.flags) > 0
                        THEN g.captured_at + interval '5 days' END, ''
            FROM demo_gen g
            LEFT JOIN demo_period p ON p.cycle = g.cycle AND p.k = g.k
            CROSS JOIN LATERAL (SELECT array_remove(ARRAY[
                -- Houses nobody lives in: every month is 0 m³, so from the third reading with
                -- a value on, the zero rule's "this and the two before" holds.
                CASE WHEN g.vacant AND g.value IS NOT NULL AND g.k > 0 AND g.reads_before >= 2
                     THEN 'zero_consumption' END,
                CASE WHEN g.anomaly = 'spike' THEN 'high_consumption' END,
                CASE WHEN g.anomaly = 'gps_far' THEN 'gps_far' END
            ]::varchar[], NULL) AS flags) f
            WHERE g.k < %(first_pipeline)s
            """,
            {"reader": reader, "first_pipeline": min(PIPELINE_MONTHS)},
        )
        direct_rows = cur.rowcount
        clock.lap("direct")
        # ALTER TABLE refuses a table with pending (deferred foreign-key) trigger events.
        deferred_checks_run()
        cur.execute("ALTER TABLE metering_reading ENABLE TRIGGER metering_refs_insert")
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for statement in rebuild:
            cur.execute(statement)
        clock.lap("indexes")
        cur.execute("ANALYZE metering_reading")
        clock.lap("analyze")
        # The last two months through the sync/file pipeline, one month at a time.
        rules = rules_load()
        pipeline = {}
        for k in PIPELINE_MONTHS:
            pipeline[f"pipeline_month_{k}"] = _pipeline_month(
                cur, k=k, code=f"{months[k]:%Y-%m}", reader=reader, rules=rules
            )
        clock.lap("pipeline")
        cur.execute(
            "UPDATE metering_readingperiod SET status = %s WHERE id = ANY(%s)",
            [
                PeriodStatus.CLOSED,
                [pk for (_c, k), pk in periods.items() if k <= MONTHS],
            ],
        )
        cur.execute("ANALYZE metering_reading")
        consumption = {"measured": 0, "estimated": 0}
        # Consumption rows are computed from the accounts and readings themselves.
        for trigger in ("metering_refs_insert", "metering_refs_update"):
            cur.execute(f"ALTER TABLE metering_accountconsumption DISABLE TRIGGER {trigger}")
        for k in range(1, MONTHS + 1):
            # One month of every cycle at a time, in order: estimates read earlier months.
            month = [ReadingPeriod(pk=periods[(c, k)], cycle=c) for c in cycles]
            counts = consumption_compute(periods=month)
            consumption["measured"] += counts["measured"]
            consumption["estimated"] += counts["estimated"]
        clock.lap("consumption")
        deferred_checks_run()
        for trigger in ("metering_refs_insert", "metering_refs_update"):
            cur.execute(f"ALTER TABLE metering_accountconsumption ENABLE TRIGGER {trigger}")
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'flagged'), "
            "count(*) FILTER (WHERE rollover) FROM metering_reading"
        )
        readings, flagged, rollovers = cur.fetchone()
    return {
        "periods": len(periods),
        "readings": readings,
        "direct": direct_rows,
        **pipeline,
        "flagged": flagged,
        "rollovers": rollovers,
        **consumption,
        "seconds": clock.laps,
    }


def _pipeline_month(cur, *, k: int, code: str, reader, rules) -> int:
    """Month ``k`` of every meter as text rows through the bulk file's pipeline (stage →
    resolve → evaluate → write), as if the month's readings came in one file."""
    stage = stage_create(cur)
    cols = ", ".join(STAGE_COLUMNS)
    # Mistyped values: below the previous reading; conflicts: another device reads the same
    # meter a day later.
    cur.execute(
        f"""
        INSERT INTO {stage} ({cols})
        SELECT {_demo_uuid("g.meter_id", "g.k * 4 + v.n")}::text,
               g.meter_id::text, NULL,
               CASE WHEN g.value IS NULL THEN NULL
                    WHEN g.anomaly = 'misread' AND v.n = 1
                         THEN greatest(g.value - 10 - g.consumption, 0)::text
                    ELSE (g.value + v.n - 1)::text END,
               g.obs, CASE WHEN g.obs = 'leak' THEN 'true' ELSE 'false' END,
               round(ST_X(w.p)::numeric, 7)::text, round(ST_Y(w.p)::numeric, 7)::text,
               g.accuracy::text,
               to_char((g.captured_at + (v.n - 1) * interval '1 day') AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
               g.device || CASE WHEN v.n = 2 THEN '-b' ELSE '' END
        FROM demo_gen g
        CROSS JOIN LATERAL ST_Transform(g.position, 4326) AS w(p)
        CROSS JOIN LATERAL generate_series(1, CASE WHEN g.anomaly = 'conflict' THEN 2 ELSE 1 END)
            AS v(n)
        WHERE g.k = %s
        """,
        [k],
    )
    cur.execute(f"ANALYZE {stage}")
    stage_resolve(cur, stage=stage, period_code=code, columns=_STAGED)
    cur.execute("ANALYZE metering_cand")
    stage_evaluate(cur, rules=rules)
    inserted = stage_write(cur, source=ReadingSource.DEMO, reader_id=reader)
    cur.execute(f"DROP TABLE {stage}")
    return inserted


_STAGED = tuple(c for c in STAGE_COLUMNS if c != "meter_serial")


@demo_step(
    "metering.assignments",
    after=("metering.readings", "sectors.sectorization"),
    tables=(ReadingAssignment._meta.db_table,),
    description="reading books of the open period assigned to the demo meter reader",
)
def build_assignments(ctx: DemoContext) -> dict:
    reader = (
        get_user_model()
        .objects.filter(username=METER_READER, groups__name=METER_READER)
        .values_list("pk", flat=True)
        .first()
    )
    if reader is None:
        return {"assignments": 0}
    with history_paused(ReadingAssignment), connection.cursor() as cur:
        # Each book goes to the open period of the cycle most of its accounts belong to, on
        # that cycle's reading day.
        cur.execute(
            """
            INSERT INTO metering_readingassignment (period_id, book_id, reader_id, scheduled_on)
            SELECT p.id, b.book_id, %s,
                   least(p.starts_on + 2 + 4 * (CASE WHEN b.cycle ~ '^[0-9]+$'
                                                     THEN b.cycle::int - 1 ELSE 0 END),
                         p.ends_on)
            FROM (SELECT s.book_id, mode() WITHIN GROUP (ORDER BY a.billing_cycle) AS cycle
                  FROM sectors_accountsectors s
                  JOIN cadastre_serviceaccount a ON a.id = s.account_id
                  WHERE s.book_id IS NOT NULL
                  GROUP BY s.book_id) b
            JOIN metering_readingperiod p ON p.cycle = b.cycle AND p.status = 'open'
            ORDER BY b.book_id
            """,
            [reader],
        )
        return {"assignments": cur.rowcount}


# --- Macrometers and the water balance -------------------------------------------------------

LOSS_RANGE = (0.20, 0.45)  # share of each district's input lost (IWA: real + apparent losses)
TRANSFER_SHARE = 0.25  # of the receiving district's input, through a boundary meter


@demo_step(
    "metering.macrometers",
    after=("metering.readings", "sectors.sectorization"),
    tables=(
        WaterBalance._meta.db_table,
        MacrometerReading._meta.db_table,
        MacrometerImport._meta.db_table,
        Macrometer._meta.db_table,
    ),
    description="macrometers per district, daily registers, water balance per month",
)
def build_macrometers(ctx: DemoContext) -> dict:
    """One inlet macrometer per district (on its boundary, nearest its centre) and, for every
    third district, a bidirectional boundary meter passing a quarter of a neighbour's input to
    it. Each district loses a fixed share of its input (20-45 %, by seed), so its monthly input
    is its billed consumption / (1 - loss). Registers are read daily at midnight up to today;
    the water balance of every month with consumption (the closed periods) is then computed."""
    import random

    rng = random.Random(f"{ctx.seed}:macrometers")
    with connection.cursor() as cur:
        cur.execute(
            """SELECT s.dma_id, p.code, sum(c.volume_m3)::float8
                 FROM metering_accountconsumption c
                 JOIN metering_readingperiod p ON p.id = c.period_id
                 JOIN sectors_accountsectors s ON s.account_id = c.account_id
                WHERE s.dma_id IS NOT NULL
                GROUP BY 1, 2"""
        )
        billed: dict[int, dict[str, float]] = {}
        for dma_id, code, volume in cur.fetchall():
            billed.setdefault(dma_id, {})[code] = volume
        cur.execute(
            """SELECT d.id, d.code,
                      ST_X(ST_ClosestPoint(ST_Boundary(d.geom), ST_Centroid(d.geom))),
                      ST_Y(ST_ClosestPoint(ST_Boundary(d.geom), ST_Centroid(d.geom))),
                      (SELECT n.id FROM sectors_dma n
                        WHERE n.id <> d.id AND ST_DWithin(n.geom, d.geom, 1)
                        ORDER BY n.code LIMIT 1)
                 FROM sectors_dma d ORDER BY d.code"""
        )
        districts = cur.fetchall()
    months = sorted({code for per_month in billed.values() for code in per_month})
    if not districts or not months:
        return {"macrometers": 0, "readings": 0, "balances": 0}
    loss = {dma_id: rng.uniform(*LOSS_RANGE) for dma_id, *_ in districts}
    # Monthly input each district needs: its billed consumption grossed up by its losses.
    need = {
        dma_id: {m: billed.get(dma_id, {}).get(m, 0.0) / (1 - loss[dma_id]) for m in months}
        for dma_id, *_ in districts
    }
    start, _end = month_bounds(dt.date(int(months[0][:4]), int(months[0][5:7]), 1))
    meters, plan = [], []  # plan: (meter index, month, forward m³, reverse m³)
    inlet_volume = {dma_id: dict(need[dma_id]) for dma_id, *_ in districts}
    receiving = set()
    for index, (dma_id, code, x, y, neighbour) in enumerate(districts):
        if index % 3 or neighbour is None or neighbour in receiving:
            continue
        receiving.add(neighbour)  # one transfer into a district: its own inlet stays the larger
        # A boundary meter from this district into its neighbour: the neighbour's inlet gives
        # that much less, this district's inlet that much more.
        meters.append((f"MM-{code}-T", dma_id, neighbour, x, y, True))
        for m in months:
            transfer = TRANSFER_SHARE * need[neighbour][m]
            inlet_volume[neighbour][m] -= transfer
            inlet_volume[dma_id][m] += transfer
            plan.append((len(meters) - 1, m, transfer * 1.03, transfer * 0.03))
    for dma_id, code, x, y, _neighbour in districts:
        meters.append((f"MM-{code}", None, dma_id, x, y, False))
        for m in months:
            plan.append((len(meters) - 1, m, inlet_volume[dma_id][m], 0.0))
    with (
        history_paused(Macrometer, MacrometerReading, WaterBalance),
        connection.cursor() as cur,
    ):
        ids = []
        for code, dma_out, dma_in, x, y, bidirectional in meters:
            cur.execute(
                """INSERT INTO metering_macrometer
                       (code, name, location, dma_in_id, dma_out_id, diameter_mm, bidirectional,
                        in_service_from)
                   VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), %s), %s, %s, %s, %s, %s)
                   RETURNING id""",
                [
                    code,
                    f"Macromedidor {code[3:]}",
                    x,
                    y,
                    settings.CAUDAL_SRID,
                    dma_in,
                    dma_out,
                    300 if bidirectional else 400,
                    bidirectional,
                    start - dt.timedelta(days=365),
                ],
            )
            ids.append(cur.fetchone()[0])
        # Dropped at the end too: a caller's outer transaction (tests) may build twice.
        cur.execute("DROP TABLE IF EXISTS demo_mplan")
        cur.execute(
            "CREATE TEMP TABLE demo_mplan (meter_id int, month text, fwd float8, rev float8)"
        )
        cur.execute(
            "INSERT INTO demo_mplan "
            "SELECT * FROM unnest(%s::int[], %s::text[], %s::float8[], %s::float8[])",
            [
                [ids[i] for i, _m, _f, _r in plan],
                [m for _i, m, _f, _r in plan],
                [f for _i, _m, f, _r in plan],
                [r for _i, _m, _f, r in plan],
            ],
        )
        # Daily registers at local midnight: a month's volume spread over its days with a weekly
        # rhythm and noise (normalised so the month adds up exactly), accumulated from a
        # starting register fixed by the seed.
        cur.execute(
            f"""
            INSERT INTO metering_macrometerreading
                   (macrometer_id, read_at, forward_m3, reverse_m3, source, recorded_at)
            WITH days AS (
                SELECT p.meter_id, d::date AS day, p.fwd, p.rev,
                       1 + 0.12 * sin(2 * pi() * extract(dow FROM d) / 7)
                         + 0.10 * ({_rnd(int(ctx.seed), "mm-day", "p.meter_id", "d::date")} - 0.5)
                         AS w
                  FROM demo_mplan p
                  CROSS JOIN LATERAL generate_series(to_date(p.month, 'YYYY-MM'),
                       (to_date(p.month, 'YYYY-MM') + interval '1 month - 1 day'), '1 day') d
            ),
            inc AS (
                SELECT meter_id, day,
                       fwd * w / sum(w) OVER (PARTITION BY meter_id, date_trunc('month', day)) AS f,
                       rev * w / sum(w) OVER (PARTITION BY meter_id, date_trunc('month', day)) AS r
                  FROM days
            )
            SELECT meter_id, ((day + 1)::timestamp AT TIME ZONE %(tz)s),
                   round((100000 * (1 + meter_id %% 7)
                          + sum(f) OVER (PARTITION BY meter_id ORDER BY day))::numeric, 3),
                   CASE WHEN m.bidirectional THEN
                        round((sum(r) OVER (PARTITION BY meter_id ORDER BY day))::numeric, 3) END,
                   'telemetry', now()
              FROM inc JOIN metering_macrometer m ON m.id = inc.meter_id
             WHERE (day + 1)::timestamp AT TIME ZONE %(tz)s <= now()
            UNION ALL
            -- The register at the first month's start (before any of its days flowed).
            SELECT m.id, (to_date(%(first)s, 'YYYY-MM')::timestamp AT TIME ZONE %(tz)s),
                   100000 * (1 + m.id %% 7), CASE WHEN m.bidirectional THEN 0 END,
                   'telemetry', now()
              FROM metering_macrometer m
            """,
            {"tz": settings.TIME_ZONE, "first": months[0]},
        )
        readings = cur.rowcount
        cur.execute("DROP TABLE demo_mplan")
    balances = 0
    for code in months:
        month = dt.date(int(code[:4]), int(code[5:7]), 1)
        if month <= timezone.localdate():
            balances += water_balance_compute(month=month)
    return {"macrometers": len(ids), "readings": readings, "balances": balances}
