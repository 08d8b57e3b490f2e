"""Reads of collections: the aging report grouped by sector, zone, use type or collector,
its CSV, and the lists of actions and large consumers."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from billing.collection.aging import BUCKET_LABELS, BUCKETS, aging_sql
from billing.collection.models import (
    AccountCollectionType,
    CollectionAction,
    CollectionType,
    LargeConsumer,
)

GROUPS = ("sector", "zone", "use_type", "collector", "total")
REPORT_WORK_MEM = "256MB"
AMOUNTS = ("balance", "current", *BUCKETS, "overdue")
COUNTS = tuple(f"n_{k}" for k in ("current", *BUCKETS, "overdue"))

# key, label of each grouping (SQL over the joined aliases of REPORT_SQL).
_GROUP_SQL = {
    "sector": ("s.sector_id", "coalesce(sec.code || ' ' || sec.name, '')"),
    "zone": ("s.zone_id", "coalesce(zn.code || ' ' || zn.name, '')"),
    "use_type": ("a.use_type", "a.use_type"),
    "collector": ("coalesce(ca.collector_id, cs.collector_id)", "coalesce(u.username, '')"),
    "total": ("NULL::bigint", "''"),
}

# Why raw SQL: a report over every account; the aging statement is wrapped and grouped in
# the database (a million accounts in, a few hundred rows out).
REPORT_SQL = """
WITH aging AS ({aging})
SELECT {key}::text AS key, {label} AS label,
       count(*) AS accounts,
       {amounts},
       {counts}
  FROM aging g
  JOIN cadastre_serviceaccount a ON a.id = g.account_id
  LEFT JOIN sectors_accountsectors s ON s.account_id = g.account_id
  LEFT JOIN sectors_commercialarea sec ON sec.id = s.sector_id
  LEFT JOIN sectors_commercialarea zn ON zn.id = s.zone_id
  LEFT JOIN collection_collectorassignment ca ON ca.account_id = g.account_id
  LEFT JOIN collection_collectorassignment cs ON cs.sector_id = s.sector_id
  LEFT JOIN {users} u ON u.id = coalesce(ca.collector_id, cs.collector_id)
 WHERE TRUE {filters}
 GROUP BY 1, 2
 ORDER BY 2, 1
"""


def aging_report(
    *,
    day: dt.date,
    group_by: str = "sector",
    sector=None,
    zone=None,
    use_type: str | None = None,
    collector=None,
    overdue_only: bool = False,
) -> list[dict]:
    """The aging of every account with ledger entries as of ``day`` grouped by ``group_by``
    (:data:`GROUPS`): per group the number of accounts, the amounts per bucket (``current``
    not yet due; ``d0_30`` … ``d180`` days past due; ``overdue`` their sum; ``balance``) and
    how many accounts have an amount in each bucket (``n_…``). Filters narrow the accounts."""
    if group_by not in _GROUP_SQL:
        raise ValueError(group_by)
    # The report shows amounts and counts by bucket only: the cheaper summary statement.
    sql, params = aging_sql(day=day, detail=False)
    key, label = _GROUP_SQL[group_by]
    filters = []
    for name, value, column in (
        ("f_sector", sector, "s.sector_id"),
        ("f_zone", zone, "s.zone_id"),
        ("f_use", use_type, "a.use_type"),
        ("f_collector", collector, "coalesce(ca.collector_id, cs.collector_id)"),
    ):
        if value is not None and value != "":
            filters.append(f"AND {column} = %({name})s")
            params[name] = getattr(value, "pk", value)
    if overdue_only:
        filters.append("AND g.overdue > 0")
    statement = REPORT_SQL.format(
        aging=sql,
        key=key,
        label=label,
        amounts=",\n       ".join(f"coalesce(sum(g.{c}), 0) AS {c}" for c in AMOUNTS),
        counts=",\n       ".join(
            f"count(*) FILTER (WHERE g.{c} > 0) AS n_{c}" for c in ("current", *BUCKETS, "overdue")
        ),
        users=connection.ops.quote_name(get_user_model()._meta.db_table),
        filters=" ".join(filters),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compiles this statement's many expressions for about a second, more than it
        # saves even at a million accounts.
        cursor.execute("SET LOCAL jit = off")
        # A million accounts' running sums per group: at the default work_mem the hash
        # aggregate spills to disk in dozens of batches (about a gigabyte written and read).
        cursor.execute(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
        cursor.execute(statement, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def aging_report_csv(rows: list[dict], out, *, group_by: str) -> None:
    """The report as CSV (headers in the active language)."""
    group_label = {
        "sector": _("Sector"),
        "zone": _("Zone"),
        "use_type": _("Use type"),
        "collector": _("Collector"),
        "total": _("Total"),
    }[group_by]
    bucket_label = {k: BUCKET_LABELS[k] for k in ("current", *BUCKETS)}
    header = [group_label, _("Accounts"), _("Account balance")]
    header += [_("Amount %(bucket)s") % {"bucket": bucket_label[k]} for k in ("current", *BUCKETS)]
    header += [_("Overdue")]
    header += [
        _("Accounts %(bucket)s") % {"bucket": bucket_label[k]} for k in ("current", *BUCKETS)
    ]
    header += [_("Accounts overdue")]
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [row["label"] or row["key"] or "-", row["accounts"]]
            + [row[c] for c in AMOUNTS]
            + [row[c] for c in COUNTS]
        )


def actions_list(
    *, account=None, day: dt.date | None = None, kind: str = "", status: str = ""
) -> QuerySet:
    qs = CollectionAction.objects.select_related("account", "work_order", "assigned_to")
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    if day is not None:
        qs = qs.filter(day=day)
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def large_consumers_list() -> QuerySet:
    return LargeConsumer.objects.select_related("account", "executive").order_by("account_id")


def collection_type_of(*, account) -> str:
    """The account's collection type: judicial, special, or normal (no row)."""
    account_id = getattr(account, "pk", account)
    found = (
        AccountCollectionType.objects.filter(account_id=account_id)
        .values_list("collection_type", flat=True)
        .first()
    )
    return found or CollectionType.NORMAL
