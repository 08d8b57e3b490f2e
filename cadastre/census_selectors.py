"""Reads of the census, and the reconciliation of the cadastre against the customer roll.

The reconciliation report is raw SQL on purpose: it is a set operation over every parcel and
account of the city (a million of each), which the ORM would express as several subqueries
and Python-side unions. Each kind of finding is one ``SELECT`` over the whole set; they are
glued with ``UNION ALL``, filtered, sorted and paginated in the database. Only the rows of
the page come back to Python (to translate their description).

Kinds of finding, each with a stable key (what an inspection order keeps as ``source_ref``):

``no_account`` (``no_account:parcel:<id>``)
    An active parcel with a building and no active service account: a possible clandestine
    connection. "Building" means ``built_area_m2 > 0`` in the cadastre, or the latest census
    visit found a building or a water connection.
``use_mismatch`` (``use_mismatch:account:<id>``)
    An active account whose use type is not compatible with its parcel's land use
    (:data:`USE_COMPATIBILITY`), e.g. a domestic account on a commercial parcel.
``point_offset`` (``point_offset:account:<id>``)
    An active account whose service point lies farther than
    ``settings.CAUDAL_TOPOLOGY["SERVICE_POINT_MAX_OFFSET_M"]`` outside its parcel. Points on
    the street side, closer than that, are normal connections and are not reported.
``census_land_use`` (``census_land_use:parcel:<id>``)
    The latest census visit found a land use other than the cadastre's.
``census_meter`` (``census_meter:parcel:<id>``)
    The latest census visit saw a meter serial that is not the installed meter of any active
    account of the parcel (or the account has no installed meter). Serials are compared in
    upper case without spaces or dashes. Parcels without an active account are left to
    ``no_account``.

"Latest census visit" is the parcel's most recent visit, of the given campaign when the report
is filtered by campaign. Keys name the parcel or account, not the visit, so a finding keeps
its key when the parcel is visited again and a re-run never creates a second open order.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db.models import PointField
from django.contrib.gis.db.models.functions import PointOnSurface, Transform
from django.db import connection
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadastre.models import CensusCampaign, CensusVisit, LandUse, UseType
from gis_core.srid import WGS84, storage_srid

NO_ACCOUNT = "no_account"
USE_MISMATCH = "use_mismatch"
POINT_OFFSET = "point_offset"
CENSUS_LAND_USE = "census_land_use"
CENSUS_METER = "census_meter"

FINDING_KINDS = {
    NO_ACCOUNT: gettext_lazy("Building without an active account"),
    USE_MISMATCH: gettext_lazy("Account use type does not match the land use"),
    POINT_OFFSET: gettext_lazy("Service point far outside its parcel"),
    CENSUS_LAND_USE: gettext_lazy("Census found a different land use"),
    CENSUS_METER: gettext_lazy("Census saw a different meter"),
}
# What each key names: the parcel or the account of the finding.
KEY_ENTITY = {
    NO_ACCOUNT: "parcel",
    USE_MISMATCH: "account",
    POINT_OFFSET: "account",
    CENSUS_LAND_USE: "parcel",
    CENSUS_METER: "parcel",
}
KEY_PATTERN = re.compile(r"^(?P<kind>[a-z_]+):(?P<entity>parcel|account):(?P<id>[0-9]{1,18})$")

# The one compatibility table of account use types and parcel land uses. An active account
# whose (land use, use type) pair is not listed here is a ``use_mismatch``.
# - Residential land: domestic service, or mixed (a home with a small shop, the common case).
# - Commercial land: commercial or mixed; a domestic tariff there is under-billing.
# - Mixed land: any of domestic, commercial, mixed.
# - Industrial land: industrial, or commercial (offices, warehouses on an industrial lot).
# - Public facilities and parks: public service only.
# - Vacant lots: no account is compatible (an account there means the lot is built or the
#   cadastre is out of date — either way someone should look).
USE_COMPATIBILITY: dict[str, frozenset[str]] = {
    LandUse.RESIDENTIAL: frozenset({UseType.DOMESTIC, UseType.MIXED}),
    LandUse.COMMERCIAL: frozenset({UseType.COMMERCIAL, UseType.MIXED}),
    LandUse.MIXED: frozenset({UseType.DOMESTIC, UseType.COMMERCIAL, UseType.MIXED}),
    LandUse.INDUSTRIAL: frozenset({UseType.INDUSTRIAL, UseType.COMMERCIAL}),
    LandUse.PUBLIC: frozenset({UseType.PUBLIC}),
    LandUse.GREEN: frozenset({UseType.PUBLIC}),
    LandUse.VACANT: frozenset(),
}

COORD_DECIMALS = 6
# Inspection requests and CSV exports beyond this many keys at once are refused / paged.
MAX_KEYS_PER_REQUEST = 1000


def compatible_pairs() -> list[str]:
    """``land_use:use_type`` strings of every compatible pair (the SQL side of the table)."""
    return sorted(f"{lu}:{ut}" for lu, uts in USE_COMPATIBILITY.items() for ut in uts)


def max_service_point_offset_m() -> float:
    return float(settings.CAUDAL_TOPOLOGY["SERVICE_POINT_MAX_OFFSET_M"])


@dataclass(frozen=True)
class ReconciliationFilter:
    """What the report is limited to. ``bbox`` is (min lon, min lat, max lon, max lat) in WGS 84."""

    kinds: tuple[str, ...] = tuple(FINDING_KINDS)
    locality_id: int | None = None
    campaign_id: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    parcel_ids: dict[str, list[int]] = field(default_factory=dict)  # by kind, for key lookups
    account_ids: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Finding:
    key: str
    kind: str
    parcel_id: int
    cadastral_key: str
    account_id: int | None
    account_number: str | None
    lon: float
    lat: float
    x: float  # storage SRID, for orders
    y: float
    details: dict

    @property
    def kind_label(self) -> str:
        return str(FINDING_KINDS[self.kind])

    @property
    def description(self) -> str:
        return finding_description(self)


def _land_use_label(value: str | None) -> str:
    return str(LandUse(value).label) if value in LandUse.values else (value or "")


def _use_type_label(value: str | None) -> str:
    return str(UseType(value).label) if value in UseType.values else (value or "")


def finding_description(f: Finding) -> str:
    """The finding in words, in the active language."""
    d = f.details
    if f.kind == NO_ACCOUNT:
        if d["built_area_m2"] is not None and d["built_area_m2"] > 0:
            return _(
                "Parcel %(key)s has %(area)s m² built but no active service account: "
                "possible clandestine connection."
            ) % {"key": f.cadastral_key, "area": d["built_area_m2"]}
        return _(
            "The census found a building or a water connection on parcel %(key)s, which has "
            "no active service account: possible clandestine connection."
        ) % {"key": f.cadastral_key}
    if f.kind == USE_MISMATCH:
        return _(
            "Account %(account)s has use type “%(use_type)s” but parcel %(key)s has land use "
            "“%(land_use)s”."
        ) % {
            "account": f.account_number,
            "use_type": _use_type_label(d["use_type"]),
            "key": f.cadastral_key,
            "land_use": _land_use_label(d["land_use"]),
        }
    if f.kind == POINT_OFFSET:
        return _(
            "The service point of account %(account)s lies %(distance).0f m outside parcel "
            "%(key)s (more than %(limit).0f m)."
        ) % {
            "account": f.account_number,
            "distance": d["offset_m"],
            "key": f.cadastral_key,
            "limit": max_service_point_offset_m(),
        }
    if f.kind == CENSUS_LAND_USE:
        return _(
            "The census found land use “%(found)s” on parcel %(key)s; the cadastre says "
            "“%(land_use)s”."
        ) % {
            "found": _land_use_label(d["land_use_found"]),
            "key": f.cadastral_key,
            "land_use": _land_use_label(d["land_use"]),
        }
    if d["serial_installed"]:
        return _(
            "The census saw meter %(seen)s on parcel %(key)s; the installed meter is %(installed)s."
        ) % {"seen": d["serial_seen"], "key": f.cadastral_key, "installed": d["serial_installed"]}
    return _(
        "The census saw meter %(seen)s on parcel %(key)s, but its account has no installed meter."
    ) % {"seen": d["serial_seen"], "key": f.cadastral_key}


# --- SQL ------------------------------------------------------------------------------------

# Every kind's SELECT yields these columns, in this order.
_COLUMNS = (
    "kind",
    "key",
    "parcel_id",
    "cadastral_key",
    "account_id",
    "account_number",
    "pt",
    "land_use",
    "use_type",
    "built_area_m2",
    "census_building",
    "census_connection",
    "offset_m",
    "serial_seen",
    "serial_installed",
    "land_use_found",
    "visit_id",
)
_DETAIL_COLUMNS = _COLUMNS[7:]

_SQL_NO_ACCOUNT = """
SELECT 'no_account'::text, 'no_account:parcel:' || p.id, p.id, p.cadastral_key,
       NULL::bigint, NULL::text, ST_PointOnSurface(p.geom),
       p.land_use::text, NULL::text, p.built_area_m2, l.has_building, l.has_connection,
       NULL::float8, NULL::text, NULL::text, NULL::text, l.id
