"""The water balance of each district metered area (DMA) and month, in IWA terms.

For a district *D* and a calendar month (local time, ``TIME_ZONE``; the demo's and most
utilities' reading periods are calendar months, ``ReadingPeriod.code`` = ``YYYY-MM``):

- **System input volume** (SIV): for every macrometer whose forward flow enters *D*, the
  growth of its forward register minus the growth of its reverse register over the month;
  minus the same for every macrometer whose forward flow leaves *D*. A register's value at an
  instant is interpolated linearly between the readings just before and just after it, so
  daily, hourly or irregular readings all give the month's volume. A macrometer counts for the
  part of the month it was in service (``in_service_from`` … ``in_service_until``); when its
  readings do not surround that part, the district's input is *not measured* (SIV unknown,
  the meters are listed in ``missing_macrometers``), never guessed.
- **Billed metered consumption**: the measured consumption of the month's reading periods
  (every billing cycle's period coded ``YYYY-MM``) of the accounts in *D*
  (``sectors.AccountSectors.dma``); **billed unmetered consumption**: their estimated
  consumption (accounts without a reading, or without a meter). Billing bills exactly these
  volumes (:class:`metering.models.AccountConsumption`), so they are the billed authorised
  consumption; unbilled authorised consumption (fire fighting, flushing) is not recorded and
  is part of the losses here.
- **Non-revenue water** (NRW) = SIV - billed metered - billed unmetered, in m³ and as a
  percentage of SIV (rounded to 0.01). A negative NRW means more was billed than measured at
  the inlets: a macrometer under-registers or an account is in the wrong district.

Each district's month is one :class:`~metering.models.WaterBalance` row, recomputed as a whole
month by :func:`water_balance_compute` in one set-based statement (a million accounts are one
aggregate over their consumption, not a loop).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from metering.models import NrwClass
from metering.services import MeteringError


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month's first instant and the next month's, in the utility's time zone."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    zone = timezone.get_default_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(first, dt.time()), zone),
        timezone.make_aware(dt.datetime.combine(following, dt.time()), zone),
    )


def parse_month(value: str) -> dt.date:
    """``YYYY-MM`` → the month's first day; raises :class:`MeteringError` otherwise."""
    try:
        year, number = value.strip().split("-")
        if len(year) != 4 or len(number) != 2:
            raise ValueError(value)
        return dt.date(int(year), int(number), 1)
    except (ValueError, AttributeError) as exc:
        raise MeteringError(
            "water_balance_month",
            _("“%(value)s” is not a month; write it as 2026-11.") % {"value": value},
            field="month",
        ) from exc


# Register values of every macrometer at the start (s) and end (e) of its part of the month.
# ``reg(t)`` = the reading at t, or the straight line between the readings around t.
_REGISTERS = """
    WITH span AS (
        SELECT m.id, m.code, m.dma_in_id, m.dma_out_id,
               greatest(%(t0)s, m.in_service_from) AS s,
               least(%(t1)s, coalesce(m.in_service_until, %(t1)s)) AS e
          FROM metering_macrometer m
         WHERE m.in_service_from < %(t1)s
           AND (m.in_service_until IS NULL OR m.in_service_until > %(t0)s)
    ),
    at_instant AS (
        SELECT span.id, b.t AS which,
               CASE WHEN before.read_at = b.at THEN before.f
                    WHEN after.read_at IS NULL OR before.read_at IS NULL THEN NULL
                    ELSE before.f + (after.f - before.f)
                         * extract(epoch FROM b.at - before.read_at)
                         / extract(epoch FROM after.read_at - before.read_at) END AS f,
               CASE WHEN before.read_at = b.at THEN before.r
                    WHEN after.read_at IS NULL OR before.read_at IS NULL THEN NULL
                    ELSE before.r + (after.r - before.r)
                         * extract(epoch FROM b.at - before.read_at)
                         / extract(epoch FROM after.read_at - before.read_at) END AS r
          FROM span
          CROSS JOIN LATERAL (VALUES ('s', span.s), ('e', span.e)) b(t, at)
          LEFT JOIN LATERAL (
                SELECT x.read_at, x.forward_m3 AS f, coalesce(x.reverse_m3, 0) AS r
                  FROM metering_macrometerreading x
                 WHERE x.macrometer_id = span.id AND x.read_at <= b.at
                 ORDER BY x.read_at DESC LIMIT 1) before ON TRUE
          LEFT JOIN LATERAL (
                SELECT x.read_at, x.forward_m3 AS f, coalesce(x.reverse_m3, 0) AS r
                  FROM metering_macrometerreading x
                 WHERE x.macrometer_id = span.id AND x.read_at >= b.at
                 ORDER BY x.read_at ASC LIMIT 1) after ON TRUE
    ),
    volume AS (
        SELECT span.id, span.code, span.dma_in_id, span.dma_out_id,
               (e.f - s.f) - (e.r - s.r) AS net_m3
          FROM span
          JOIN at_instant s ON s.id = span.id AND s.which = 's'
          JOIN at_instant e ON e.id = span.id AND e.which = 'e'
    ),
    per_side AS (
        SELECT dma_in_id AS dma_id, code, net_m3 FROM volume WHERE dma_in_id IS NOT NULL
        UNION ALL
        SELECT dma_out_id, code, -net_m3 FROM volume WHERE dma_out_id IS NOT NULL
    ),
    input AS (
        SELECT dma_id,
               CASE WHEN bool_and(net_m3 IS NOT NULL) THEN round(sum(net_m3), 3) END AS siv,
               count(*) AS meters,
               coalesce(array_agg(code ORDER BY code) FILTER (WHERE net_m3 IS NULL),
                        '{}') AS missing
          FROM per_side GROUP BY dma_id
    )
"""

