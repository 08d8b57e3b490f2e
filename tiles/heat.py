"""Heat maps: the points of a layer summed into hexagons, served as vector tiles with a legend.

Any registered POINT layer that declares ``heat_weights`` (weight name → SQL expression over its
source's columns, see ``gis_core.layers``) has a heat map per weight. A tile holds one feature
per hexagon with at least one point: the hexagon's polygon and its ``value`` (the summed weight)
and ``count`` (the number of points).

Why hexagons computed by arithmetic in the storage CRS, and not H3:
- The hexagons are the cells of PostGIS's own hexagon grid (``ST_Hexagon``: flat-topped, origin
  at the CRS's 0,0) in the storage CRS, so they are regular in metres (a hexagon covers the same
  ground anywhere in the city) and the grid is the same for every tile of a zoom: a hexagon
  across a tile seam gets the same value on both sides.
- Each point is assigned to its cell by a few multiplications and a cube rounding on its own
  coordinates (``ST_X``/``ST_Y``): no point is transformed, no join of points against generated
  polygons, and a point on a shared edge counts once. Only the cells that hold points are
  turned into polygons and transformed to EPSG:3857 for the tile.
- H3 would need the h3-pg extension (not in Debian's PostgreSQL packages) or a Python loop over
  every point, and its resolutions step by √7 in edge length, which does not follow map zooms
  (x2 each). The storage-CRS grid's cell size simply halves with every zoom.

Cell size: the hexagon's circumradius is ``HEX_RADIUS_PX`` pixels of a 256-pixel Web-Mercator
tile at the equator. Mercator stretches by 1/cos(latitude), so at Mexico's latitudes (15-32°)
hexagons look 4-18 % larger than that on screen; the size depends only on the zoom, which keeps
the grid identical across tiles.

Cost: one index scan of the points in the tile's envelope (widened by a cell diameter, so cells
across the seam are complete), an aggregate over cell coordinates, and one polygon per cell;
about 1 µs a point. Measured on the 1,000,000-account demo city, uncached, on 2 cores shared
with other work (the lower figure at load 3, the higher at load 6): the central z12 tile
(200,000 points) 0.2-0.45 s, z13 0.1-0.15 s, z14 12-45 ms, z16 4 ms; the z11 tile holding most
of the city (690,000 points) 0.75-1.5 s. Cached: 2 ms.
Tiles are cached in Django's cache under a key holding the database and the generations of the
layer's tables (``tiles.selectors.table_generations``, bumped by triggers on every write), with a
short TTL on top for tables not yet tracked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from gis_core.layers import POINT, Layer, heat_weight_label, registry
from tiles.selectors import table_generations

MAX_ZOOM = 22
TILE_PIXELS = 256
WEB_MERCATOR_WORLD_M = 2 * math.pi * 6378137.0  # EPSG:3857 width of the world at the equator
HEX_RADIUS_PX = 12  # hexagons ~24 px wide: city blocks at z16, neighbourhoods at z12
EXTENT = 4096  # MVT coordinate space
BUFFER = 64  # MVT units drawn beyond the tile edge, so hexagon outlines meet at seams
MVT_LAYER = "heat"
# A legend is for what a screen shows: a bbox wider than this many tiles at the asked zoom is
# refused (a 4K screen is 15 tiles wide), so nobody aggregates a country at street zoom.
LEGEND_MAX_TILES = 64
LEGEND_CLASSES = 5
# Yellow to red (ColorBrewer YlOrRd, 5 classes): more is darker.
LEGEND_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
MAX_LATITUDE = 85.0511287798  # where Web Mercator ends

# Labels of the weight names layers declare (the same words as the map shell's layer list,
# gis_core.map_api); an unknown name is shown as it is.


class HeatMapError(DomainError):
    """A heat-map request that cannot be answered; ``status`` is the HTTP status to give."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(code, message, status=status)