FROM cadastre_parcel p
LEFT JOIN latest l ON l.parcel_id = p.id
WHERE {parcel_filter}
  AND (p.built_area_m2 > 0 OR l.has_building OR l.has_connection)
  AND NOT EXISTS (
      SELECT 1 FROM cadastre_serviceaccount a WHERE a.parcel_id = p.id AND a.status = 'active')
"""

_SQL_USE_MISMATCH = """
SELECT 'use_mismatch'::text, 'use_mismatch:account:' || a.id, p.id, p.cadastral_key,
       a.id, a.number::text, a.service_point,
       p.land_use::text, a.use_type::text, NULL::numeric, NULL::boolean, NULL::boolean,
       NULL::float8, NULL::text, NULL::text, NULL::text, NULL::bigint
FROM cadastre_serviceaccount a
JOIN cadastre_parcel p ON p.id = a.parcel_id
WHERE {parcel_filter} AND {account_filter} AND a.status = 'active'
  AND NOT ((p.land_use || ':' || a.use_type) = ANY(%(compatible)s))
"""

_SQL_POINT_OFFSET = """
SELECT 'point_offset'::text, 'point_offset:account:' || a.id, p.id, p.cadastral_key,
       a.id, a.number::text, a.service_point,
       p.land_use::text, a.use_type::text, NULL::numeric, NULL::boolean, NULL::boolean,
       ST_Distance(a.service_point, p.geom), NULL::text, NULL::text, NULL::text, NULL::bigint
