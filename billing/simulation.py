"""Tariff simulation: a draft tariff set applied to the last period's consumptions, against the
adopted set, before adopting it.

For every billing cycle, the latest reading period with consumptions is priced twice by the
billing run's own SQL (:mod:`billing.run_sql`): under the set adopted on its billing date and
under the draft, without previous balances (no surcharge). Nothing is written: the temporary
tables live in a transaction that is rolled back.

The answer, per use type x tariff zone and in total: accounts, revenue now and with the draft,
the change, and the distribution of each account's bill change in percent.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.utils.translation import gettext as _

from billing import run_sql, services
from billing.errors import BillingError
from billing.models import BillingCalendar, BillingCycle, TariffSet
from gis_core.sql import fetchall
from metering.models import ReadingPeriod

# Upper bounds (percent) of the bill-change buckets; the last bucket is everything above.
BUCKETS = (
    ("< -10 %", Decimal("-10")),
    ("-10 % … 0", Decimal("-0.005")),
    ("0", Decimal("0.005")),
    ("0 … 10 %", Decimal("10")),
    ("10 … 25 %", Decimal("25")),
    ("> 25 %", None),
)

_TOTALS_SQL = """
CREATE TEMP TABLE {table} ON COMMIT DROP AS
SELECT i.account_id, i.use_type, i.zone_id,
       CASE WHEN i.tariff_id IS NULL OR (i.q IS NULL AND t.flat_rate IS NULL) THEN NULL
            ELSE coalesce(sum(l.amount + l.tax), 0) END AS total
  FROM billing_in i
  LEFT JOIN billing_tariff t ON t.id = i.tariff_id
  LEFT JOIN billing_ln l ON l.account_id = i.account_id
 GROUP BY i.account_id, i.use_type, i.zone_id, i.tariff_id, i.q, t.flat_rate
"""


def _bucket_case() -> str:
    parts = []
    for label, upper in BUCKETS:
        if upper is None:
            parts.append(f"ELSE '{label}'")
        else:
            parts.append(f"WHEN pct < {upper} THEN '{label}'")
    return "CASE " + " ".join(parts) + " END"


def _latest_periods() -> list[ReadingPeriod]:
    ids = [
        row[0]
        for row in fetchall(
            """SELECT DISTINCT ON (p.cycle) p.id
                 FROM metering_readingperiod p
                WHERE EXISTS (SELECT 1 FROM metering_accountconsumption c WHERE c.period_id = p.id)
                ORDER BY p.cycle, p.starts_on DESC""",
            None,
        )
    ]
    return list(ReadingPeriod.objects.filter(pk__in=ids).order_by("cycle"))


def tariff_simulate(*, draft: TariffSet) -> dict:
    """Revenue change and bill-change distribution of ``draft`` (see the module docstring).
    Raises ``no_consumption`` (no period has consumptions) and ``no_tariff_set`` (no adopted
    set to compare with)."""
    periods = _latest_periods()
    if not periods:
        raise BillingError("no_consumption", _("No period has consumptions to simulate with."))
    rows: dict[tuple, dict] = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE sim_cur (account_id bigint, use_type text, zone_id bigint, total numeric) ON COMMIT DROP"
            )
            cursor.execute("CREATE TEMP TABLE sim_new (LIKE sim_cur) ON COMMIT DROP")
            for period in periods:
                cycle = BillingCycle.objects.filter(code=period.cycle).first()
                calendar = BillingCalendar.objects.filter(period=period).first()
                day = calendar.billing_date if calendar else period.ends_on
                current = services.tariff_set_for(day)
                if current is None:
                    raise BillingError(
                        "no_tariff_set",
                        _("No adopted tariff set is valid on %(date)s to compare with.")
                        % {"date": day.isoformat()},
                    )
                for tariff_set, table in ((current, "sim_cur"), (draft, "sim_new")):
                    params = {
                        "set": tariff_set.pk,
                        "period": period.pk,
                        "billing_date": day,
                        "months": cycle.months if cycle else 1,
                        "cycle": period.cycle,
                    }
                    cursor.execute("DROP TABLE IF EXISTS sim_scope")
                    cursor.execute(
                        """CREATE TEMP TABLE sim_scope ON COMMIT DROP AS
                           SELECT id FROM cadastre_serviceaccount
                            WHERE billing_cycle = %(cycle)s AND status <> 'inactive'""",
                        params,
                    )
                    run_sql.compute(cursor, params, "sim_scope")
                    cursor.execute("DELETE FROM billing_ln WHERE concept = 'surcharge'")
                    cursor.execute("DELETE FROM billing_ln WHERE concept = 'rounding'")
                    cursor.execute(run_sql.ROUNDING_SQL, params)
                    cursor.execute("DROP TABLE IF EXISTS sim_part")
                    cursor.execute(_TOTALS_SQL.format(table="sim_part"))
                    cursor.execute(f"INSERT INTO {table} SELECT * FROM sim_part")  # noqa: S608
            cursor.execute(
                f"""SELECT coalesce(n.use_type, c.use_type), z.code,
                           count(*) FILTER (WHERE c.total IS NOT NULL AND n.total IS NOT NULL),
                           coalesce(sum(c.total) FILTER (WHERE n.total IS NOT NULL), 0),
                           coalesce(sum(n.total) FILTER (WHERE c.total IS NOT NULL), 0),
                           count(*) FILTER (WHERE c.total IS NULL OR n.total IS NULL),
                           bucket, count(*) FILTER (WHERE bucket IS NOT NULL)
                      FROM sim_cur c FULL JOIN sim_new n ON n.account_id = c.account_id
                      LEFT JOIN sectors_tariffzone z ON z.id = coalesce(n.zone_id, c.zone_id)
                      CROSS JOIN LATERAL (
                          SELECT CASE WHEN c.total > 0 AND n.total IS NOT NULL
                                      THEN {_bucket_case()} END AS bucket
                            FROM (SELECT (n.total - c.total) * 100 / nullif(c.total, 0) AS pct) x
                      ) b
                     GROUP BY 1, 2, bucket ORDER BY 1, 2, bucket"""  # noqa: S608
            )
            result = cursor.fetchall()
        transaction.set_rollback(True)
    for use_type, zone, count, cur, new, unpriced, bucket, in_bucket in result:
        row = rows.setdefault(
            (use_type, zone),
            {
                "use_type": use_type,
                "zone": zone,
                "accounts": 0,
                "current": Decimal("0.00"),
                "draft": Decimal("0.00"),
                "unpriced": 0,
                "distribution": {label: 0 for label, _upper in BUCKETS},
            },
        )
        row["accounts"] += count
        row["current"] += cur
        row["draft"] += new
        row["unpriced"] += unpriced
        if bucket:
            row["distribution"][bucket] += in_bucket
    out = list(rows.values())
    for row in out:
        row["change"] = row["draft"] - row["current"]
        row["change_pct"] = (
            (row["change"] * 100 / row["current"]).quantize(Decimal("0.01"))
            if row["current"]
            else None
        )
    current = sum((r["current"] for r in out), Decimal(0))
    new = sum((r["draft"] for r in out), Decimal(0))
    return {
        "draft": draft.code,
        "periods": [f"{p.cycle}/{p.code}" for p in periods],
        "current": current,
        "draft_revenue": new,
        "change": new - current,
        "change_pct": ((new - current) * 100 / current).quantize(Decimal("0.01"))
        if current
        else None,
        "rows": out,
    }
