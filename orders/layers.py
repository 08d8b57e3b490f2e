"""Work orders' map layers (see gis_core.layers): open orders, as points and as a heat map,
coloured late / on time; and the late ones alone, for managers watching SLAs.

Lateness changes with the clock, not with a write: these tiles are cached five minutes at
most (``cache_seconds``), so an order turns late on the map within five minutes of its due
time."""

from django.utils.translation import gettext_lazy as _

from gis_core.layers import POINT, Layer, LayerFilter, register
from orders.models import OPEN_STATUSES, TicketKind, WorkOrderKind

# Closed orders (done, failed, cancelled) are history, not work in the street: the layer and its
# heat map show only what a crew still has to do.
_OPEN = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
LATENESS_CACHE_SECONDS = 300

register(
    Layer(
        name="open_orders",
        label=_("Open work orders"),
        group=_("Work orders"),
        geometry_type=POINT,
        source=(
            "SELECT o.id, o.location AS geom, o.number, o.kind, o.status, o.priority,"  # noqa: S608 - constants
            " o.created_at, o.due_at, c.code AS crew,"
            " CASE WHEN o.due_at < now() THEN 'late' ELSE 'on_time' END AS timeliness"
            f" FROM orders_workorder o LEFT JOIN orders_crew c ON c.id = o.crew_id"
            f" WHERE o.status IN ({_OPEN})"
        ),
        tables=("orders_workorder", "orders_crew"),
        attributes=(
            "number",
            "kind",
            "status",
            "priority",
            "created_at",
            "due_at",
            "crew",
            "timeliness",
        ),
        cache_seconds=LATENESS_CACHE_SECONDS,
        min_zoom=12,
        max_zoom=22,
        style={
            "radius": 5,
            "color": "#a33b20",
            "fillColor": "#e8743b",
            "fillOpacity": 0.9,
            "by": {"attribute": "timeliness", "colours": {"late": "#cb181d", "on_time": "#fd8d3c"}},
        },
        permission="orders.view_workorder",
        filters={
            "status": LayerFilter(
                column="status",
                choices=tuple(status.value for status in OPEN_STATUSES),
                label=_("Status"),
            ),
            "kind": LayerFilter(
                column="kind", choices=tuple(WorkOrderKind.values), label=_("Kind")
            ),
            "timeliness": LayerFilter(
                column="timeliness",
                choices=("late", "on_time"),
                label=_("Timeliness"),
                choice_labels={"late": _("Late"), "on_time": _("On time")},
            ),
        },
        heat_weights={"count": "1"},
    )
)

register(
    Layer(
        name="late_orders",
        label=_("Late work orders"),
        group=_("Work orders"),
        geometry_type=POINT,
        source=(
            "SELECT o.id, o.location AS geom, o.number, o.kind, o.status, o.priority,"  # noqa: S608 - constants
            " o.due_at, c.code AS crew,"
            " round((extract(epoch FROM now() - o.due_at) / 3600)::numeric, 1)::float8"
            " AS hours_late"
            " FROM orders_workorder o LEFT JOIN orders_crew c ON c.id = o.crew_id"
            f" WHERE o.status IN ({_OPEN}) AND o.due_at < now()"
        ),
        tables=("orders_workorder", "orders_crew"),
        attributes=("number", "kind", "status", "priority", "due_at", "crew", "hours_late"),
        min_zoom=10,
        max_zoom=22,
        style={"radius": 6, "color": "#67000d", "fillColor": "#ef3b2c", "fillOpacity": 0.95},
        permission="orders.view_workorder",
        filters={
            "kind": LayerFilter(
                column="kind", choices=tuple(WorkOrderKind.values), label=_("Kind")
            ),
        },
        heat_weights={"count": "1", "hours_late": "hours_late"},
        cache_seconds=LATENESS_CACHE_SECONDS,
    )
)

register(
    Layer(
        name="open_tickets",
        label=_("Open service requests"),
        group=_("Work orders"),
        geometry_type=POINT,
        source=(
            "SELECT t.id, t.location AS geom, t.number, t.kind, t.status, t.due_at,"
            " CASE WHEN t.due_at < now() THEN 'late' ELSE 'on_time' END AS timeliness"
            " FROM orders_ticket t"
            " WHERE t.status IN ('open', 'in_progress') AND t.location IS NOT NULL"
        ),
        tables=("orders_ticket",),
        attributes=("number", "kind", "status", "due_at", "timeliness"),
        min_zoom=11,
        max_zoom=22,
        style={
            "radius": 5,
            "color": "#3f007d",
            "fillColor": "#9e9ac8",
            "fillOpacity": 0.9,
            "by": {"attribute": "timeliness", "colours": {"late": "#cb181d", "on_time": "#807dba"}},
        },
        permission="orders.view_ticket",
        filters={
            "kind": LayerFilter(column="kind", choices=tuple(TicketKind.values), label=_("Kind")),
            "timeliness": LayerFilter(
                column="timeliness",
                choices=("late", "on_time"),
                label=_("Timeliness"),
                choice_labels={"late": _("Late"), "on_time": _("On time")},
            ),
        },
        heat_weights={"count": "1"},
        cache_seconds=LATENESS_CACHE_SECONDS,
    )
)
