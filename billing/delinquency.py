"""Delinquency on the map: the per-account snapshot of past-due debt and the zones where it
clusters. Both are rebuilt whole, set-based, from the ledger (nightly by Celery beat, and on
demand); the map reads them instead of aggregating the ledger per tile.

What is overdue, since when and for how many periods is the collections aging
(:func:`billing.collection.aging.aging_sql`): the open-item rule of billing.settlement in
one statement, so the map, the aging report and the collection policy agree to the cent.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.db import deferred_checks_run
from gis_core.sql import execute, fetchone

# The collections aging (one statement over the open items) gives every figure; the snapshot
# keeps the accounts with something past due. Column names are aging_sql's.
_REFRESH_SQL = """
INSERT INTO billing_accountdelinquency (account_id, balance, overdue, oldest_due, days_overdue,
                                        periods_overdue, computed_on)
SELECT account_id, balance, overdue, oldest_due, days_overdue, least(periods, 32767),
       %(day)s::date
  FROM ({aging}) a
 WHERE overdue > 0 AND oldest_due IS NOT NULL
"""

_ZONES_SQL = """
WITH points AS (
    SELECT a.service_point AS geom, d.overdue, d.days_overdue,
           ST_ClusterDBSCAN(a.service_point, eps => %(eps)s, minpoints => %(min_points)s)
               OVER () AS cluster
      FROM billing_accountdelinquency d
      JOIN cadastre_serviceaccount a ON a.id = d.account_id
     WHERE d.days_overdue >= %(min_days)s
)
INSERT INTO billing_delinquencyzone (geom, accounts, overdue, mean_days_overdue, computed_on)
SELECT ST_Buffer(ST_ConvexHull(ST_Collect(geom)), %(margin)s, 'quad_segs=4'), count(*),
       sum(overdue), round(avg(days_overdue)), %(day)s
  FROM points WHERE cluster IS NOT NULL
 GROUP BY cluster
"""


def _today() -> dt.date:
    return timezone.localdate()


@transaction.atomic
def delinquency_refresh(*, day: dt.date | None = None) -> int:
    """Rebuild the snapshot of past-due debt as of ``day`` (the utility's today by default).
    Returns the number of delinquent accounts."""
    day = day or _today()
    execute("SELECT pg_advisory_xact_lock(hashtext('billing.delinquency'))")
    # TRUNCATE (no row triggers: a derived snapshot's rebuild is not history). Rows a refresh
    # earlier in this transaction wrote still have deferred foreign-key checks pending, which
    # TRUNCATE refuses: run them now.
    deferred_checks_run()
    execute("TRUNCATE billing_accountdelinquency")
    from billing.collection.aging import aging_sql

    aging, params = aging_sql(day=day)
    count = execute(_REFRESH_SQL.format(aging=aging), params)
    execute("ANALYZE billing_accountdelinquency")
    return count


@transaction.atomic
def zones_refresh(
    *,
    day: dt.date | None = None,
    eps_m: float = 120.0,
    min_points: int = 6,
    min_days: int = 31,
    margin_m: float = 25.0,
) -> int:
    """Rebuild the delinquency zones from the snapshot: accounts at least ``min_days``
    overdue, clustered by DBSCAN (neighbours within ``eps_m`` metres, at least ``min_points``
    accounts), each cluster's convex hull widened by ``margin_m``. Returns the zone count."""
    day = day or _today()
    execute("SELECT pg_advisory_xact_lock(hashtext('billing.delinquency'))")
    execute("TRUNCATE billing_delinquencyzone RESTART IDENTITY")
    execute(
        _ZONES_SQL,
        {
            "eps": eps_m,
            "min_points": min_points,
            "min_days": min_days,
            "margin": margin_m,
            "day": day,
        },
    )
    return fetchone("SELECT count(*) FROM billing_delinquencyzone", [])[0]
