"""When a work order is due: its type's SLA counted from when it was created.

Two ways of counting, per type (``WorkOrderType.sla_working_hours``):

- **working hours** (most types): only the utility's working hours count — by default Monday
  to Friday, 08:00 to 17:00 (``CAUDAL_WORKING_HOURS``, ``CAUDAL_WORKING_DAYS``) — and no hour
  of a :class:`~orders.models.Holiday`. An order created on Friday at 16:00 with an 8-hour SLA
  is due on Monday at 15:00.
- **calendar hours** (emergencies: leaks, sewer blockages): every hour counts.

Days, hours and holidays are those of the utility's time zone (``TIME_ZONE``), whatever zone
the creation instant was given in; the result is an aware instant. Counting walks working
windows day by day: an SLA of a few hundred hours is a few dozen steps.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

MAX_DAYS = 3660  # a calendar without working days must not loop forever


def working_window() -> tuple[dt.time, dt.time]:
    start, end = getattr(settings, "CAUDAL_WORKING_HOURS", ("08:00", "17:00"))
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def _working_days() -> frozenset[int]:
    return frozenset(getattr(settings, "CAUDAL_WORKING_DAYS", (0, 1, 2, 3, 4)))


def due_at(*, start: dt.datetime, hours: int, working_hours: bool, holidays=None) -> dt.datetime:
    """The instant ``hours`` SLA hours after ``start`` (aware). ``holidays``: a set of dates;
    by default those stored in :class:`orders.models.Holiday`."""
    if timezone.is_naive(start):
        raise ValueError("start must be an aware datetime")
    if not working_hours:
        return start + dt.timedelta(hours=hours)
    if holidays is None:
        from orders.models import Holiday

        holidays = set(Holiday.objects.values_list("day", flat=True))
    zone = timezone.get_default_timezone()
    opens, closes = working_window()
    days = _working_days()
    remaining = dt.timedelta(hours=hours)
    local = timezone.localtime(start, zone)
    day = local.date()
    for _ in range(MAX_DAYS):
        if day.weekday() in days and day not in holidays:
            window_start = timezone.make_aware(dt.datetime.combine(day, opens), zone)
            window_end = timezone.make_aware(dt.datetime.combine(day, closes), zone)
            begin = max(window_start, start)
            if begin < window_end:
                available = window_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("no working hours in the calendar")
