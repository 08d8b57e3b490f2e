"""The water network's map layers (see gis_core.layers): pipes coloured by material and by
diameter class, valves by status, hydrants, tanks and sources, service connections, sewers and
manholes, and the sections of active outages."""

from django.utils.translation import gettext_lazy as _

from gis_core.layers import LINE, POINT, Layer, LayerFilter, register
from network.models import AssetStatus, Material

GROUP = _("Water network")
# Every status (planned and abandoned pipes too): the status filter narrows it.
PIPES = "SELECT id, geom, code, material, diameter_mm, install_year, status FROM network_pipe"
PIPE_ATTRIBUTES = ("code", "material", "diameter_mm", "install_year", "status")
STATUS_FILTER = LayerFilter(column="status", choices=tuple(AssetStatus.values), label=_("status"))

register(
    Layer(
        name="pipes_by_material",
        label=_("Pipes by material"),
        group=GROUP,
        geometry_type=LINE,
        source=PIPES,
        tables=("network_pipe",),
        attributes=PIPE_ATTRIBUTES,
        min_zoom=12,
        max_zoom=22,
        style={
            "weight": 3,
            "by": {
                "attribute": "material",
                "colours": {
                    Material.PVC.value: "#1f78b4",
                    Material.PE.value: "#33a02c",
                    Material.DUCTILE_IRON.value: "#6a3d9a",
                    Material.CAST_IRON.value: "#b15928",
                    Material.STEEL.value: "#e31a1c",
                    Material.ASBESTOS_CEMENT.value: "#ff7f00",
                    Material.CONCRETE.value: "#999999",
                    Material.UNKNOWN.value: "#cccccc",
                },
            },
        },
        permission="network.view_pipe",
        filters={
            "material": LayerFilter(
                column="material", choices=tuple(Material.values), label=_("material")
            ),
            "status": STATUS_FILTER,
        },
    )
)

# Diameter classes computed in the source: the style colours a category, not a number.
register(
    Layer(
        name="pipes_by_diameter",
        label=_("Pipes by diameter"),
        group=GROUP,
        geometry_type=LINE,
        source=(
            "SELECT id, geom, code, diameter_mm, material, status,"
            " CASE WHEN diameter_mm < 100 THEN 'small' WHEN diameter_mm < 250 THEN 'medium'"
            " WHEN diameter_mm < 500 THEN 'large' ELSE 'trunk' END AS diameter_class"
            " FROM network_pipe"
        ),
        tables=("network_pipe",),
        attributes=("code", "diameter_mm", "material", "status", "diameter_class"),
        min_zoom=12,
        max_zoom=22,
        style={
            "weight": 3,
            "by": {
                "attribute": "diameter_class",
                "colours": {
                    "small": "#9ecae1",
                    "medium": "#4292c6",
                    "large": "#08519c",
                    "trunk": "#08306b",
                },
            },
        },
        permission="network.view_pipe",
        filters={
            "diameter_class": LayerFilter(
                column="diameter_class",
                choices=("small", "medium", "large", "trunk"),
                label=_("diameter"),
                choice_labels={
                    "small": _("under 100 mm"),
                    "medium": _("100 to 249 mm"),
                    "large": _("250 to 499 mm"),
                    "trunk": _("500 mm and over"),
                },
            ),
            "status": STATUS_FILTER,
        },
    )
)

register(
    Layer(
        name="valves",
        label=_("Valves"),
        group=GROUP,
        geometry_type=POINT,
        source=(
            "SELECT id, geom, code, normal_status, current_status, operable,"
            " CASE WHEN NOT operable THEN 'inoperable' ELSE current_status END AS state"
            " FROM network_valve"
        ),
        tables=("network_valve",),
        attributes=("code", "normal_status", "current_status", "operable", "state"),
        min_zoom=14,
        max_zoom=22,
        style={
            "radius": 4,
            "fillOpacity": 0.9,
            "by": {
                "attribute": "state",
                "colours": {"open": "#1a9850", "closed": "#d73027", "inoperable": "#000000"},
            },
        },
        permission="network.view_valve",
        filters={
            "state": LayerFilter(
                column="state",
                choices=("open", "closed", "inoperable"),
                label=_("status"),
                choice_labels={
                    "open": _("Open"),
                    "closed": _("Closed"),
                    "inoperable": _("Inoperable"),
                },
            )
        },
    )
)

for name, label, table, colour in (
    ("hydrants", _("Hydrants"), "network_hydrant", "#e31a1c"),
    ("tanks", _("Tanks"), "network_tank", "#1f78b4"),
    ("water_sources", _("Water sources"), "network_source", "#08306b"),
    ("manholes", _("Manholes"), "network_manhole", "#8c510a"),
):
    register(
        Layer(
            name=name,
            label=label,
            group=GROUP,
            geometry_type=POINT,
            source=f"SELECT id, geom, code, status FROM {table}",  # noqa: S608
            tables=(table,),
            attributes=("code", "status"),
            min_zoom=13 if name in ("tanks", "water_sources") else 15,
            max_zoom=22,
            style={"radius": 5, "color": colour, "fillColor": colour, "fillOpacity": 0.8},
            permission=f"network.view_{table.removeprefix('network_')}",
        )
    )

register(
    Layer(
        name="service_connections",
        label=_("Service connections"),
        group=GROUP,
        geometry_type=POINT,
        # The taps on the pipes (indexed column; a drawn service line would be unindexed).
        source="SELECT id, geom, account_id, pipe_id FROM network_serviceconnection",
        tables=("network_serviceconnection",),
        attributes=("account_id", "pipe_id"),
        min_zoom=17,
        max_zoom=22,
        style={"radius": 2, "color": "#6baed6", "fillColor": "#6baed6", "fillOpacity": 0.9},
        permission="network.view_serviceconnection",
    )
)

register(
    Layer(
        name="sewers",
        label=_("Sewers"),
        group=GROUP,
        geometry_type=LINE,
        source="SELECT id, geom, code, material, diameter_mm, status FROM network_sewerpipe",
        tables=("network_sewerpipe",),
        attributes=("code", "material", "diameter_mm", "status"),
        min_zoom=12,
        max_zoom=22,
        style={"color": "#8c510a", "weight": 2, "dashArray": "6 3"},
        permission="network.view_sewerpipe",
        filters={"status": STATUS_FILTER},
    )
)

register(
    Layer(
        name="active_outages",
        label=_("Active outages"),
        group=GROUP,
        geometry_type=LINE,
        source=(
            "SELECT o.id, o.geom, o.pipe_id, to_char(o.started_at, 'YYYY-MM-DD HH24:MI') AS started,"
            " to_char(o.expected_end, 'YYYY-MM-DD HH24:MI') AS expected_end,"
            " (SELECT count(*) FROM network_outageaccount x WHERE x.outage_id = o.id) AS accounts"
            " FROM network_outage o WHERE o.status = 'active'"
        ),
        tables=("network_outage", "network_outageaccount"),
        attributes=("pipe_id", "started", "expected_end", "accounts"),
        min_zoom=10,
        max_zoom=22,
        style={"color": "#ff00ff", "weight": 6, "opacity": 0.8},
        permission="network.view_outage",
        visible_by_default=True,
    )
)
