"""Cadastre's map layers (see gis_core.layers): the base map and the customer roll."""

from django.utils.translation import gettext_lazy as _

from cadastre.models import AccountStatus, LandUse, StreetClass, UseType
from gis_core.layers import LINE, POINT, POLYGON, Layer, LayerFilter, register

GROUP = _("Cadastre")

register(
    Layer(
        name="localities",
        label=_("Neighbourhoods"),
        group=GROUP,
        geometry_type=POLYGON,
        source="SELECT id, geom, code, name, kind FROM cadastre_locality",
        tables=("cadastre_locality",),
        attributes=("code", "name", "kind"),
        min_zoom=10,
        max_zoom=22,
        style={"color": "#6b5b95", "weight": 2, "fill": False},
        permission="cadastre.view_locality",
        base=True,
        visible_by_default=True,
    )
)

register(
    Layer(
        name="blocks",
        label=_("Blocks"),
        group=GROUP,
        geometry_type=POLYGON,
        source="SELECT id, geom, code, locality_id FROM cadastre_block",
        tables=("cadastre_block",),
        attributes=("code", "locality_id"),
        min_zoom=13,
        max_zoom=22,
        style={"color": "#8d8d8d", "weight": 1, "fillColor": "#f2efe9", "fillOpacity": 1},
        permission="cadastre.view_block",
        filters={
            "locality": LayerFilter(column="locality_id", kind="int", label=_("Neighbourhood"))
        },
        base=True,
        visible_by_default=True,
    )
)

register(
    Layer(
        name="streets",
        label=_("Streets"),
        group=GROUP,
        geometry_type=LINE,
        source="SELECT id, geom, name, street_class FROM cadastre_streetsegment",
        tables=("cadastre_streetsegment",),
        attributes=("name", "street_class"),
        min_zoom=12,
        max_zoom=22,
        # A z12 tile spans the street grid of a quarter of the 1M-parcel demo city (19,000
        # segments, 450 KB, near the 500 KB tile budget): avenues alone draw its skeleton there.
        overview_below_zoom=13,
        overview_source=(
            "SELECT id, geom, name, street_class FROM cadastre_streetsegment"
            " WHERE street_class = 'avenue'"
        ),
        overview_attributes=("name", "street_class"),
        style={"color": "#ffffff", "weight": 4, "casing": "#c9c2b5"},
        permission="cadastre.view_streetsegment",
        filters={
            "street_class": LayerFilter(
                column="street_class", choices=tuple(StreetClass.values), label=_("Class")
            )
        },
        base=True,
        visible_by_default=True,
    )
)

register(
    Layer(
        name="parcels",
        label=_("Parcels"),
        group=GROUP,
        geometry_type=POLYGON,
        source=(
            "SELECT id, geom, cadastral_key, land_use, status, address FROM cadastre_parcel"
            " WHERE status = 'active'"
        ),  # retired parcels live on in lineage and history, not on the map
        # Blocks too: they are drawn in the overview, so editing one must invalidate those tiles.
        tables=("cadastre_parcel", "cadastre_block"),
        attributes=("cadastral_key", "land_use", "status", "address"),
        min_zoom=12,
        max_zoom=22,
        # A z12-z14 tile covers thousands of parcels smaller than a pixel: blocks stand in.
        overview_below_zoom=15,
        overview_source="SELECT id, geom, code FROM cadastre_block",
        overview_attributes=("code",),
        style={
            "color": "#b07d48",
            "weight": 1,
            "fillColor": "#e8d9c4",
            "fillOpacity": 0.4,
            # The editor's colours: the map and its legend colour parcels by land use.
            "by": {
                "attribute": "land_use",
                "colours": {
                    "residential": "#f2c14e",
                    "commercial": "#e4572e",
                    "mixed": "#f78154",
                    "industrial": "#7d5ba6",
                    "public": "#4d9de0",
                    "green": "#3bb273",
                    "vacant": "#c9c9c9",
                },
            },
        },
        permission="cadastre.view_parcel",
        filters={
            "land_use": LayerFilter(
                column="land_use", choices=tuple(LandUse.values), label=_("Land use")
            ),
        },
        base=True,
        visible_by_default=True,
    )
)

register(
    Layer(
        name="accounts",
        label=_("Service accounts"),
        group=GROUP,
        geometry_type=POINT,
        source=(
            "SELECT id, service_point AS geom, number, status, use_type, parcel_id"
            " FROM cadastre_serviceaccount"
        ),
        tables=("cadastre_serviceaccount",),
        attributes=("number", "status", "use_type", "parcel_id"),
        min_zoom=15,
        max_zoom=22,
        style={"radius": 4, "color": "#1f6fb2", "fillColor": "#4a9be0", "fillOpacity": 0.9},
        permission="cadastre.view_serviceaccount",
        filters={
            "status": LayerFilter(
                column="status", choices=tuple(AccountStatus.values), label=_("Status")
            ),
            "use_type": LayerFilter(
                column="use_type", choices=tuple(UseType.values), label=_("Use type")
            ),
        },
        heat_weights={"count": "1"},
    )
)