FROM cadastre_serviceaccount a
JOIN cadastre_parcel p ON p.id = a.parcel_id
WHERE {parcel_filter} AND {account_filter} AND a.status = 'active'
  AND NOT ST_DWithin(a.service_point, p.geom, %(max_offset)s)
"""

_SQL_CENSUS_LAND_USE = """
SELECT 'census_land_use'::text, 'census_land_use:parcel:' || p.id, p.id, p.cadastral_key,
       NULL::bigint, NULL::text, COALESCE(l.position, ST_PointOnSurface(p.geom)),
       p.land_use::text, NULL::text, NULL::numeric, l.has_building, l.has_connection,
       NULL::float8, NULL::text, NULL::text, l.land_use_found::text, l.id
FROM latest l
JOIN cadastre_parcel p ON p.id = l.parcel_id
WHERE {parcel_filter} AND l.land_use_found <> p.land_use
"""

_SQL_CENSUS_METER = """
SELECT 'census_meter'::text, 'census_meter:parcel:' || p.id, p.id, p.cadastral_key,
       CASE WHEN acc.n = 1 THEN acc.account_id END,
       CASE WHEN acc.n = 1 THEN acc.account_number END,
       COALESCE(l.position, ST_PointOnSurface(p.geom)),
       p.land_use::text, NULL::text, NULL::numeric, l.has_building, l.has_connection,
       NULL::float8, l.meter_serial_seen::text, acc.installed, NULL::text, l.id
FROM latest l
JOIN cadastre_parcel p ON p.id = l.parcel_id
CROSS JOIN LATERAL (
    SELECT count(DISTINCT a.id) AS n, min(a.id) AS account_id, min(a.number) AS account_number,
           bool_or(regexp_replace(upper(m.serial), '[^A-Z0-9]', '', 'g')
                   = regexp_replace(upper(l.meter_serial_seen), '[^A-Z0-9]', '', 'g'))
               AS matches,
           string_agg(m.serial, ', ' ORDER BY m.serial) AS installed
    FROM cadastre_serviceaccount a
    LEFT JOIN metering_meter m ON m.account_id = a.id AND m.status = 'installed'
    WHERE a.parcel_id = p.id AND a.status = 'active'
) acc
WHERE {parcel_filter} AND l.meter_serial_seen <> '' AND acc.n > 0
  AND NOT COALESCE(acc.matches, false)
"""

_SQL_LATEST = """
SELECT DISTINCT ON (v.parcel_id) v.id, v.parcel_id, v.land_use_found, v.has_building,
       v.has_connection, v.meter_serial_seen, v.position
