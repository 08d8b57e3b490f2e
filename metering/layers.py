"""Metering's map layers (see gis_core.layers): meters, and readings waiting for review.

The review layer shows where flagged readings are (at their meter), for office staff only:
the permission is the review right, which meter readers never hold.
"""

from django.utils.translation import gettext_lazy as _

from gis_core.layers import POINT, Layer, LayerFilter, register
from metering.models import MeterStatus, MeterTechnology

GROUP = _("Metering")

register(
    Layer(
        name="meters",
        label=_("Meters"),
        group=GROUP,
        geometry_type=POINT,
        source=(
            "SELECT id, location AS geom, serial, status, technology, diameter_mm, dials"
            " FROM metering_meter WHERE location IS NOT NULL"
        ),
        tables=("metering_meter",),
        attributes=("serial", "status", "technology", "diameter_mm", "dials"),
        min_zoom=15,
        max_zoom=22,
        style={"radius": 3, "color": "#1f78b4", "fillColor": "#a6cee3", "fillOpacity": 0.9},
        permission="metering.view_meter",
        filters={
            "status": LayerFilter(
                column="status", choices=tuple(MeterStatus.values), label=_("status")
            ),
            "technology": LayerFilter(
                column="technology", choices=tuple(MeterTechnology.values), label=_("technology")
            ),
        },
        heat_weights={"count": "1"},
    )
)

register(
    Layer(
        name="flagged_readings",
        label=_("Readings to review"),
        group=GROUP,
        geometry_type=POINT,
        # Few rows (the review queue); the partial index on flagged readings finds them.
        source=(
            "SELECT r.id, coalesce(m.location, a.service_point) AS geom,"
            " array_to_string(r.flags, ',') AS flags, r.period_id, r.meter_id"
            " FROM metering_reading r"
            " JOIN metering_meter m ON m.id = r.meter_id"
            " JOIN cadastre_serviceaccount a ON a.id = r.account_id"
            " WHERE r.status = 'flagged'"
        ),
        tables=("metering_reading", "metering_meter", "cadastre_serviceaccount"),
        attributes=("flags", "period_id", "meter_id"),
        min_zoom=12,
        max_zoom=22,
        style={"radius": 5, "color": "#e31a1c", "fillColor": "#fb9a99", "fillOpacity": 0.9},
        permission="metering.change_reading",
        filters={
            "period": LayerFilter(column="period_id", kind="int", label=_("reading period")),
        },
        heat_weights={"count": "1"},
    )
)
