"""Reads behind the vector tiles: the generations of a layer's tables (with the permissions of
the user who asks) and the tile itself.

Both are raw SQL on purpose. The tile is one ``ST_AsMVT`` aggregate over the layer's declared
source (a subquery, see ``gis_core.layers``), which the ORM cannot express; the generation read
is the one query a cached tile costs, so it stays a single round trip of indexed lookups.

Spatial policy: the tile envelope (``ST_TileEnvelope``, EPSG:3857) is transformed into the
storage SRID for the ``&&`` condition, so the GiST index on ``geom`` answers it; only the
selected rows are transformed to 3857 for ``ST_AsMVTGeom``. The envelope is widened by the
tile's buffer (``margin``), which also covers the slight bend of its edges in the projected
CRS, so features reaching into the buffer are clipped consistently on both sides of a seam.
Before the transform the envelope is clipped to where the storage CRS is defined (its area of
use, widened): a z2 tile spans half the world, and PROJ refuses points a UTM zone cannot
project ("Point outside of projection domain").
"""

from __future__ import annotations

import ctypes
import math
from functools import lru_cache

from django.conf import settings
from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.gdal.libgdal import lgdal
from django.db import connection

from gis_core.layers import POINT, Layer

# Tile coordinate space and the drawing margin around it (in tile units). 4096 is the MVT
# default, enough for sub-metre detail at z18; 64 units (1.6 %) is wide enough for a stroke.
EXTENT = 4096
BUFFER = 64
# Lines and polygons are simplified by one tile unit (1/16 of a screen pixel) before snapping to
# the tile grid: the vertices a block shares with its parcels lie on its straight edges and add
# nothing at city-wide zooms (a z12 tile of the 1M-parcel demo city: 390 KB -> 250 KB), and
# features smaller than a unit collapse and are dropped. At street zooms it changes nothing.
SIMPLIFY_UNITS = 1.0
WEB_MERCATOR_WORLD = 40075016.68557849  # metres across EPSG:3857


# Transverse Mercator stays usable (mm-accurate) several degrees past a zone's official edges;
# data of a city straddling the edge must not be clipped away.
DOMAIN_WIDENING_DEGREES = 6.0
MERCATOR_MAX_LATITUDE = 85.0511


@lru_cache(maxsize=8)
def storage_domain_3857(srid: int) -> tuple[float, float, float, float]:
    """Where EPSG:``srid`` can be used, as an EPSG:3857 box (GDAL's area of use, widened);
    the whole Web Mercator square when GDAL does not know it."""
    west, south, east, north = (ctypes.c_double() for _ in range(4))
    name = ctypes.c_char_p()
    get_area = lgdal.OSRGetAreaOfUse  # GDAL >= 3.0; not wrapped by django.contrib.gis.gdal
    get_area.restype = ctypes.c_int
    get_area.argtypes = [
        ctypes.c_void_p,
        *[ctypes.POINTER(ctypes.c_double)] * 4,
        ctypes.POINTER(ctypes.c_char_p),
    ]
    reference = SpatialReference(srid)  # held: its pointer dies with the object
    found = get_area(reference.ptr, *map(ctypes.byref, (west, south, east, north, name)))
    if not found or west.value > east.value:  # unknown, or crossing the antimeridian
        bounds = (-180.0, -90.0, 180.0, 90.0)
    else:
        bounds = (west.value, south.value, east.value, north.value)
    w = max(bounds[0] - DOMAIN_WIDENING_DEGREES, -180.0)
    e = min(bounds[2] + DOMAIN_WIDENING_DEGREES, 180.0)
    s = max(bounds[1] - DOMAIN_WIDENING_DEGREES, -MERCATOR_MAX_LATITUDE)
    n = min(bounds[3] + DOMAIN_WIDENING_DEGREES, MERCATOR_MAX_LATITUDE)
    radius = 6378137.0

    def mercator_y(lat):
        return radius * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    return (radius * math.radians(w), mercator_y(s), radius * math.radians(e), mercator_y(n))


def table_generations(*, tables: tuple[str, ...]) -> tuple[int, ...]:
    """The current generation of each of ``tables`` (0 for a table never written since
    tracking began)."""
    return tile_access_read(tables=tables, user_id=None)[0]


