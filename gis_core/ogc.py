"""OGC API - Features over the layer registry: parameter parsing and the SQL that serves it.

The HTTP side (documents, links, authentication) is :mod:`gis_core.ogc_views`; this module
knows nothing of requests. It reads every layer through its full-detail ``source`` (never the
overview), wrapped as a subquery, and builds the GeoJSON of a page in PostgreSQL: one row
comes back with the features already serialised, so a 10,000-feature page costs one round
trip and one string, not 10,000 Python dicts.

Decisions worth knowing:

- **Paging is keyset on ``id``.** A page is ``WHERE id > <last id of the previous page>
  ORDER BY id LIMIT n``; the ``next`` link carries that id in an opaque ``cursor``. Every page
  costs the same at any depth of a million-row layer (an ``offset`` would scan and discard all
  rows before it), and a concurrent insert or delete never makes a feature appear twice or
  vanish between pages. ``offset`` is therefore not accepted. Layer ids must be integers
  (every registered source's ``id`` is a primary key).
- **numberMatched** is given only on the first page, and only when the layer has at most
  :data:`COUNT_CAP` matching features: counting a million rows on every request is not cheap,
  and the standard makes the member optional.
- **Query boxes are transformed, columns never**: a lon/lat ``bbox`` is densified and
  transformed once into the storage CRS and compared with the indexed ``geom``. It is first
  clipped to where the storage CRS is usable (its EPSG area of use, widened by
  :data:`AREA_OF_USE_MARGIN_DEG`), since a box reaching the far side of the globe cannot be
  expressed in a projected CRS (PROJ refuses it). Features stored outside that region are
  absurd for the installation and are not found by box queries.
- **CRS** (OGC API - Features Part 2): output in CRS84 (lon/lat, the default), EPSG:4326
  (lat/lon axis order, as the EPSG definition says) or the storage CRS (metres, as stored);
  ``bbox-crs`` accepts the same three.
- **Extents** of collections are an exact ``ST_Extent`` of the source, cached for
  ``settings.CAUDAL_OGC_EXTENT_CACHE_SECONDS`` (default 600 s): computing it scans the layer,
  so a client listing the collections every few seconds must not pay it each time.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_void_p
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.gdal.libgdal import lgdal
from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext as _

from gis_core.layers import Layer
from gis_core.srid import WGS84, storage_srid

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000
# numberMatched is counted (first page only) up to this many features; above it, omitted.
COUNT_CAP = 100_000
# Points per edge of a lon/lat query box before it is transformed: its edges are curves in a
# projected CRS, and 32 points keep a city-sized box within millimetres of them.
BBOX_EDGE_POINTS = 32
AREA_OF_USE_MARGIN_DEG = 3.0
# The largest id a cursor or a feature URL may name (PostgreSQL bigint).
MAX_ID = 2**63 - 1
EXTENT_CACHE_SECONDS_DEFAULT = 600

# Query parameters of /items that are not attribute filters.
ITEMS_PARAMETERS = ("f", "limit", "bbox", "bbox-crs", "crs", "cursor", "datetime")
ITEM_PARAMETERS = ("f", "crs")
DOCUMENT_PARAMETERS = ("f",)


class OGCError(Exception):
    """A request the API refuses: ``status`` (400, 404), an OGC exception ``code`` for programs
    and a translated ``description`` for people."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


def bad_parameter(description: str) -> OGCError:
    return OGCError(400, "InvalidParameterValue", description)


def not_found(description: str) -> OGCError:
    return OGCError(404, "NotFound", description)


# --- coordinate reference systems -----------------------------------------------------------


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    lat_lon: bool = False  # EPSG:4326 orders its axes latitude first
    precision: int = 7  # decimals of output coordinates (7 ≈ 1 cm in degrees; 3 = 1 mm)

    @property
    def geographic(self) -> bool:
        return self.srid == WGS84


def supported_crs() -> tuple[Crs, ...]:
    srid = storage_srid()
    return (
        Crs(CRS84, WGS84),
        Crs(EPSG_URI.format(WGS84), WGS84, lat_lon=True),
        Crs(EPSG_URI.format(srid), srid, precision=3),
    )


def storage_crs() -> Crs:
    return supported_crs()[2]


def parse_crs(raw: str | None, *, parameter: str = "crs") -> Crs:
    if raw is None or raw == "":
        return supported_crs()[0]
    for crs in supported_crs():
        if raw.strip() == crs.uri:
            return crs
    raise bad_parameter(
        _("“%(crs)s” is not a supported %(parameter)s; use one of: %(supported)s.")
        % {
            "crs": raw,
            "parameter": parameter,
            "supported": ", ".join(c.uri for c in supported_crs()),
        }
    )


