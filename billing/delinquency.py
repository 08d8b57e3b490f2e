"""Delinquency on the map: the per-account snapshot of past-due debt and the zones where it
clusters. Both are rebuilt whole, set-based, from the ledger (nightly by Celery beat, and on
demand); the map reads them instead of aggregating the ledger per tile.

What is overdue follows the settlement rule that credit pays the oldest debt first
(billing.settlement): of an account's balance, what is not yet due is the newest part, so

    overdue = greatest(0, balance - debits not yet due)

and the unpaid overdue documents are the newest past-due debits that fit in ``overdue``
(walking from the most recent due date back); the oldest of them gives the days overdue.
Credits aimed at one bill (a credit note) make the per-document picture differ slightly from
this rule; the totals do not (the balance is the ledger's sum). The collection policy reads
the full open-item rule (billing.collection); the map needs where and how much.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from gis_core.sql import execute, fetchone

# Live debits: neither reversed nor reversals (a reversed pair sums to zero in the balance).
_REFRESH_SQL = """
WITH bal AS (
    SELECT account_id, sum(amount) AS balance,
           coalesce(sum(amount) FILTER (WHERE amount > 0 AND reversal_of_id IS NULL
                                          AND coalesce(due_date, posted_at::date) >= %(day)s
                                          AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r
                                                           WHERE r.reversal_of_id = e.id)), 0)
               AS not_due
      FROM billing_ledgerentry e
     GROUP BY account_id
),
owing AS (
    SELECT account_id, balance, balance - not_due AS overdue
      FROM bal WHERE balance - not_due > 0
),
past_due AS (
    SELECT e.account_id, e.document_type, e.document_id,
           coalesce(e.due_date, e.posted_at::date) AS due,
           o.overdue,
           coalesce(sum(e.amount) OVER (
               PARTITION BY e.account_id
               ORDER BY coalesce(e.due_date, e.posted_at::date) DESC, e.id DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS newer
      FROM billing_ledgerentry e JOIN owing o ON o.account_id = e.account_id
     WHERE e.amount > 0 AND e.reversal_of_id IS NULL
       AND coalesce(e.due_date, e.posted_at::date) < %(day)s
       AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r WHERE r.reversal_of_id = e.id)
),
unpaid AS (
    SELECT account_id, min(due) AS oldest_due,
           count(DISTINCT (document_type, document_id)) AS documents
      FROM past_due WHERE newer < overdue
     GROUP BY account_id
)
INSERT INTO billing_accountdelinquency (account_id, balance, overdue, oldest_due, days_overdue,
                                        periods_overdue, computed_on)
SELECT o.account_id, o.balance, least(o.overdue, o.balance), u.oldest_due,
       %(day)s - u.oldest_due, least(u.documents, 32767), %(day)s
  FROM owing o JOIN unpaid u ON u.account_id = o.account_id
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
    execute("SET CONSTRAINTS ALL IMMEDIATE")
    execute("TRUNCATE billing_accountdelinquency")
    execute("SET CONSTRAINTS ALL DEFERRED")
    count = execute(_REFRESH_SQL, {"day": day})
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
