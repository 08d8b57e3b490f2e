"""A crew's day, planned with the route engine (:func:`routing.services.visits_plan`).

The crew's open orders (assigned to it, not finished) are visits from the crew's base and back
over the street network by car, each with its type's minutes on site; an order due within
the shift must be reached before its due time (a time window), and the most urgent go first
when the day cannot hold them all — what does not fit is listed as left for another day, never
silently dropped. The shift is the utility's working hours (``CAUDAL_WORKING_HOURS``). Nothing
is written: the dispatcher reads the plan (and the crew follows it in the field app's order).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import OPEN_STATUSES, Crew, WorkOrder
from orders.services import WorkOrderError
from orders.sla import working_window

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def crew_day_plan(*, crew: Crew, day: dt.date | None = None, time_limit_s: float = 10) -> dict:
    """The order in which ``crew`` should visit its open orders on ``day`` (today by default):
    ``{"day", "shift", "stops": [{number, kind, arrival}], "km", "travel_minutes",
    "service_minutes", "left": [numbers], "solver"}``. Raises :class:`WorkOrderError` when the
    crew has nothing to do or the streets cannot be routed on."""
    from routing.models import RoutingError
    from routing.services import visits_plan

    day = day or timezone.localdate()
    opens, closes = working_window()
    zone = timezone.get_default_timezone()
    shift_start = timezone.make_aware(dt.datetime.combine(day, opens), zone)
    shift_end = timezone.make_aware(dt.datetime.combine(day, closes), zone)
    shift_minutes = (shift_end - shift_start).total_seconds() / 60
    orders = sorted(
        WorkOrder.objects.filter(crew=crew, status__in=OPEN_STATUSES).select_related("kind"),
        key=lambda o: (PRIORITY_RANK.get(o.priority, 9), o.due_at or o.created_at, o.pk),
    )
    if not orders:
        raise WorkOrderError(
            "crew_idle",
            _("Crew %(crew)s has no open work orders.") % {"crew": crew.code},
            field="crew",
        )
    visits = []
    for o in orders:
        visit = {
            "id": o.pk,
            "xy": [o.location.x, o.location.y],
            "service_minutes": o.kind.service_minutes,
        }
        if o.due_at is not None and shift_start < o.due_at < shift_end:
            visit["window"] = [0, (o.due_at - shift_start).total_seconds() / 60]
        visits.append(visit)
    try:
        plan = visits_plan(
            visits=visits,
            vehicles=1,
            office=[crew.base.x, crew.base.y],
            profile="driving",
            shift_minutes=shift_minutes,
            time_limit_s=time_limit_s,
            optional=True,
        )
    except RoutingError as error:
        raise WorkOrderError(error.code, error.message, field="crew") from error
    by_id = {o.pk: o for o in orders}
    route = (
        plan["routes"][0]
        if plan["routes"]
        else {"visits": [], "km": 0, "travel_minutes": 0, "service_minutes": 0}
    )
    return {
        "day": day,
        "shift": [shift_start, shift_end],
        "stops": [
            {
                "number": by_id[v["id"]].number,
                "kind": by_id[v["id"]].kind_id,
                "arrival": shift_start + dt.timedelta(minutes=v["arrival_minutes"]),
            }
            for v in route["visits"]
        ],
        "km": route["km"],
        "travel_minutes": route["travel_minutes"],
        "service_minutes": route["service_minutes"],
        "left": [by_id[i].number for i in plan["dropped"]],
        "solver": plan["solver"],
    }
