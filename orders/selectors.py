"""Reads of work orders."""

from django.contrib.gis.db.models.functions import Transform

from gis_core.srid import WGS84
from orders.models import WorkOrder


def work_order_list(
    *, status: str | None = None, kind: str | None = None, source: str | None = None
):
    """Work orders, newest first, with their location in WGS 84 (``location_wgs84``)."""
    qs = WorkOrder.objects.select_related("parcel", "account", "created_by").annotate(
        location_wgs84=Transform("location", WGS84)
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
