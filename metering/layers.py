"""Metering's map layers (see gis_core.layers): meters, readings waiting for review,
macrometers, and the districts coloured by their non-revenue water.

The review layer shows where flagged readings are (at their meter), for office staff only:
the permission is the review right, which meter readers never hold.
"""

from django.utils.translation import gettext_lazy as _

from gis_core.layers import POINT, POLYGON, Layer, LayerFilter, register
from metering.models import MeterStatus, MeterTechnology, NrwClass

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

register(
    Layer(
        name="macrometers",
        label=_("Macrometers"),
        group=GROUP,
        geometry_type=POINT,
        source=(
            "SELECT m.id, m.location AS geom, m.code, m.name, di.code AS dma_in,"
            " dout.code AS dma_out, m.diameter_mm"
            " FROM metering_macrometer m"
            " LEFT JOIN sectors_dma di ON di.id = m.dma_in_id"
            " LEFT JOIN sectors_dma dout ON dout.id = m.dma_out_id"
            " WHERE m.in_service_until IS NULL OR m.in_service_until > now()"
        ),
        tables=("metering_macrometer", "sectors_dma"),
        attributes=("code", "name", "dma_in", "dma_out", "diameter_mm"),
        min_zoom=10,
        max_zoom=22,
        style={"radius": 7, "color": "#08306b", "fillColor": "#4292c6", "fillOpacity": 1},
        permission="metering.view_macrometer",
    )
)

# Each district with its latest computed month (a month whose input is not measured yet, the
# current one, shows as such: grey). The colours run from green to red as losses grow.
register(
    Layer(
        name="water_balance",
        label=_("Non-revenue water by district"),
        group=GROUP,
        geometry_type=POLYGON,
        source=(
            "SELECT d.id, d.geom, d.code, d.name, to_char(w.month, 'YYYY-MM') AS month,"
            " w.non_revenue_pct::float8 AS nrw_pct, w.system_input_m3::float8 AS input_m3,"
            " w.non_revenue_m3::float8 AS nrw_m3, w.nrw_class"
            " FROM sectors_dma d"
            " JOIN LATERAL (SELECT * FROM metering_waterbalance x WHERE x.dma_id = d.id"
            "  ORDER BY (x.nrw_class <> 'unknown') DESC, x.month DESC LIMIT 1) w ON TRUE"
        ),
        tables=("sectors_dma", "metering_waterbalance"),
        attributes=("code", "name", "month", "nrw_pct", "input_m3", "nrw_m3", "nrw_class"),
        min_zoom=8,
        max_zoom=18,
        style={
            "color": "#333333",
            "weight": 2,
            "fillOpacity": 0.55,
            "by": {
                "attribute": "nrw_class",
                "colours": {
                    NrwClass.LOW.value: "#1a9850",
                    NrwClass.MEDIUM.value: "#fee08b",
                    NrwClass.HIGH.value: "#fc8d59",
                    NrwClass.VERY_HIGH.value: "#d73027",
                    NrwClass.NEGATIVE.value: "#5e3c99",
                    NrwClass.UNKNOWN.value: "#bdbdbd",
                },
            },
        },
        permission="metering.view_waterbalance",
        filters={
            "nrw_class": LayerFilter(
                column="nrw_class", choices=tuple(NrwClass.values), label=_("non-revenue water")
            ),
        },
    )
)
