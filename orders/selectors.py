"""Reads of work orders."""

from decimal import Decimal

from django.contrib.gis.db.models.functions import Transform

from gis_core.srid import WGS84
from orders.models import OPEN_STATUSES, WorkOrder


def work_order_list(
    *, status: str | None = None, kind: str | None = None, source: str | None = None
):
    """Work orders, newest first, with their location in WGS 84 (``location_wgs84``)."""
    qs = (
        WorkOrder.objects.select_related(
            "parcel", "account", "created_by", "kind", "crew", "result"
        )
        .prefetch_related("attachments")
        .annotate(location_wgs84=Transform("location", WGS84))
    )
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if source is not None:
        qs = qs.filter(source=source)
    return qs.order_by("-created_at", "-id")


def work_order_get(*, pk: int) -> WorkOrder:
    return work_order_list().get(pk=pk)


def crew_open_orders(*, crew) -> list[WorkOrder]:
    """A crew's open orders, most urgent first (priority, then due time), with WGS 84 points."""
    priority_rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    orders = list(
        WorkOrder.objects.filter(crew=crew, status__in=OPEN_STATUSES)
        .select_related("kind", "account", "parcel")
        .prefetch_related("kind__materials", "attachments")
        .annotate(location_wgs84=Transform("location", WGS84))
    )
    orders.sort(key=lambda o: (priority_rank.get(o.priority, 9), o.due_at or o.created_at, o.pk))
    return orders


# --- Performance -----------------------------------------------------------------------------

PERFORMANCE_DIMENSIONS = {
    "kind": ("o.kind", "o.kind"),
    "crew": ("c.code", "c.code"),
    "sector": ("coalesce(sec.code, '—')", "coalesce(sec.code, '—')"),
    "month": (
        "to_char(o.created_at AT TIME ZONE %(tz)s, 'YYYY-MM')",
        "to_char(o.created_at AT TIME ZONE %(tz)s, 'YYYY-MM')",
    ),
}


def work_order_performance(*, by: str, since=None, until=None) -> list[dict]:
    """Field performance of the orders created in [``since``, ``until``) grouped ``by`` type,
    crew, sector (of the order's account) or month (local), in one aggregate query:

    - ``orders``, ``open``, ``done``, ``failed``, ``cancelled``: counts;
    - ``hours_to_attend``: mean hours from creation to check-in on site;
    - ``hours_to_close``: mean hours from creation to done/failed;
    - ``sla_met_pct``: finished orders finished by their due time, and open ones not yet
      late, over all with a due time (late open orders count as missed);
    - ``first_time_fix_pct``: done orders done on their first visit, over done orders;
    - ``efficacy_pct``: done over finished (done + failed) — visits that achieved the job;
    - ``done_per_crew_day``: done orders over the crew-days that finished one (a crew-day:
      a crew and a local date with at least one order finished).
    """
    from django.conf import settings
    from django.db import connection

    if by not in PERFORMANCE_DIMENSIONS:
        raise ValueError(by)
    key, group = PERFORMANCE_DIMENSIONS[by]
    where, params = ["TRUE"], {"tz": settings.TIME_ZONE}
    if since is not None:
        where.append("o.created_at >= %(since)s")
        params["since"] = since
    if until is not None:
        where.append("o.created_at < %(until)s")
        params["until"] = until
    sql = f"""
        SELECT {key} AS key,
               count(*) AS orders,
               count(*) FILTER (WHERE o.status IN ('created','assigned','en_route','in_progress')) AS open,
               count(*) FILTER (WHERE o.status = 'done') AS done,
               count(*) FILTER (WHERE o.status = 'failed') AS failed,
               count(*) FILTER (WHERE o.status = 'cancelled') AS cancelled,
               round((avg(extract(epoch FROM o.started_at - o.created_at)) / 3600)::numeric, 1)
                   AS hours_to_attend,
               round((avg(extract(epoch FROM o.finished_at - o.created_at)) / 3600)::numeric, 1)
                   AS hours_to_close,
               round(100.0 * count(*) FILTER (WHERE o.due_at IS NOT NULL AND o.status <> 'cancelled'
                         AND coalesce(o.finished_at, now()) <= o.due_at)
                     / nullif(count(*) FILTER (WHERE o.due_at IS NOT NULL
                                                AND o.status <> 'cancelled'), 0), 1)
                   AS sla_met_pct,
               round(100.0 * count(*) FILTER (WHERE o.status = 'done' AND o.visits = 1)
                     / nullif(count(*) FILTER (WHERE o.status = 'done'), 0), 1)
                   AS first_time_fix_pct,
               round(100.0 * count(*) FILTER (WHERE o.status = 'done')
                     / nullif(count(*) FILTER (WHERE o.status IN ('done', 'failed')), 0), 1)
                   AS efficacy_pct,
               round(count(*) FILTER (WHERE o.status = 'done')::numeric
                     / nullif(count(DISTINCT (o.crew_id, (o.finished_at AT TIME ZONE %(tz)s)::date))
                                FILTER (WHERE o.status = 'done'), 0), 2)
                   AS done_per_crew_day
          FROM orders_workorder o
          LEFT JOIN orders_crew c ON c.id = o.crew_id
          LEFT JOIN sectors_accountsectors s ON s.account_id = o.account_id
          LEFT JOIN sectors_commercialarea sec ON sec.id = s.sector_id
         WHERE {" AND ".join(where)}
         GROUP BY {group}
         ORDER BY 1 NULLS LAST
    """  # noqa: S608 - the dimension comes from a fixed table; values are parameters
    with connection.cursor() as cur:
        cur.execute(sql, params)
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