FROM cadastre_censusvisit v
WHERE {campaign_filter}
ORDER BY v.parcel_id, v.visited_at DESC, v.id DESC
"""

_KIND_SQL = {
    NO_ACCOUNT: _SQL_NO_ACCOUNT,
    USE_MISMATCH: _SQL_USE_MISMATCH,
    POINT_OFFSET: _SQL_POINT_OFFSET,
    CENSUS_LAND_USE: _SQL_CENSUS_LAND_USE,
    CENSUS_METER: _SQL_CENSUS_METER,
}
_KIND_ORDER = {kind: n for n, kind in enumerate(FINDING_KINDS)}


def _findings_sql(flt: ReconciliationFilter) -> tuple[str, dict]:
    """The UNION ALL of the requested kinds, with the filters applied inside each SELECT.

    Filters go inside each branch (not around the union) so that the planner can use the
    indexes of the filtered tables: the spatial index of parcels for a bbox, the block and
    account foreign-key indexes for a locality, the primary keys for a key lookup.
    """
    params: dict = {
        "compatible": compatible_pairs(),
        "max_offset": max_service_point_offset_m(),
        "srid": storage_srid(),
    }
    base = ["p.status = 'active'"]
    if flt.locality_id is not None:
        base.append(
            "p.block_id IN (SELECT id FROM cadastre_block WHERE locality_id = %(locality)s)"
        )
        params["locality"] = flt.locality_id
    if flt.bbox is not None:
        # Transform the envelope into the storage SRID, never the indexed column.
        base.append(
            "p.geom && ST_Transform(ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, "
            f"{WGS84}), %(srid)s)"
        )
        params.update(dict(zip(("xmin", "ymin", "xmax", "ymax"), flt.bbox, strict=True)))
    if flt.campaign_id is not None:
        base.append(
            "EXISTS (SELECT 1 FROM cadastre_censusvisit cv"
            " WHERE cv.parcel_id = p.id AND cv.campaign_id = %(campaign)s)"
        )
        params["campaign"] = flt.campaign_id

    branches = []
    for kind in FINDING_KINDS:
        if kind not in flt.kinds:
            continue
        parcel_filter = list(base)
        account_filter = ["true"]
        if flt.parcel_ids or flt.account_ids:
            # A key lookup: only the named parcels/accounts of this kind.
            parcel_ids = flt.parcel_ids.get(kind)
            account_ids = flt.account_ids.get(kind)
            if not parcel_ids and not account_ids:
                continue
            if parcel_ids:
                parcel_filter.append(f"p.id = ANY(%(pids_{kind})s)")
                params[f"pids_{kind}"] = parcel_ids
            if account_ids:
                account_filter = [f"a.id = ANY(%(aids_{kind})s)"]
                params[f"aids_{kind}"] = account_ids
        branches.append(
            _KIND_SQL[kind].format(
                parcel_filter=" AND ".join(parcel_filter),
                account_filter=" AND ".join(account_filter),
            )
        )
    if not branches:
        return "", params

    # The SQL is assembled from this module's constants only; every value is a parameter.
    latest = _SQL_LATEST.format(
        campaign_filter="v.campaign_id = %(campaign)s" if flt.campaign_id is not None else "true"
    )
    kind_order = " ".join(f"WHEN '{k}' THEN {n}" for k, n in _KIND_ORDER.items())
    union = "\nUNION ALL\n".join(branches)
    sql = f"""
WITH latest AS ({latest}),
findings ({", ".join(_COLUMNS)}) AS ({union})
SELECT *, CASE kind {kind_order} END AS kind_order FROM findings
"""  # noqa: S608
    return sql, params


def _page_sql(inner: str, *, paged: bool, counted: bool) -> str:
    """Sort, paginate, and transform the page's points (only those) for output."""
    total = ", count(*) OVER () AS total" if counted else ""
    limit = " LIMIT %(limit)s OFFSET %(offset)s" if paged else ""
    return f"""
SELECT page.*, ST_X(page.pt) AS x, ST_Y(page.pt) AS y,
       ST_X(ST_Transform(page.pt, {WGS84})) AS lon, ST_Y(ST_Transform(page.pt, {WGS84})) AS lat
FROM (
    SELECT f.*{total} FROM ({inner}) f
    ORDER BY f.kind_order, f.parcel_id, f.account_id NULLS FIRST
    {limit}
) page
ORDER BY page.kind_order, page.parcel_id, page.account_id NULLS FIRST
"""  # noqa: S608


def _row_to_finding(names: list[str], row) -> Finding:
    r = dict(zip(names, row, strict=True))
    details = {name: r[name] for name in _DETAIL_COLUMNS}
    for name in ("offset_m",):
        if details[name] is not None:
            details[name] = round(float(details[name]), 2)
    if isinstance(details["built_area_m2"], Decimal):
        details["built_area_m2"] = details["built_area_m2"]
    return Finding(
        key=r["key"],
        kind=r["kind"],
        parcel_id=r["parcel_id"],
        cadastral_key=r["cadastral_key"],
        account_id=r["account_id"],
        account_number=r["account_number"],
        lon=round(r["lon"], COORD_DECIMALS),
        lat=round(r["lat"], COORD_DECIMALS),
        x=r["x"],
        y=r["y"],
        details=details,
    )