def tile_access_read(
    *, tables: tuple[str, ...], user_id: int | None
) -> tuple[tuple[int, ...], frozenset[str] | None]:
    """The generations of ``tables`` and, when ``user_id`` is given, that user's permissions
    ("app_label.codename", as ``ModelBackend`` reports them), in one round trip.

    A cached tile costs exactly this call. ``has_perm`` through the ORM would add two queries
    compiled by the ORM on every request, more than the tile lookup itself; the PL/pgSQL
    function (migration tiles 0002) keeps its plans for the connection's life.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generations, permissions FROM tiles_access(%s, %s)", [list(tables), user_id]
        )
        found, permissions = cursor.fetchone()
    found = found or {}
    generations = tuple(found.get(table, 0) for table in tables)
    return generations, (frozenset(permissions) if user_id is not None else None)


def tile_session_access_read(
    *, tables: tuple[str, ...], user_id, permission: str | None
) -> tuple[tuple[int, ...], str | None, bool, bool]:
    """The generations of ``tables`` and, for ``user_id``, the password hash, ``is_active`` and
    whether the user holds ``permission`` (own, by group or as superuser; None: any user), in
    one round trip (``tiles_session_access``, migration tiles 0003). The password hash is None
    when there is no such user."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generations, password, is_active, allowed "
            "FROM tiles_session_access(%s, %s, %s)",
            [list(tables), user_id, permission],
        )
        found, password, is_active, allowed = cursor.fetchone()
    found = found or {}
    generations = tuple(found.get(table, 0) for table in tables)
    return generations, password, bool(is_active), bool(allowed)


@lru_cache(maxsize=256)
def source_columns(source: str) -> frozenset[str]:
    """The columns a layer source yields (read once per process from an empty result).

    A layer's overview source (e.g. blocks standing in for parcels) need not carry the columns
    its filters restrict; filters apply only where the source has the column.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({source}) AS s LIMIT 0")  # noqa: S608 - declared in code
        return frozenset(column.name for column in cursor.description)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def vector_tile_query(
    *, layer: Layer, z: int, x: int, y: int, filters: dict[str, tuple]
) -> tuple[str, dict]:
    """The ``ST_AsMVT`` statement for one tile and its parameters.

    ``filters`` are validated and normalised (name → tuple of values); each becomes
    ``column = ANY(%(…)s)`` with the values bound as parameters, never interpolated.
    Returns SQL that starts with SELECT (history context is not injected into reads).
    """
    source, attributes = layer.source_for_zoom(z)
    columns = source_columns(source)
    srid = settings.CAUDAL_SRID
    xmin, ymin, xmax, ymax = storage_domain_3857(srid)
    params = {
        "layer": layer.name,
        "z": z,
        "x": x,
        "y": y,
        "margin": BUFFER / EXTENT,
        "srid": srid,
        "dxmin": xmin,
        "dymin": ymin,
        "dxmax": xmax,
        "dymax": ymax,
    }
    # All constants: the planner folds the envelope once and hands the GiST index a box.
    conditions = [
        "s.geom && ST_Transform(ST_ClipByBox2D("
        "ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => %(margin)s),"
        " ST_MakeEnvelope(%(dxmin)s, %(dymin)s, %(dxmax)s, %(dymax)s, 3857)::box2d), %(srid)s)"
    ]
    for position, (name, values) in enumerate(sorted(filters.items())):
        column = layer.filters[name].column
        if column not in columns:
            continue
        params[f"f{position}"] = list(values)
        conditions.append(f"s.{_quoted(column)} = ANY(%(f{position})s)")
    geometry = "ST_Transform(s.geom, 3857)"
    if layer.geometry_type != POINT:
        params["tolerance"] = SIMPLIFY_UNITS * WEB_MERCATOR_WORLD / 2**z / EXTENT
        geometry = f"ST_Simplify({geometry}, %(tolerance)s)"
    properties = "".join(f", s.{_quoted(name)}" for name in attributes)
    # Source, attributes and filter columns come from layer declarations in code, never from
    # the request; request values are bound parameters. Features that ST_AsMVTGeom clips or
    # collapses to NULL need no "WHERE geom IS NOT NULL": ST_AsMVT skips them, and such a
    # filter is pushed into the scan, where it computes ST_AsMVTGeom a second time (+25 %).
    sql = (
        f"SELECT ST_AsMVT(t.*, %(layer)s, {EXTENT}, 'geom', 'id') FROM ("  # noqa: S608
        f" SELECT s.id, ST_AsMVTGeom({geometry},"
        f" ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, {BUFFER}, true) AS geom{properties}"
        f" FROM ({source}) AS s WHERE {' AND '.join(conditions)}) AS t"
    )
    return sql, params


def vector_tile_render(*, layer: Layer, z: int, x: int, y: int, filters: dict[str, tuple]) -> bytes:
    """The tile's Mapbox Vector Tile bytes (empty when no feature falls in it)."""
    sql, params = vector_tile_query(layer=layer, z=z, x=x, y=y, filters=filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