# --- The 360° view of a customer ---------------------------------------------------------------

OVERVIEW_READINGS = 3
OVERVIEW_PERIODS = 6


def customer_overview(*, customer, user) -> dict:
    """Everything the desk sees about a customer, in a few queries: their accounts (place on
    the map, sectors, meter, last readings and consumption — readings only for users who may
    see them), open work orders and the last tickets. Balances come from billing's ledger."""
    from cadastre.models import ServiceAccount
    from metering.models import AccountConsumption, Meter, MeterStatus
    from metering.selectors import can_see_expected, last_readings
    from orders.models import Ticket

    accounts = list(
        ServiceAccount.objects.filter(customer=customer)
        .select_related("parcel", "sectors__sector", "sectors__book", "sectors__dma")
        .annotate(point_wgs84=Transform("service_point", WGS84))
        .order_by("number")
    )
    ids = [a.pk for a in accounts]
    from billing.selectors import account_balances

    balances = account_balances(account_ids=ids)
    meters = {
        m.account_id: m
        for m in Meter.objects.filter(account_id__in=ids, status=MeterStatus.INSTALLED)
    }
    readings: dict[int, list] = {}
    if can_see_expected(user):
        # The installed meter's last readings (a swapped-out meter's are its own history).
        by_meter = {m.pk: account_id for account_id, m in meters.items()}
        for r in last_readings(meter_ids=list(by_meter), per_meter=OVERVIEW_READINGS):
            readings.setdefault(by_meter[r.meter_id], []).append(
                {
                    "captured_at": r.captured_at,
                    "value": None if r.value is None else str(r.value),
                    "consumption": None if r.consumption is None else str(r.consumption),
                    "status": r.status,
                }
            )
    consumption: dict[int, list] = {}
    for c in (
        AccountConsumption.objects.filter(account_id__in=ids)
        .select_related("period")
        .order_by("account_id", "-period__starts_on")
    ):
        bucket = consumption.setdefault(c.account_id, [])
        if len(bucket) < OVERVIEW_PERIODS:
            bucket.append(
                {"period": c.period.code, "volume_m3": str(c.volume_m3), "method": c.method}
            )

    from billing.selectors import recent_bills_and_payments

    bills, payments = recent_bills_and_payments(account_ids=ids, limit=OVERVIEW_PERIODS)

    def sector(a, name):
        s = getattr(a, "sectors", None)
        area = getattr(s, name, None) if s else None
        return area.code if area else None

    return {
        "customer": {
            "id": customer.pk,
            "name": str(customer),
            "rfc": customer.rfc,
            "email": customer.email,
            "phone": customer.phone,
        },
        "accounts": [
            {
                "number": a.number,
                "status": a.status,
                "use_type": a.use_type,
                "parcel": a.parcel.cadastral_key,
                "address": a.parcel.address,
                "lonlat": [round(a.point_wgs84.x, 6), round(a.point_wgs84.y, 6)],
                "sector": sector(a, "sector"),
                "book": sector(a, "book"),
                "dma": sector(a, "dma"),
                # Money and volumes as strings: JSON numbers are floats.
                "balance": str(balances.get(a.pk, Decimal("0.00"))),
                "meter": meters[a.pk].serial if a.pk in meters else None,
                "last_readings": readings.get(a.pk, []),
                "consumption": consumption.get(a.pk, []),
                "bills": bills.get(a.pk, []),
                "payments": payments.get(a.pk, []),
            }
            for a in accounts
        ],
        "open_orders": [
            {"number": o.number, "kind": o.kind_id, "status": o.status, "due_at": o.due_at}
            for o in WorkOrder.objects.filter(
                account_id__in=ids, status__in=OPEN_STATUSES
            ).order_by("due_at")
        ],
        "tickets": [
            {
                "id": t.pk,
                "number": t.number,
                "kind": t.kind,
                "status": t.status,
                "created_at": t.created_at,
            }
            for t in Ticket.objects.filter(customer=customer).order_by("-created_at")[:20]
        ],
    }
