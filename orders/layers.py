"""Work orders' map layers (see gis_core.layers): open orders, as points and as a heat map."""

from django.utils.translation import gettext_lazy as _

from gis_core.layers import POINT, Layer, LayerFilter, register
from orders.models import OPEN_STATUSES, WorkOrderKind

# Closed orders (done, failed, cancelled) are history, not work in the street: the layer and its
# heat map show only what a crew still has to do.
_OPEN = ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)

register(
    Layer(
        name="open_orders",
        label=_("Open work orders"),
        group=_("Work orders"),
        geometry_type=POINT,
        source=(
            "SELECT id, location AS geom, number, kind, status, created_at"  # noqa: S608 - constants
            f" FROM orders_workorder WHERE status IN ({_OPEN})"
        ),
        tables=("orders_workorder",),
        attributes=("number", "kind", "status", "created_at"),
        min_zoom=12,
        max_zoom=22,
        style={"radius": 5, "color": "#a33b20", "fillColor": "#e8743b", "fillOpacity": 0.9},
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
        },
        heat_weights={"count": "1"},
    )
)
