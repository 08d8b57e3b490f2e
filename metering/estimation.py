"""Per-account consumption of a reading period, measured or estimated, set-based.

Measured: an account is measured in a period when it has at least one regular reading with a
value in the period, every such reading is valid or accepted (none waits in the review queue,
none was sent back for re-reading), and each has a known consumption. Its volume is the sum of
the consumption of its chain readings in the period (regular and removal readings of every
meter it had, so a meter swap is counted on both sides), never below zero.

Estimated (every other metered account of the cycle; the utility bills it and corrects when a
real reading comes — the billing issue's concern):

1. the average of the account's measured volumes in its last ``ESTIMATE_PERIODS`` (6) periods
   with a measured volume, looking back at most ``ESTIMATE_LOOKBACK`` (12) periods of its
   cycle before this one, rounded to whole cubic metres (half away from zero);
   ``basis_count`` is how many periods were averaged;
2. without any such period: the average measured volume of accounts of the same use type in
   this period, rounded the same way (``basis_count`` 0);
3. without that either: 0.

Example (pinned by tests/metering/test_estimation.py): measured 10, 12, 0, 15 m³ in the four
periods before → (10 + 12 + 0 + 15) / 4 = 9.25 → 9 m³, basis 4.

Metered accounts of the cycle: those with an installed meter now or a reading in the period.
"""

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from metering.models import ReadingPeriod

ESTIMATE_PERIODS = getattr(settings, "CAUDAL_METERING_ESTIMATE_PERIODS", 6)
ESTIMATE_LOOKBACK = getattr(settings, "CAUDAL_METERING_ESTIMATE_LOOKBACK", 12)

_COMPUTE_SQL = """
CREATE TEMP TABLE metering_consumption_new ON COMMIT DROP AS
WITH pp AS (
    SELECT p.id AS period_id, p.cycle, p.starts_on
    FROM metering_readingperiod p WHERE p.id = ANY(%(periods)s::bigint[])
),
scope AS (
    SELECT a.id AS account_id, a.use_type, pp.period_id
    FROM cadastre_serviceaccount a
    JOIN pp ON pp.cycle = a.billing_cycle
    WHERE a.id IN (SELECT m.account_id FROM metering_meter m WHERE m.status = 'installed')
    UNION
    SELECT a.id, a.use_type, r.period_id
    FROM metering_reading r
    JOIN cadastre_serviceaccount a ON a.id = r.account_id
    WHERE r.period_id = ANY(%(periods)s::bigint[])
),
per AS (
    SELECT r.account_id, r.period_id,
           count(*) FILTER (WHERE r.kind = 'regular' AND r.value IS NOT NULL) AS regular,
           bool_and(r.status IN ('valid', 'accepted') AND r.consumption IS NOT NULL)
               FILTER (WHERE r.kind = 'regular' AND r.value IS NOT NULL) AS all_ok,
           sum(r.consumption) FILTER (WHERE r.kind IN ('regular', 'removal')
                                      AND r.status IN ('valid', 'accepted')) AS volume
    FROM metering_reading r
    WHERE r.period_id = ANY(%(periods)s::bigint[])
    GROUP BY r.account_id, r.period_id
),
measured AS (
    SELECT account_id, period_id, greatest(coalesce(volume, 0), 0) AS volume, regular
    FROM per WHERE regular > 0 AND all_ok
),
-- History is read only for the accounts to estimate (a few percent of them): MATERIALIZED so
-- the planner finds them first instead of joining every account to every earlier period.
need AS MATERIALIZED (
    SELECT s.account_id, s.period_id FROM scope s
    WHERE NOT EXISTS (SELECT 1 FROM measured m
                      WHERE m.account_id = s.account_id AND m.period_id = s.period_id)
),
earlier AS MATERIALIZED (
    SELECT pp.period_id, p.id AS earlier_id,
           row_number() OVER (PARTITION BY pp.period_id ORDER BY p.starts_on DESC) AS back
    FROM pp JOIN metering_readingperiod p ON p.cycle = pp.cycle AND p.starts_on < pp.starts_on
),
past AS (
    SELECT n.account_id, n.period_id, c.volume_m3,
           row_number() OVER (PARTITION BY n.account_id, n.period_id ORDER BY e.back) AS k
    FROM need n
    JOIN earlier e ON e.period_id = n.period_id AND e.back <= %(lookback)s
    JOIN metering_accountconsumption c
      ON c.account_id = n.account_id AND c.period_id = e.earlier_id AND c.method = 'measured'
),
history AS (
    SELECT account_id, period_id, round(avg(volume_m3)) AS volume, count(*) AS n
    FROM past WHERE k <= %(n)s GROUP BY account_id, period_id
),
by_use AS (
    SELECT s.use_type, s.period_id, round(avg(m.volume)) AS volume
    FROM measured m JOIN scope s USING (account_id, period_id)
    GROUP BY s.use_type, s.period_id
)
SELECT s.account_id, s.period_id,
       CASE WHEN m.account_id IS NOT NULL THEN m.volume
            ELSE coalesce(h.volume, u.volume, 0) END AS volume_m3,
       CASE WHEN m.account_id IS NOT NULL THEN 'measured' ELSE 'estimated' END AS method,
       CASE WHEN m.account_id IS NOT NULL THEN least(m.regular, 32767)
            ELSE coalesce(h.n, 0) END AS basis_count
FROM scope s
LEFT JOIN measured m USING (account_id, period_id)
LEFT JOIN history h USING (account_id, period_id)
LEFT JOIN by_use u USING (use_type, period_id)
"""

