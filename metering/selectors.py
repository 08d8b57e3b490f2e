"""Reads of metering: reader routes, readings, the review queue with expected values.

Expected values (previous reading, consumption, the history average) are for office staff:
:func:`can_see_expected` says who may see them, and every selector that returns them is only
called behind it. Meter readers never get them, whatever other role they also hold: a reader
who sees what is expected can write it down without reading the meter.
"""

from django.db import connection
from django.db.models import QuerySet

from metering.models import (
    Meter,
    MeterStatus,
    PeriodStatus,
    Reading,
    ReadingAssignment,
    ReadingPeriod,
    ReadingStatus,
    WaterBalance,
)
from metering.services import user_is_meter_reader
from metering.validation import RuleCode, rules_load


def can_see_expected(user) -> bool:
    """Office staff with the right to view readings, and never a meter reader."""
    return bool(
        user
        and user.is_authenticated
        and user.has_perm("metering.view_reading")
        and not user_is_meter_reader(user)
    )


def reader_assignments(*, user) -> QuerySet[ReadingAssignment]:
    """The user's assignments in open periods, by day."""
    return (
        ReadingAssignment.objects.filter(reader=user, period__status=PeriodStatus.OPEN)
        .select_related("period", "book")
        .order_by("scheduled_on", "book__code")
    )


def assignment_meters(*, assignment: ReadingAssignment) -> list[dict]:
    """The installed meters of the assignment's book, in route order (account number), with
    what a reader needs to find them — and whether the meter was already visited in the
    period. Nothing about consumption. One query, however large the book."""
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT m.id, m.serial, a.number, p.address,
                   ST_X(ST_Transform(coalesce(m.location, a.service_point), 4326)),
                   ST_Y(ST_Transform(coalesce(m.location, a.service_point), 4326)),
                   m.dials,
                   EXISTS (SELECT 1 FROM metering_reading r
                           WHERE r.period_id = %(period)s AND r.account_id = a.id
                             AND r.meter_id = m.id AND r.status <> 'rejected') AS visited
            FROM sectors_accountsectors s
            JOIN cadastre_serviceaccount a ON a.id = s.account_id
            JOIN cadastre_parcel p ON p.id = a.parcel_id
            JOIN metering_meter m ON m.account_id = a.id AND m.status = 'installed'
            WHERE s.book_id = %(book)s AND a.billing_cycle = %(cycle)s
            ORDER BY s.reading_sequence NULLS LAST, a.number
            """,
            {
                "period": assignment.period_id,
                "book": assignment.book_id,
                "cycle": assignment.period.cycle,
            },
        )
        keys = ("meter_id", "serial", "account", "address", "lon", "lat", "dials", "visited")
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


def open_period_for(*, account, day) -> ReadingPeriod | None:
    return ReadingPeriod.objects.filter(
        cycle=account.billing_cycle, starts_on__lte=day, ends_on__gte=day
    ).first()


def readings(
    *,
    meter_id: int | None = None,
    account_id: int | None = None,
    period_id: int | None = None,
    status: str | None = None,
    flag: str | None = None,
) -> QuerySet[Reading]:
    """Readings for office staff (newest first), filtered."""
    qs = Reading.objects.select_related("meter", "account", "period", "observation")
    if meter_id:
        qs = qs.filter(meter_id=meter_id)
    if account_id:
        # Through the account's meters: the chain index serves it (readings carry no index
        # by account alone).
        meters = Meter.objects.filter(account_id=account_id).values("pk")
        qs = qs.filter(meter_id__in=meters, account_id=account_id)
    if period_id:
        qs = qs.filter(period_id=period_id)
    if status:
        qs = qs.filter(status=status)
    if flag:
        qs = qs.filter(flags__contains=[flag])
    return qs.order_by("-captured_at", "-id")


def review_queue(
    *,
    period_id: int | None = None,
    flag: str | None = None,
    cycle: str | None = None,
    account_id: int | None = None,
) -> QuerySet[Reading]:
    """Flagged readings waiting for a decision, oldest arrival first (the partial index
    ``reading_review_queue`` holds exactly these)."""
    qs = Reading.objects.filter(status=ReadingStatus.FLAGGED).select_related(
        "meter", "account", "period", "observation", "reader", "work_order"
    )
    if period_id:
        qs = qs.filter(period_id=period_id)
    if flag:
        qs = qs.filter(flags__contains=[flag])
    if cycle:
        qs = qs.filter(period__cycle=cycle)
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs.order_by("received_at", "id")


def expected_values(*, reading_ids: list[int]) -> dict[int, dict]:
    """For each reading: the previous chain reading of its meter (value, date) and the average
    consumption of the meter's last valid readings (the high-consumption rule's history) —
    one query with one index probe per reading, for a page of the queue."""
    if not reading_ids:
        return {}
    n = rules_load().params[RuleCode.HIGH_CONSUMPTION]["history_readings"]
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.id, prev.value, prev.captured_at, hist.avg, hist.n
            FROM metering_reading c
            LEFT JOIN LATERAL (
                SELECT r.value, r.captured_at FROM metering_reading r
                WHERE r.meter_id = c.meter_id AND r.captured_at <= c.captured_at
                  AND (r.captured_at < c.captured_at OR r.id < c.id)
                  AND r.value IS NOT NULL AND r.status IN ('valid', 'flagged', 'accepted')
                ORDER BY r.captured_at DESC, r.id DESC LIMIT 1) prev ON TRUE
            LEFT JOIN LATERAL (
                SELECT avg(x.consumption) AS avg, count(*) AS n FROM (
                    SELECT r.consumption FROM metering_reading r
                    WHERE r.meter_id = c.meter_id AND r.captured_at < c.captured_at
                      AND r.kind = 'regular' AND r.status IN ('valid', 'accepted')
                      AND r.consumption IS NOT NULL
                    ORDER BY r.captured_at DESC, r.id DESC LIMIT %s) x) hist ON TRUE
            WHERE c.id = ANY(%s)
            """,
            [n, list(reading_ids)],
        )
        return {
            rid: {
                "previous_value": value,
                "previous_captured_at": at,
                "history_average_m3": avg,
                "history_readings": count,
            }
            for rid, value, at, avg, count in cur.fetchall()
        }


