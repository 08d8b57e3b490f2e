"""Sectorization's map layers (see gis_core.layers): the commercial hierarchy, DMAs and tariff
zones. Gaps in coverage are served by ``/api/sectors/gaps/`` (computed per parent on demand:
as a layer source they would be a difference of unions per tile)."""

from django.utils.translation import gettext_lazy as _

from gis_core.layers import POLYGON, Layer, LayerFilter, register

GROUP = _("Sectorization")
AREAS = "sectors_commercialarea"

register(
    Layer(
        name="zones",
        label=_("Zones"),
        group=GROUP,
        geometry_type=POLYGON,
        source=f"SELECT id, geom, code, name FROM {AREAS} WHERE level = 'zone'",  # noqa: S608
        tables=(AREAS,),
        attributes=("code", "name"),
        min_zoom=9,
        max_zoom=22,
        style={"color": "#7a1f5c", "weight": 3, "fill": False},
        permission="sectors.view_commercialarea",
    )
)

register(
    Layer(
        name="sectors",
        label=_("Sectors"),
        group=GROUP,
        geometry_type=POLYGON,
        source=(
            f"SELECT id, geom, code, name, parent_id FROM {AREAS} WHERE level = 'sector'"  # noqa: S608
        ),
        tables=(AREAS,),
        attributes=("code", "name", "parent_id"),
        min_zoom=11,
        max_zoom=22,
        style={"color": "#c2185b", "weight": 2, "fillColor": "#f8bbd0", "fillOpacity": 0.15},
        permission="sectors.view_commercialarea",
        filters={"zone": LayerFilter(column="parent_id", kind="int", label=_("Zone"))},
    )
)

register(
    Layer(
        name="books",
        label=_("Reading books"),
        group=GROUP,
        geometry_type=POLYGON,
        source=(
            f"SELECT id, geom, code, name, parent_id FROM {AREAS} WHERE level = 'book'"  # noqa: S608
        ),
        tables=(AREAS,),
        attributes=("code", "name", "parent_id"),
        min_zoom=13,
        max_zoom=22,
        style={"color": "#00796b", "weight": 1, "dashArray": "4 3", "fill": False},
        permission="sectors.view_commercialarea",
        filters={"sector": LayerFilter(column="parent_id", kind="int", label=_("Sector"))},
    )
)

register(
    Layer(
        name="dmas",
        label=_("District metered areas (DMAs)"),
        group=GROUP,
        geometry_type=POLYGON,
        source="SELECT id, geom, code, name FROM sectors_dma",
        tables=("sectors_dma",),
        attributes=("code", "name"),
        min_zoom=10,
        max_zoom=22,
        style={"color": "#1565c0", "weight": 2, "fillColor": "#90caf9", "fillOpacity": 0.15},
        permission="sectors.view_dma",
    )
)

register(
    Layer(
        name="tariff_zones",
        label=_("Tariff zones"),
        group=GROUP,
        geometry_type=POLYGON,
        source="SELECT id, geom, code, name FROM sectors_tariffzone",
        tables=("sectors_tariffzone",),
        attributes=("code", "name"),
        min_zoom=10,
        max_zoom=22,
        # Fill only: a tariff zone is hundreds of scattered colonias, their outlines are noise.
        style={"weight": 0, "fillColor": "#ffb300", "fillOpacity": 0.2},
        permission="sectors.view_tariffzone",
    )
)