_WRITE_SQL = """
INSERT INTO metering_accountconsumption (account_id, period_id, volume_m3, method, basis_count,
                                         computed_at)
SELECT account_id, period_id, volume_m3, method, basis_count, now()
FROM metering_consumption_new
ORDER BY period_id, account_id
ON CONFLICT (account_id, period_id) DO UPDATE
   SET volume_m3 = EXCLUDED.volume_m3, method = EXCLUDED.method,
       basis_count = EXCLUDED.basis_count, computed_at = EXCLUDED.computed_at
 WHERE (metering_accountconsumption.volume_m3, metering_accountconsumption.method,
        metering_accountconsumption.basis_count)
       IS DISTINCT FROM (EXCLUDED.volume_m3, EXCLUDED.method, EXCLUDED.basis_count)
"""

# Accounts that left the scope (every reading of theirs rejected, say) lose their row.
_PRUNE_SQL = """
DELETE FROM metering_accountconsumption c
WHERE c.period_id = ANY(%(periods)s::bigint[])
  AND NOT EXISTS (SELECT 1 FROM metering_consumption_new n
                  WHERE n.account_id = c.account_id AND n.period_id = c.period_id)
"""


@transaction.atomic
def consumption_compute(*, period: ReadingPeriod | None = None, periods=()) -> dict:
    """Write every metered account's ``AccountConsumption`` of ``period`` (or of ``periods``,
    at most one per billing cycle: their estimates read only earlier, stored figures) — see
    the module docstring. Recomputing replaces the earlier figures; rows that did not change
    are not touched, so history records real changes only. Returns counts by method.

    Raises ValueError when two of ``periods`` share a cycle.
    """
    chosen = list(periods) + ([period] if period is not None else [])
    cycles = [p.cycle for p in chosen]
    if len(set(cycles)) != len(cycles):
        raise ValueError(_("Compute one period per billing cycle at a time."))
    params = {
        "periods": [p.pk for p in chosen],
        "n": ESTIMATE_PERIODS,
        "lookback": ESTIMATE_LOOKBACK,
    }
    with connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")  # one-shot statements; see metering.validation
        cur.execute("DROP TABLE IF EXISTS metering_consumption_new")
        # A first computation has nothing to prune (the usual case: skip the anti-join).
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM metering_accountconsumption "
            "WHERE period_id = ANY(%(periods)s::bigint[]))",
            params,
        )
        recompute = cur.fetchone()[0]
        cur.execute(_COMPUTE_SQL, params)
        # Statistics of the fresh table, or the anti-join below is planned as a nested loop.
        cur.execute("ANALYZE metering_consumption_new")
        cur.execute(_WRITE_SQL, params)
        if recompute:
            cur.execute(_PRUNE_SQL, params)
        cur.execute(
            "SELECT method, count(*), coalesce(sum(volume_m3), 0) "
            "FROM metering_consumption_new GROUP BY method"
        )
        counts = {method: (n, volume) for method, n, volume in cur.fetchall()}
    return {
        "measured": counts.get("measured", (0, 0))[0],
        "estimated": counts.get("estimated", (0, 0))[0],
        "measured_m3": counts.get("measured", (0, 0))[1],
        "estimated_m3": counts.get("estimated", (0, 0))[1],
    }