def installed_meter(*, account) -> Meter | None:
    return Meter.objects.filter(account=account, status=MeterStatus.INSTALLED).first()


# --- Water balance ---------------------------------------------------------------------------


def water_balance_month(*, month) -> QuerySet:
    """Every district's balance of ``month`` (a date; its first day is the month), by code."""
    return (
        WaterBalance.objects.filter(month=month.replace(day=1))
        .select_related("dma")
        .order_by("dma__code")
    )


def water_balance_history(*, dma, months: int = 24) -> list:
    """The last ``months`` balances of a district, newest first."""
    return list(WaterBalance.objects.filter(dma=dma).order_by("-month")[:months])


def last_readings(*, meter_ids, per_meter: int) -> list[Reading]:
    """The last ``per_meter`` readings of each meter (newest first, meters in id order), from
    one query: a LATERAL probe of the (meter, captured_at) index per meter, whatever the
    readings' history length. Office data (status, flags): callers check
    :func:`can_see_expected` first."""
    return list(
        Reading.objects.raw(
            """SELECT r.* FROM unnest(%s::bigint[]) m(id)
               CROSS JOIN LATERAL (SELECT * FROM metering_reading x WHERE x.meter_id = m.id
                                   ORDER BY x.captured_at DESC, x.id DESC LIMIT %s) r
               ORDER BY r.meter_id, r.captured_at DESC, r.id DESC""",
            [sorted(meter_ids), per_meter],
        ).prefetch_related("meter")
    )