@lru_cache(maxsize=8)
def _area_of_use(srid: int) -> tuple[float, float, float, float]:
    """Where ``srid`` is usable, as lon/lat degrees (west, south, east, north), from the EPSG
    database through GDAL (``OSRGetAreaOfUse``; Django's bindings do not wrap it). The whole
    world when the CRS has none recorded."""
    function = lgdal.OSRGetAreaOfUse
    function.argtypes = [c_void_p, *[POINTER(c_double)] * 4, POINTER(c_char_p)]
    function.restype = c_int
    values = [c_double() for _i in range(4)]
    name = c_char_p()
    srs = SpatialReference(srid)  # held: its pointer must outlive the call
    found = function(srs.ptr, *[byref(v) for v in values], byref(name))
    if not found or any(not math.isfinite(v.value) for v in values):
        return (-180.0, -90.0, 180.0, 90.0)
    west, south, east, north = (v.value for v in values)
    if west > east:  # an area across the antimeridian: do not try to be clever
        return (-180.0, -90.0, 180.0, 90.0)
    m = AREA_OF_USE_MARGIN_DEG
    return (
        max(west - m, -180.0),
        max(south - m, -90.0),
        min(east + m, 180.0),
        min(north + m, 90.0),
    )


# --- request parameters ---------------------------------------------------------------------