def _names(cursor) -> list[str]:
    return [c.name for c in cursor.description]


def reconciliation_findings(
    *, filters: ReconciliationFilter, limit: int = 100, offset: int = 0
) -> tuple[list[Finding], int]:
    """One page of findings, sorted by kind, parcel and account, and the total count."""
    inner, params = _findings_sql(filters)
    if not inner:
        return [], 0
    params = {**params, "limit": limit, "offset": offset}
    with connection.cursor() as cursor:
        cursor.execute(_page_sql(inner, paged=True, counted=True), params)
        names = _names(cursor)
        rows = cursor.fetchall()
        if rows:
            total = rows[0][names.index("total")]
        else:
            cursor.execute(f"SELECT count(*) FROM ({inner}) f", params)  # noqa: S608
            total = cursor.fetchone()[0]
    return [_row_to_finding(names, row) for row in rows], total


def reconciliation_findings_iter(*, filters: ReconciliationFilter, chunk_size: int = 2000):
    """Every finding, sorted, read through a server-side cursor (for CSV export)."""
    inner, params = _findings_sql(filters)
    if not inner:
        return
    with connection.chunked_cursor() as cursor:
        cursor.execute(_page_sql(inner, paged=False, counted=False), params)
        names = _names(cursor)
        while rows := cursor.fetchmany(chunk_size):
            for row in rows:
                yield _row_to_finding(names, row)


class FindingKeyError(ValueError):
    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key
        self.message = message


def parse_finding_key(key: str) -> tuple[str, str, int]:
    """``kind:entity:id`` → (kind, entity, id); raises ``FindingKeyError`` naming the key."""
    match = KEY_PATTERN.match(key or "")
    if match is None or match["kind"] not in FINDING_KINDS:
        raise FindingKeyError(
            key,
            _("%(key)s is not a reconciliation finding key (kind:parcel|account:id).")
            % {"key": key},
        )
    kind, entity = match["kind"], match["entity"]
    if KEY_ENTITY[kind] != entity:
        raise FindingKeyError(
            key,
            _("%(key)s is not a valid key; findings of this kind look like %(example)s.")
            % {"key": key, "example": f"{kind}:{KEY_ENTITY[kind]}:123"},
        )
    return kind, entity, int(match["id"])


def reconciliation_findings_by_keys(*, keys: list[str]) -> dict[str, Finding]:
    """The findings that are still reported for ``keys`` (a fixed one is simply absent).

    Raises ``FindingKeyError`` for a malformed key.
    """
    parcel_ids: dict[str, list[int]] = {}
    account_ids: dict[str, list[int]] = {}
    for key in keys:
        kind, entity, pk = parse_finding_key(key)
        target = parcel_ids if entity == "parcel" else account_ids
        target.setdefault(kind, []).append(pk)
    kinds = tuple(set(parcel_ids) | set(account_ids))
    flt = ReconciliationFilter(kinds=kinds, parcel_ids=parcel_ids, account_ids=account_ids)
    found, _total = reconciliation_findings(filters=flt, limit=len(keys) or 1, offset=0)
    return {f.key: f for f in found}


def reconciliation_explain(*, filters: ReconciliationFilter, analyze: bool = False) -> str:
    """The query plan of the report (for checking index use at scale)."""
    inner, params = _findings_sql(filters)
    params = {**params, "limit": 100, "offset": 0}
    with connection.cursor() as cursor:
        cursor.execute(
            ("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ")
            + _page_sql(inner, paged=True, counted=True),
            params,
        )
        return "\n".join(row[0] for row in cursor.fetchall())


# --- census reads ---------------------------------------------------------------------------


def census_campaign_list():
    return CensusCampaign.objects.order_by("-starts_on", "-id")


def census_visit_list(*, campaign: CensusCampaign):
    """The campaign's visits with a point in WGS 84 (``point_wgs84``): the GPS position, or a
    point on the parcel when the phone had no fix."""
    srid = storage_srid()
    point = Coalesce(
        F("position"), PointOnSurface(F("parcel__geom")), output_field=PointField(srid=srid)
    )
    return (
        CensusVisit.objects.filter(campaign=campaign)
        .select_related("parcel", "visited_by")
        .annotate(point_wgs84=Transform(point, WGS84))
        .order_by("visited_at", "id")
    )
