"""Reads of sectorization: areas for the map and the API, account counts, the accounts that fall
in no polygon, and the gaps in coverage.

Gaps and counts are SQL over whole sets (one statement each); the ORM serves single objects and
lists of areas.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext as _

from cadastre.models import ServiceAccount
from gis_core.srid import WGS84, geojson_4326_sql
from sectors.models import (
    ASSIGNMENT_COLUMN,
    KINDS,
    AccountSectors,
    AreaKind,
    CommercialArea,
    Dma,
    Level,
    SectorsError,
    TariffZone,
)


def _model(kind: str):
    return CommercialArea if kind in Level.values else Dma if kind == AreaKind.DMA else TariffZone


def area_list(*, kind: str, parent_id: int | None = None, envelope: Polygon | None = None):
    """Areas of ``kind`` (optionally of one parent, or meeting an envelope in the storage CRS),
    with their boundary as GeoJSON in WGS 84 (``geojson``) and their parent's code."""
    model = _model(kind)
    qs = model.objects.all()
    if model is CommercialArea:
        qs = qs.filter(level=kind).annotate(parent_code=F("parent__code"))
        if parent_id is not None:
            qs = qs.filter(parent_id=parent_id)
    if envelope is not None:
        qs = qs.filter(geom__intersects=envelope)
    return qs.annotate(geojson=geojson_4326_sql("geom")).defer("geom").order_by("code")


def area_account_counts(*, kind: str, ids: list[int]) -> dict[int, int]:
    """Accounts assigned to each area of ``ids`` (areas without accounts are left out)."""
    column = ASSIGNMENT_COLUMN[kind]
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column}, count(*) FROM sectors_accountsectors"  # noqa: S608
            f" WHERE {column} = ANY(%s) GROUP BY {column}",
            [list(ids)],
        )
        return dict(cursor.fetchall())


def account_sectors_get(*, account_id: int) -> AccountSectors | None:
    return (
        AccountSectors.objects.select_related(
            "account", "zone", "sector", "book", "dma", "tariff_zone"
        )
        .defer(
            "account__service_point",
            "zone__geom",
            "sector__geom",
            "book__geom",
            "dma__geom",
            "tariff_zone__geom",
        )
        .filter(account_id=account_id)
        .first()
    )


def unassigned_counts() -> dict[str, int]:
    """Accounts in no area of each kind; accounts never assigned count in every kind."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE s.account_id IS NULL OR s.{ASSIGNMENT_COLUMN[k]} IS NULL)"
        for k in KINDS
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), {counts} FROM cadastre_serviceaccount a"  # noqa: S608
            " LEFT JOIN sectors_accountsectors s ON s.account_id = a.id"
        )
        row = cursor.fetchone()
    return {"accounts": row[0], **dict(zip(KINDS, row[1:], strict=True))}


def unassigned_accounts(*, kind: str):
    """The accounts in no area of ``kind`` (or never assigned), by account number."""
    field = ASSIGNMENT_COLUMN[kind].removesuffix("_id")
    return (
        ServiceAccount.objects.filter(
            Q(sectors__isnull=True) | Q(**{f"sectors__{field}__isnull": True})
        )
        .annotate(point_wgs84=Transform("service_point", WGS84))
        .only("id", "number", "status", "parcel_id")
        .order_by("number")
    )


@dataclass(frozen=True)
class Gap:
    """A part of the territory no area of ``kind`` covers: inside ``parent`` (a zone for
    sectors, a sector for books) or, for top-level kinds, inside the city's neighbourhoods."""

    kind: str
    parent_id: int | None
    parent_code: str | None
    geom: GEOSGeometry  # storage SRID
    area_m2: float
    accounts: int  # service points inside it


_CHILD_GAPS_SQL = """
    SELECT p.id, p.code, ST_AsEWKB(g.geom), ST_Area(g.geom),
           (SELECT count(*) FROM cadastre_serviceaccount a
             WHERE ST_Intersects(a.service_point, g.geom))
      FROM sectors_commercialarea p
     CROSS JOIN LATERAL (SELECT ST_Union(c.geom) AS geom FROM sectors_commercialarea c
                          WHERE c.parent_id = p.id) u
     CROSS JOIN LATERAL (
           SELECT (ST_Dump(ST_CollectionExtract(
                      CASE WHEN u.geom IS NULL THEN p.geom ELSE ST_Difference(p.geom, u.geom) END,
                      3))).geom) g
     WHERE p.level = %(parent_level)s
       AND (%(parent)s::bigint IS NULL OR p.id = %(parent)s)
       AND (%(env)s::geometry IS NULL OR p.geom && %(env)s::geometry)
       AND (%(env)s::geometry IS NULL OR g.geom && %(env)s::geometry)
       AND NOT ST_IsEmpty(ST_Buffer(g.geom, -%(tol)s / 2.0))
     ORDER BY p.code, ST_Area(g.geom) DESC
"""