@dataclass(frozen=True)
class BBox:
    """A query box as min_x, min_y, max_x, max_y in ``srid`` (lon/lat order when geographic)."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float
    srid: int


def parse_bbox(raw: str | None, crs: Crs) -> BBox | None:
    """``bbox=min_lon,min_lat,max_lon,max_lat`` (4 or 6 numbers, in ``crs``'s axis order)."""
    if raw is None or raw == "":
        return None
    try:
        numbers = [float(n) for n in raw.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise bad_parameter(
            _(
                "Give bbox as four numbers separated by commas: "
                "min_lon,min_lat,max_lon,max_lat (or six, with heights)."
            )
        )
    if len(numbers) == 6:  # min_x, min_y, min_z, max_x, max_y, max_z: heights do not matter
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if crs.lat_lon:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    min_x, min_y, max_x, max_y = numbers
    if crs.geographic:
        if not (-180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y < max_y <= 90):
            raise bad_parameter(
                _(
                    "The bbox must be in degrees: longitudes between -180 and 180, latitudes "
                    "between -90 and 90, the minimum latitude below the maximum."
                )
            )
        if min_x >= max_x:
            raise bad_parameter(
                _(
                    "The bbox's minimum longitude must be below its maximum (boxes across the "
                    "antimeridian are not supported)."
                )
            )
    elif not (min_x < max_x and min_y < max_y):
        raise bad_parameter(_("The bbox's minimum coordinates must be below its maximum ones."))
    return BBox(min_x, min_y, max_x, max_y, crs.srid)


def parse_limit(raw: str | None) -> int:
    """``limit``: 1 or more; above :data:`LIMIT_MAX` the page holds LIMIT_MAX features (the
    standard lets the server return fewer than asked, and a client with a large page size
    then still works, following ``next`` links)."""
    if raw is None or raw == "":
        return LIMIT_DEFAULT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if limit < 1:
        raise bad_parameter(
            _("limit must be a whole number from 1 to %(max)s.") % {"max": LIMIT_MAX}
        )
    return min(limit, LIMIT_MAX)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int | None:
    """The id after which a page starts; ``None`` for the first page."""
    if raw is None or raw == "":
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = re.fullmatch(r"after:(-?\d{1,19})", text)
    if match is None or int(match.group(1)) > MAX_ID:
        raise bad_parameter(
            _("This page link is not valid (cursor); start again from the first page.")
        )
    return int(match.group(1))


def parse_feature_id(raw: str) -> int:
    if not re.fullmatch(r"\d{1,19}", raw) or int(raw) > MAX_ID:
        raise not_found(_("There is no feature “%(id)s” in this collection.") % {"id": raw})
    return int(raw)


def parse_filters(layer: Layer, params: dict[str, list[str]]) -> dict[str, list]:
    """Attribute filters from the layer's declared ``filters``: ``?land_use=a,b`` means "any
    of". Returns column → accepted values."""
    restrictions: dict[str, list] = {}
    for name, layer_filter in layer.filters.items():
        raw_values = params.get(name)
        if not raw_values:
            continue
        values = [v.strip() for raw in raw_values for v in raw.split(",") if v.strip()]
        if not values:
            continue
        if layer_filter.kind == "int":
            try:
                parsed = [int(v) for v in values]
            except ValueError:
                raise bad_parameter(
                    _("%(name)s takes whole numbers separated by commas.") % {"name": name}
                ) from None
            if any(abs(v) > MAX_ID for v in parsed):
                raise bad_parameter(
                    _("%(name)s takes whole numbers separated by commas.") % {"name": name}
                )
            values = parsed
        elif layer_filter.choices is not None:
            unknown = [v for v in values if v not in layer_filter.choices]
            if unknown:
                raise bad_parameter(
                    _("“%(value)s” is not a valid %(name)s; use one of: %(choices)s.")
                    % {
                        "value": unknown[0],
                        "name": name,
                        "choices": ", ".join(layer_filter.choices),
                    }
                )
        restrictions[layer_filter.column] = values
    return restrictions


def check_parameters(params, allowed) -> None:
    """The standard asks for a 400 on query parameters the API does not define: a typo such as
    ``?land_uze=`` would otherwise silently return everything."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise bad_parameter(
            _("Unknown query parameter “%(name)s”; this resource accepts: %(allowed)s.")
            % {"name": unknown[0], "allowed": ", ".join(allowed) or "—"}
        )


def check_format(raw: str | None, *, accepted=("json",)) -> None:
    """``f``: only JSON is served (GeoJSON for features); there is no HTML representation."""
    if raw is not None and raw not in accepted:
        raise bad_parameter(
            _("Format “%(format)s” is not available; use f=%(accepted)s.")
            % {"format": raw, "accepted": " or f=".join(accepted)}
        )


# --- SQL ------------------------------------------------------------------------------------


def _source(layer: Layer) -> str:
    """The layer's full-detail source as SQL to wrap in parentheses; ``%`` doubled because the
    text is combined with query parameters."""
    source = layer.source.strip()
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", source):  # a table name
        source = f"SELECT * FROM {source}"  # noqa: S608 -- a registry table name
    return source.replace("%", "%%")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@dataclass
class _Where:
    sql: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def add(self, sql: str, **params) -> None:
        self.sql.append(sql)
        self.params.update(params)

    def clause(self) -> str:
        return " AND ".join(self.sql) if self.sql else "TRUE"


def _box_condition(where: _Where, bbox: BBox) -> bool:
    """Adds ``geom`` ∩ box (the box in the storage CRS, the column untouched, so the GiST index
    answers). False when the box lies wholly outside where the storage CRS is usable."""
    srid = storage_srid()
    if bbox.srid == srid:
        box = "ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, %(bsrid)s)"
        coords = (bbox.min_x, bbox.min_y, bbox.max_x, bbox.max_y)
    else:
        west, south, east, north = _area_of_use(srid)
        coords = (
            max(bbox.min_x, west),
            max(bbox.min_y, south),
            min(bbox.max_x, east),
            min(bbox.max_y, north),
        )
        if coords[0] >= coords[2] or coords[1] >= coords[3]:
            return False
        box = (
            "ST_Transform(ST_Segmentize(ST_MakeEnvelope(%(bx0)s, %(by0)s, %(bx1)s, %(by1)s, "
            f"{WGS84}), %(bstep)s), %(bsrid)s)"
        )
        where.params["bstep"] = max(coords[2] - coords[0], coords[3] - coords[1]) / (
            BBOX_EDGE_POINTS
        )
    # A scalar subquery is evaluated once (an InitPlan), and the index condition uses its value.
    where.add(
        f"s.geom && (SELECT {box}) AND ST_Intersects(s.geom, (SELECT {box}))",
        bx0=coords[0],
        by0=coords[1],
        bx1=coords[2],
        by1=coords[3],
        bsrid=srid,
    )
    return True


def _geometry_json(crs: Crs) -> str:
    """SQL for a row's geometry as GeoJSON in ``crs`` (options 0: no ``crs`` member)."""
    if crs.srid == storage_srid():
        return f"ST_AsGeoJSON(s.geom, {crs.precision}, 0)::json"
    geom = f"ST_Transform(s.geom, {crs.srid})"
    if crs.lat_lon:
        geom = f"ST_FlipCoordinates({geom})"
    return f"ST_AsGeoJSON({geom}, {crs.precision}, 0)::json"


def _feature_json(layer: Layer, crs: Crs) -> str:
    """SQL for one row as a GeoJSON Feature (``json``, so numbers keep their text)."""
    properties = ", ".join(f"'{a}', s.{_q(a)}" for a in layer.attributes)
    return (
        "json_build_object('type', 'Feature', 'id', s.id, "
        f"'geometry', {_geometry_json(crs)}, 'properties', json_build_object({properties}))"
    )


def _base_where(layer: Layer, *, bbox: BBox | None, filters: dict[str, list]) -> _Where | None:
    where = _Where()
    if bbox is not None and not _box_condition(where, bbox):
        return None
    for i, (column, values) in enumerate(filters.items()):
        where.add(f"s.{_q(column)} = ANY(%(f{i})s)", **{f"f{i}": values})
    return where


@dataclass(frozen=True)
class ItemsPage:
    features: str  # the Feature objects, comma-separated JSON text (no brackets)
    number_returned: int
    next_cursor: str | None
    number_matched: int | None


def items_page(
    *,
    layer: Layer,
    limit: int,
    after: int | None = None,
    bbox: BBox | None = None,
    filters: dict[str, list] | None = None,
    crs: Crs | None = None,
) -> ItemsPage:
    """One page of a layer's features in id order, starting after ``after``.

    Raw SQL because the page is assembled as GeoJSON inside PostgreSQL (``json_build_object``
    and ``string_agg``), and the layer's source is SQL text from the registry anyway. One more
    row than asked is read to know whether a next page exists without counting.
    """
    crs = crs or supported_crs()[0]
    where = _base_where(layer, bbox=bbox, filters=filters or {})
    if where is None:
        return ItemsPage("", 0, None, 0 if after is None else None)
    number_matched = None
    if after is None:
        number_matched = _count_capped(layer, where)
    keyset = where.clause()
    params = dict(where.params, fetch=limit + 1, limit=limit)
    if after is not None:
        keyset += " AND s.id > %(after)s"
        params["after"] = after
    sql = f"""
        WITH page AS (
            SELECT s.* FROM ({_source(layer)}) AS s
            WHERE {keyset}
            ORDER BY s.id
            LIMIT %(fetch)s
        ), kept AS (
            SELECT * FROM page ORDER BY id LIMIT %(limit)s
        )
        SELECT (SELECT count(*) FROM page) > %(limit)s,
               count(*),
               max(s.id),
               coalesce(string_agg(({_feature_json(layer, crs)})::text, ',' ORDER BY s.id), '')
        FROM kept AS s
    """  # noqa: S608 -- the source and columns come from the layer registry (code), values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        has_more, returned, last_id, features = cursor.fetchone()
    return ItemsPage(
        features=features,
        number_returned=returned,
        next_cursor=encode_cursor(last_id) if has_more else None,
        number_matched=number_matched,
    )


def _count_capped(layer: Layer, where: _Where) -> int | None:
    sql = f"""
        SELECT count(*) FROM (
            SELECT 1 FROM ({_source(layer)}) AS s WHERE {where.clause()} LIMIT %(cap)s
        ) AS capped
    """  # noqa: S608 -- as in items_page
    with connection.cursor() as cursor:
        cursor.execute(sql, dict(where.params, cap=COUNT_CAP + 1))
        (count,) = cursor.fetchone()
    return count if count <= COUNT_CAP else None


def item_feature(*, layer: Layer, fid: int, crs: Crs | None = None) -> str | None:
    """One feature of a layer as GeoJSON text, or None when the layer has no such id."""
    crs = crs or supported_crs()[0]
    sql = f"""
        SELECT ({_feature_json(layer, crs)})::text
        FROM ({_source(layer)}) AS s WHERE s.id = %(fid)s
    """  # noqa: S608 -- as in items_page
    with connection.cursor() as cursor:
        cursor.execute(sql, {"fid": fid})
        row = cursor.fetchone()
    return row[0] if row else None


def collection_extent(layer: Layer) -> list[float] | None:
    """The layer's bounding box in CRS84 (``[min_lon, min_lat, max_lon, max_lat]``), None when
    it is empty. Exact, cached (see the module docstring); rounded outwards to 1e-6°."""
    key = f"ogc-extent:{connection.settings_dict['NAME']}:{layer.name}"
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    # The storage-CRS extent is densified before it is transformed: its edges are curves in
    # lon/lat and a corner-only transform could cut off features along them.
    sql = f"""
        WITH ext AS (
            SELECT ST_SetSRID(ST_Extent(s.geom)::geometry, %(srid)s) AS g
            FROM ({_source(layer)}) AS s
        ), ll AS (
            SELECT ST_Transform(ST_Segmentize(g, greatest(
                       ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g), 1) / 32), {WGS84}) AS g
            FROM ext WHERE g IS NOT NULL
        )
        SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM ll
    """  # noqa: S608 -- as in items_page
    with connection.cursor() as cursor:
        cursor.execute(sql, {"srid": storage_srid()})
        row = cursor.fetchone()
    extent = []
    if row is not None:
        extent = [
            math.floor(row[0] * 1e6) / 1e6,
            math.floor(row[1] * 1e6) / 1e6,
            math.ceil(row[2] * 1e6) / 1e6,
            math.ceil(row[3] * 1e6) / 1e6,
        ]
    seconds = getattr(settings, "CAUDAL_OGC_EXTENT_CACHE_SECONDS", EXTENT_CACHE_SECONDS_DEFAULT)
    cache.set(key, extent, seconds)
    return extent or None