@dataclass(frozen=True)
class HeatLegend:
    title: str
    layer: str
    weight: str
    zoom: int
    cell_radius_m: float
    cells: int
    minimum: float | None
    maximum: float | None
    breaks: list[float]  # upper bound of each class, strictly increasing; the last is the max
    colours: list[str]

    def as_dict(self) -> dict:
        classes, lower = [], self.minimum
        for upper, colour in zip(self.breaks, self.colours, strict=True):
            classes.append({"from": lower, "to": upper, "color": colour})
            lower = upper
        return {
            "title": self.title,
            "layer": self.layer,
            "weight": self.weight,
            "zoom": self.zoom,
            "cell_radius_m": self.cell_radius_m,
            "cells": self.cells,
            "min": self.minimum,
            "max": self.maximum,
            "breaks": self.breaks,
            "colors": self.colours,
            "classes": classes,
        }


def cell_radius_m(zoom: int) -> float:
    """Circumradius (= edge) of the hexagons at ``zoom``, in metres of the storage CRS."""
    return HEX_RADIUS_PX * WEB_MERCATOR_WORLD_M / (TILE_PIXELS * 2**zoom)


def heat_layer_get(*, name: str, weight: str, user) -> Layer:
    """The layer whose heat map ``user`` asks for. Raises :class:`HeatMapError`: 404 for an
    unknown layer, a layer without heat map or an unknown weight; 403 when the user may not
    see the layer."""
    layer = registry.get(name)
    if layer is None or layer.geometry_type != POINT or not layer.heat_weights:
        raise HeatMapError(
            "unknown_layer",
            _("There is no heat map of the layer “%(layer)s”.") % {"layer": name},
            404,
        )
    if not layer.visible_to(user):
        raise HeatMapError(
            "forbidden", _("You may not see the layer “%(layer)s”.") % {"layer": layer.label}, 403
        )
    if weight not in layer.heat_weights:
        raise HeatMapError(
            "unknown_weight",
            _("The layer “%(layer)s” has no weight “%(weight)s”; it has: %(weights)s.")
            % {"layer": layer.label, "weight": weight, "weights": ", ".join(layer.heat_weights)},
            404,
        )
    return layer