# Top-level kinds: the city is the union of its neighbourhoods (cadastre localities), clipped
# to the envelope when one is given (else a part of the city outside the envelope would show
# as a gap of the areas the envelope does not reach).
_TOP_GAPS_SQL = """
    WITH env AS (SELECT %(env)s::geometry AS geom),
    city AS (
        SELECT CASE WHEN env.geom IS NULL THEN u.geom ELSE ST_Intersection(u.geom, env.geom) END
               AS geom
          FROM env, LATERAL (SELECT ST_Union(l.geom) AS geom FROM cadastre_locality l
                              WHERE env.geom IS NULL OR l.geom && env.geom) u),
    cover AS (
        SELECT ST_Union(a.geom) AS geom FROM {table} a, env
         WHERE {kind_filter} AND (env.geom IS NULL OR a.geom && env.geom))
    SELECT NULL::bigint, NULL::text, ST_AsEWKB(g.geom), ST_Area(g.geom),
           (SELECT count(*) FROM cadastre_serviceaccount a
             WHERE ST_Intersects(a.service_point, g.geom))
      FROM city, cover
     CROSS JOIN LATERAL (
           SELECT (ST_Dump(ST_CollectionExtract(
                      CASE WHEN cover.geom IS NULL THEN city.geom
                           ELSE ST_Difference(city.geom, cover.geom) END, 3))).geom) g
     WHERE city.geom IS NOT NULL AND NOT ST_IsEmpty(ST_Buffer(g.geom, -%(tol)s / 2.0))
     ORDER BY ST_Area(g.geom) DESC
"""


def coverage_gaps(
    *, kind: str, parent_id: int | None = None, envelope: Polygon | None = None
) -> list[Gap]:
    """Where no area of ``kind`` lies: for sectors and books, the parts of each parent zone or
    sector (one parent, those meeting ``envelope``, or all) its children leave uncovered; for
    zones, DMAs and tariff zones, the parts of the city (the union of its neighbourhoods,
    within ``envelope`` if given) none covers. Gaps thinner than the overlap tolerance are left
    out. Each gap comes with the number of service points inside it.

    Raises ``SectorsError`` ``unknown_kind`` or ``parent_not_allowed``.
    """
    # Imported here: the services import this module (coverage_gaps is part of their API).
    from sectors.services import kind_info, overlap_tolerance

    info = kind_info(kind)
    params = {
        "env": None if envelope is None else bytes(envelope.ewkb),
        "parent": parent_id,
        "tol": overlap_tolerance(),
    }
    with connection.cursor() as cursor:
        if kind in (Level.SECTOR, Level.BOOK):
            parent_level = Level.ZONE if kind == Level.SECTOR else Level.SECTOR
            cursor.execute(_CHILD_GAPS_SQL, {**params, "parent_level": parent_level})
        else:
            if parent_id is not None:
                raise SectorsError(
                    "parent_not_allowed",
                    _("A %(kind)s has no parent area; leave the parent empty.")
                    % {"kind": info.label.lower()},
                )
            model = _model(kind)
            kind_filter = f"a.level = '{kind}'" if model is CommercialArea else "TRUE"
            cursor.execute(
                _TOP_GAPS_SQL.format(table=model._meta.db_table, kind_filter=kind_filter), params
            )
        rows = cursor.fetchall()
    srid = settings.CAUDAL_SRID
    gaps = []
    for parent, code, ewkb, area, accounts in rows:
        geom = GEOSGeometry(memoryview(bytes(ewkb)))
        geom.srid = geom.srid or srid
        gaps.append(
            Gap(
                kind=kind,
                parent_id=parent,
                parent_code=code,
                geom=geom,
                area_m2=area,
                accounts=accounts,
            )
        )
    return gaps