_BALANCE_INSERT = """,
    billed AS (
        SELECT s.dma_id,
               coalesce(sum(c.volume_m3) FILTER (WHERE c.method = 'measured'), 0) AS metered,
               coalesce(sum(c.volume_m3) FILTER (WHERE c.method = 'estimated'), 0) AS unmetered,
               count(DISTINCT c.account_id) AS accounts
          FROM metering_accountconsumption c
          JOIN metering_readingperiod p ON p.id = c.period_id AND p.code = %(code)s
          JOIN sectors_accountsectors s ON s.account_id = c.account_id
         WHERE s.dma_id IS NOT NULL
         GROUP BY s.dma_id
    ),
    figures AS (
        SELECT d.id AS dma_id, i.siv,
               coalesce(b.metered, 0) AS metered, coalesce(b.unmetered, 0) AS unmetered,
               coalesce(b.accounts, 0) AS accounts,
               coalesce(i.meters, 0) AS meters, coalesce(i.missing, '{}') AS missing,
               i.siv - coalesce(b.metered, 0) - coalesce(b.unmetered, 0) AS nrw
          FROM sectors_dma d
          LEFT JOIN input i ON i.dma_id = d.id
          LEFT JOIN billed b ON b.dma_id = d.id
    )
    INSERT INTO metering_waterbalance AS w
           (dma_id, month, system_input_m3, billed_metered_m3, billed_unmetered_m3,
            non_revenue_m3, non_revenue_pct, nrw_class, accounts, macrometers,
            missing_macrometers, computed_at)
    SELECT dma_id, %(month)s, siv, metered, unmetered, nrw,
           CASE WHEN siv > 0 THEN round(100 * nrw / siv, 2) END,
           CASE WHEN siv IS NULL THEN %(unknown)s
                WHEN nrw < 0 THEN %(negative)s
                WHEN siv = 0 THEN %(unknown)s
                WHEN 100 * nrw / siv < 20 THEN %(low)s
                WHEN 100 * nrw / siv < 30 THEN %(medium)s
                WHEN 100 * nrw / siv < 40 THEN %(high)s
                ELSE %(very_high)s END,
           accounts, meters, missing, now()
      FROM figures
    ON CONFLICT (dma_id, month) DO UPDATE SET
           system_input_m3 = EXCLUDED.system_input_m3,
           billed_metered_m3 = EXCLUDED.billed_metered_m3,
           billed_unmetered_m3 = EXCLUDED.billed_unmetered_m3,
           non_revenue_m3 = EXCLUDED.non_revenue_m3,
           non_revenue_pct = EXCLUDED.non_revenue_pct,
           nrw_class = EXCLUDED.nrw_class,
           accounts = EXCLUDED.accounts,
           macrometers = EXCLUDED.macrometers,
           missing_macrometers = EXCLUDED.missing_macrometers,
           computed_at = EXCLUDED.computed_at
    -- A recomputation that changes nothing writes nothing (and records no history).
     WHERE (w.system_input_m3, w.billed_metered_m3, w.billed_unmetered_m3, w.accounts,
            w.macrometers, w.missing_macrometers)
           IS DISTINCT FROM
           (EXCLUDED.system_input_m3, EXCLUDED.billed_metered_m3, EXCLUDED.billed_unmetered_m3,
            EXCLUDED.accounts, EXCLUDED.macrometers, EXCLUDED.missing_macrometers)
"""
_COMPUTE = _REGISTERS + _BALANCE_INSERT
_VOLUMES = _REGISTERS + "SELECT id, code, dma_in_id, dma_out_id, net_m3 FROM volume ORDER BY code"  # noqa: S608 (constants)


def water_balance_compute(*, month: dt.date) -> int:
    """Compute (or recompute) every district's balance of ``month`` in one statement and one
    transaction; returns the number of districts whose figures changed.

    The current month may be computed (its input shows as not measured until the macrometers'
    readings pass its end); a month that has not started raises :class:`MeteringError`."""
    first = month.replace(day=1)
    t0, t1 = month_bounds(first)
    if t0 > timezone.now():
        raise MeteringError(
            "water_balance_future",
            _("The month %(month)s has not started.") % {"month": f"{first:%Y-%m}"},
            field="month",
        )
    params = {
        "t0": t0,
        "t1": t1,
        "month": first,
        "code": f"{first:%Y-%m}",
        "unknown": NrwClass.UNKNOWN.value,
        "negative": NrwClass.NEGATIVE.value,
        "low": NrwClass.LOW.value,
        "medium": NrwClass.MEDIUM.value,
        "high": NrwClass.HIGH.value,
        "very_high": NrwClass.VERY_HIGH.value,
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute(_COMPUTE, params)
        return cur.rowcount


def macrometer_volumes(*, month: dt.date) -> list[dict]:
    """Each macrometer's net volume over its part of ``month`` (None: readings do not surround
    it), for the balance's detail and for tests that check the interpolation."""
    t0, t1 = month_bounds(month.replace(day=1))
    with connection.cursor() as cur:
        cur.execute(_VOLUMES, {"t0": t0, "t1": t1})
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