def check_tile(*, z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise HeatMapError(
            "bad_zoom", _("The zoom must be between 0 and %(max)s.") % {"max": MAX_ZOOM}
        )
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise HeatMapError(
            "bad_tile",
            _("Tile %(x)s/%(y)s does not exist at zoom %(z)s.") % {"x": x, "y": y, "z": z},
        )


def cells_query(layer: Layer, weight: str, envelope_sql: str) -> str:
    """SQL of the non-empty cells (``i``, ``j`` of ``ST_Hexagon``, ``value``, ``count``) of the
    points inside ``envelope_sql`` (a geometry in the storage SRID; parameters ``size``).

    Axial coordinates of a flat-topped hexagon grid with circumradius s:
    q = (2/3·x)/s, r = (-x/3 + √3/3·y)/s; cube rounding picks the nearest centre; PostGIS's
    offset rows are j = r + ⌊q/2⌋ (odd columns sit half a row higher).

    The two ``OFFSET 0`` are planner fences, both needed for speed: the inner one keeps the
    planner from inlining the point's coordinates into every later expression (dozens of
    ``ST_X`` calls a point); the outer one keeps a caller's condition on the cell (its
    hexagon, its tile geometry) from being pushed below the ``GROUP BY`` and evaluated for
    every point instead of every cell (measured: 3 s instead of 0.2 s for 200,000 points).
    """
    source = layer.source
    expr = layer.heat_weights[weight]
    return f"""
        SELECT q AS i, r + floor(q / 2.0)::int AS j, SUM(w) AS value, COUNT(*) AS count
        FROM (
            SELECT (CASE WHEN dq > dr AND dq > ds THEN -rr - rs ELSE rq END)::int AS q,
                   (CASE WHEN dq > dr AND dq > ds THEN rr
                         WHEN dr > ds THEN -rq - rs ELSE rr END)::int AS r,
                   w
            FROM (
                SELECT rq, rr, rs, abs(rq - fq) AS dq, abs(rr - fr) AS dr,
                       abs(rs + fq + fr) AS ds, w
                FROM (
                    SELECT fq, fr, round(fq) AS rq, round(fr) AS rr, round(-fq - fr) AS rs, w
                    FROM (
                        SELECT (2.0 / 3.0) * ST_X(s.geom) / %(size)s AS fq,
                               (sqrt(3.0) / 3.0 * ST_Y(s.geom) - ST_X(s.geom) / 3.0)
                                 / %(size)s AS fr,
                               ({expr})::float8 AS w
                        FROM ({source}) AS s
                        WHERE s.geom && {envelope_sql}
                        OFFSET 0
                    ) AS p
                ) AS rounded
            ) AS d
        ) AS c
        GROUP BY q, r
        OFFSET 0"""  # noqa: S608 - source and weight SQL are declared in code, not input


def heat_tile_query(*, layer: Layer, weight: str, z: int, x: int, y: int) -> tuple[str, dict]:
    """The ``ST_AsMVT`` statement of one heat tile and its parameters.

    The tile envelope is transformed into the storage SRID and widened by a cell diameter (a
    cell reaching into the tile is summed over all its points, also those beyond the seam;
    the widening also covers the slight bend of the envelope's edges in the projected CRS).
    Only the cells' polygons are transformed to EPSG:3857.
    """
    size = cell_radius_m(z)
    params = {"z": z, "x": x, "y": y, "size": size, "srid": settings.CAUDAL_SRID}
    envelope = (
        "ST_Expand(ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), %(srid)s), 2 * %(size)s)"
    )
    cells = cells_query(layer, weight, envelope)
    sql = f"""
        SELECT ST_AsMVT(t.*, '{MVT_LAYER}', {EXTENT}, 'geom')
        FROM (
            SELECT ST_AsMVTGeom(h.geom3857, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT},
                                {BUFFER}, true) AS geom,
                   h.value, h.count
            FROM (
                SELECT ST_Transform(ST_Hexagon(%(size)s, c.i, c.j,
                                               ST_SetSRID(ST_MakePoint(0, 0), %(srid)s)),
                                    3857) AS geom3857,
                       c.value, c.count
                FROM ({cells}) AS c
            ) AS h
            WHERE h.geom3857 && ST_TileEnvelope(%(z)s, %(x)s, %(y)s)
        ) AS t
        WHERE t.geom IS NOT NULL"""  # noqa: S608 - built from code-declared SQL only
    return sql, params


def _generations(layer: Layer) -> str:
    """The generations of the layer's tables, for the cache key (a table without the
    generation trigger stays at 0: the TTL alone bounds staleness then)."""
    return ".".join(str(g) for g in table_generations(tables=layer.tables))


def _fetch_one(sql: str, params: dict) -> tuple:
    """Run one heat query without JIT. The planner prices a city's worth of points (and the
    per-cell PostGIS calls) high enough to JIT-compile the statement, which costs ~200 ms and
    saves ~nothing: more than the whole query at z12. ``SET LOCAL`` needs a transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchone()


def heat_tile_render(*, layer: Layer, weight: str, z: int, x: int, y: int) -> bytes:
    """The heat tile's MVT bytes (empty when no point is near the tile), from the cache when
    the layer's tables have not changed since it was drawn. Raises :class:`HeatMapError` for
    a tile that does not exist."""
    check_tile(z=z, x=x, y=y)
    ttl = getattr(settings, "CAUDAL_HEAT_CACHE_SECONDS", 300)
    key = (
        f"heat:{connection.settings_dict['NAME']}:{layer.name}:{weight}:{z}/{x}/{y}"
        f":{_generations(layer)}"
    )
    if ttl > 0:
        cached = cache.get(key)
        if cached is not None:
            return cached
    sql, params = heat_tile_query(layer=layer, weight=weight, z=z, x=x, y=y)
    row = _fetch_one(sql, params)
    tile = bytes(row[0]) if row and row[0] is not None else b""
    if ttl > 0:
        cache.set(key, tile, ttl)
    return tile


def parse_bbox(value: str | None) -> tuple[float, float, float, float]:
    """``min_lon,min_lat,max_lon,max_lat`` → floats, or :class:`HeatMapError` (400)."""
    try:
        parts = [float(p) for p in (value or "").split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise HeatMapError(
            "bad_bbox",
            _("bbox must be four numbers: min_lon,min_lat,max_lon,max_lat (degrees)."),
        )
    w, s, e, n = parts
    if not (-180 <= w < e <= 180 and -MAX_LATITUDE <= s < n <= MAX_LATITUDE):
        raise HeatMapError(
            "bad_bbox",
            _(
                "bbox must have min_lon < max_lon within ±180 and min_lat < max_lat within "
                "±85 degrees."
            ),
        )
    return w, s, e, n


def parse_zoom(value: str | None) -> int:
    try:
        z = int(value or "")
    except ValueError:
        z = -1
    if not 0 <= z <= MAX_ZOOM:
        raise HeatMapError(
            "bad_zoom", _("The zoom must be between 0 and %(max)s.") % {"max": MAX_ZOOM}
        )
    return z


def _mercator_x(lon: float) -> float:
    return lon / 360.0 * WEB_MERCATOR_WORLD_M


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137.0


def heat_legend(
    *, layer: Layer, weight: str, z: int, bbox: tuple[float, float, float, float]
) -> HeatLegend:
    """Class breaks of the heat map for the cells visible in ``bbox`` (lon/lat) at zoom ``z``:
    ``LEGEND_CLASSES`` quantiles of the cells' values (equal breaks merged, so they strictly
    increase). Raises :class:`HeatMapError` (400) for a bbox wider than the screen could show.
    """
    w, s, e, n = bbox
    tile_m = WEB_MERCATOR_WORLD_M / 2**z
    tiles_wide = (_mercator_x(e) - _mercator_x(w)) / tile_m
    tiles_high = (_mercator_y(n) - _mercator_y(s)) / tile_m
    if max(tiles_wide, tiles_high) > LEGEND_MAX_TILES:
        raise HeatMapError(
            "bbox_too_large",
            _(
                "The area is too large for zoom %(z)s: at most %(max)s tiles across. Zoom out "
                "or ask for a smaller area."
            )
            % {"z": z, "max": LEGEND_MAX_TILES},
        )
    size = cell_radius_m(z)
    # The bbox in the storage SRID (densified: its edges bend there); widened by a cell
    # diameter so that cells cut by the screen's edge are summed whole, as on the tiles.
    area = (
        "ST_Transform(ST_Segmentize(ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326), 0.01),"
        " %(srid)s)"
    )
    cells = cells_query(layer, weight, f"ST_Expand({area}, 2 * %(size)s)")
    fractions = [(k + 1) / LEGEND_CLASSES for k in range(LEGEND_CLASSES)]
    sql = f"""
        SELECT COUNT(*), MIN(value), MAX(value),
               percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY value)
        FROM ({cells}) AS c
        WHERE ST_Hexagon(%(size)s, c.i, c.j, ST_SetSRID(ST_MakePoint(0, 0), %(srid)s))
              && {area}"""  # noqa: S608 - declared SQL
    params = {
        "w": w,
        "s": s,
        "e": e,
        "n": n,
        "size": size,
        "srid": settings.CAUDAL_SRID,
        "fractions": fractions,
    }
    count, minimum, maximum, quantiles = _fetch_one(sql, params)
    breaks = sorted({float(q) for q in quantiles or () if q is not None})
    colours = _spread(LEGEND_COLOURS, len(breaks))
    label = heat_weight_label(weight)
    return HeatLegend(
        title=_("%(layer)s: %(weight)s per hexagon") % {"layer": layer.label, "weight": label},
        layer=layer.name,
        weight=weight,
        zoom=z,
        cell_radius_m=round(size, 2),
        cells=count,
        minimum=float(minimum) if minimum is not None else None,
        maximum=float(maximum) if maximum is not None else None,
        breaks=breaks,
        colours=colours,
    )


def _spread(palette: tuple[str, ...], n: int) -> list[str]:
    """``n`` colours of ``palette`` from its light end to its dark end (fewer classes when
    quantiles coincide must still end dark: the largest value is the darkest)."""
    if n <= 0:
        return []
    if n == 1:
        return [palette[-1]]
    last = len(palette) - 1
    return [palette[round(k * last / (n - 1))] for k in range(n)]
