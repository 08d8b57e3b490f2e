"""Topology rules of parcel edits, as PostGIS queries (used by ``cadastre.services``).

Every parcel geometry a service writes goes through :func:`prepare_parcel_geometry`:

1. normalize: a Polygon (or a one-part MultiPolygon) with an SRID, transformed to the storage
   SRID, 2D, not empty, under the vertex cap;
2. valid (``ST_IsValidReason`` text, ``ST_IsValidDetail`` location);
3. snapped onto the neighbours and the block outline (:func:`snap`);
4. still valid, no overlap with active neighbours, inside its block (:func:`check_rules`).

Tolerances come from ``settings.CAUDAL_TOPOLOGY`` in metres of the storage CRS. "Thinner
than the tolerance" is tested with a negative buffer: a sliver (an overlap, a part outside the
block, a cut-off piece) is tolerated when ``ST_Buffer(sliver, -tolerance / 2)`` is empty, i.e.
when it is nowhere wider than the tolerance. Unlike an area threshold it does not depend on how
long the shared edge is: a 5 cm strip along a 100 m edge is noise, a 1 m² square is not.

The queries are raw SQL because each is one geometric computation over the parcel and its few
neighbours (found through the GiST index with ``ST_DWithin`` / ``ST_Intersects``); the ORM
would only hide it. Geometries travel as EWKB so the SRID travels with them.
"""

from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GeometryCollection, GEOSException, GEOSGeometry
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadastre.errors import CadastreError
from cadastre.models import Block, Parcel, ParcelStatus
from gis_core import sql as pg
from gis_core.srid import storage_srid

# GEOS's validity reasons (ST_IsValidDetail's ``reason``), translatable.
VALIDITY_REASONS = {
    "Self-intersection": gettext_lazy("the outline crosses itself"),
    "Ring Self-intersection": gettext_lazy("a ring touches itself"),
    "Too few points": gettext_lazy("too few distinct vertices"),
    "Too few distinct points in geometry component": gettext_lazy("too few distinct vertices"),
    "Too few points in geometry component": gettext_lazy("too few distinct vertices"),
    "Hole lies outside shell": gettext_lazy("a hole lies outside the outline"),
    "Holes are nested": gettext_lazy("a hole lies inside another hole"),
    "Interior is disconnected": gettext_lazy("the holes cut the parcel in pieces"),
    "Nested shells": gettext_lazy("one outline lies inside another"),
    "Duplicate Rings": gettext_lazy("a ring is repeated"),
    "Invalid Coordinate": gettext_lazy("a coordinate is not a number"),
    "Ring is not closed": gettext_lazy("a ring is not closed"),
}


def snap_tolerance() -> float:
    return float(settings.CAUDAL_TOPOLOGY["SNAP_TOLERANCE_M"])


def overlap_tolerance() -> float:
    return float(settings.CAUDAL_TOPOLOGY["OVERLAP_TOLERANCE_M"])


def max_vertices() -> int:
    # Parcels share the import limit: a parcel drawn on the map has tens of vertices, and one
    # with more than the importer accepts could not be exported and re-imported either.
    return int(settings.CAUDAL_IMPORT_LIMITS["MAX_VERTICES_PER_FEATURE"])


def _m2(value: float) -> str:
    return f"{value:,.2f}"


# --- 1. normalize ----------------------------------------------------------------------------


def normalize(geom, *, kind: str) -> GEOSGeometry:
    """``geom`` as a 2D ``kind`` ("Polygon" or "LineString") in the storage SRID, or raise.

    A one-part Multi* is accepted as its part. The transformation runs in PostGIS (the same
    PROJ the database uses everywhere else) inside a savepoint, so a coordinate outside the
    source CRS's domain becomes a ``CadastreError``, not an aborted transaction.
    """
    type_labels = {"Polygon": _("polygon"), "LineString": _("line")}
    if not isinstance(geom, GEOSGeometry):
        raise CadastreError(
            "wrong_geometry_type",
            _("A %(expected)s geometry is required, not “%(got)s”.")
            % {"expected": type_labels[kind], "got": type(geom).__name__},
        )
    if geom.srid is None:
        raise CadastreError(
            "missing_srid",
            _(
                "The geometry has no coordinate reference system (SRID); send it with one, "
                "e.g. EPSG:4326 for longitude/latitude."
            ),
        )
    if geom.empty:
        raise CadastreError(
            "empty_geometry", _("The geometry is empty; draw it on the map before saving.")
        )
    if geom.geom_type == f"Multi{kind}":
        if len(geom) != 1:
            raise CadastreError(
                "wrong_geometry_type",
                _("The geometry has %(count)s separate parts; draw a single %(expected)s.")
                % {"count": len(geom), "expected": type_labels[kind]},
                where=_to_storage_quietly(geom),
            )
        part = geom[0]
        part.srid = geom.srid
        geom = part
    if geom.geom_type != kind:
        raise CadastreError(
            "wrong_geometry_type",
            _("A %(expected)s geometry is required, not a %(got)s.")
            % {"expected": type_labels[kind], "got": geom.geom_type},
        )
    if geom.num_coords > max_vertices():
        raise CadastreError(
            "too_many_vertices",
            _("The geometry has %(count)s vertices; at most %(max)s are accepted. Simplify it.")
            % {"count": geom.num_coords, "max": max_vertices()},
        )
    target = storage_srid()
    if geom.srid == target and not geom.hasz:
        return geom
    if not pg.fetchone(
        "SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = %s)", [geom.srid]
    )[0]:
        raise CadastreError(
            "unknown_srid",
            _("The coordinate reference system EPSG:%(srid)s is unknown.") % {"srid": geom.srid},
        )
    try:
        with transaction.atomic():
            row = pg.fetchone(
                "SELECT ST_AsEWKB(ST_Transform(ST_Force2D(ST_GeomFromEWKB(%s)), %s))",
                [pg.ewkb(geom), target],
            )
    except DatabaseError as exc:
        raise CadastreError(
            "invalid_geometry",
            _(
                "The geometry cannot be transformed from EPSG:%(source)s to EPSG:%(target)s: "
                "its coordinates lie outside the area of the source system."
            )
            % {"source": geom.srid, "target": target},
        ) from exc
    return pg.geos(row[0])


def _to_storage_quietly(geom: GEOSGeometry) -> GEOSGeometry | None:
    """For ``where`` only: the geometry in the storage SRID, or None when that fails."""
    try:
        return geom.transform(storage_srid(), clone=True)
    except (GDALException, GEOSException):
        return None


# --- 2. valid --------------------------------------------------------------------------------


def check_valid(geom: GEOSGeometry, *, after_snapping: bool = False) -> None:
    """Raise ``invalid_geometry`` with GEOS's reason and the point where it was found."""
    valid, reason, location, reason_text = pg.fetchone(
        """SELECT d.valid, d.reason, ST_AsEWKB(ST_SetSRID(d.location, ST_SRID(g.geom))),
                  ST_IsValidReason(g.geom)
             FROM (SELECT ST_GeomFromEWKB(%s) AS geom) g, ST_IsValidDetail(g.geom) d""",
        [pg.ewkb(geom)],
    )
    if valid:
        return
    params = {"reason": VALIDITY_REASONS.get(reason, reason), "detail": reason_text}
    if after_snapping:
        message = _(
            "Snapped onto the neighbouring parcels, the outline is no longer a valid polygon: "
            "%(reason)s (%(detail)s). Move the marked vertices farther from each other."
        )
    else:
        message = _(
            "The outline is not a valid polygon: %(reason)s (%(detail)s). Fix it at the marked "
            "point and save again."
        )
    raise CadastreError("invalid_geometry", message % params, where=pg.geos(location))


# --- 3. snap ---------------------------------------------------------------------------------

_REFERENCE_SQL = """
    SELECT ST_AsEWKB(ST_Collect(edge)) FROM (
        SELECT ST_Boundary(p.geom) AS edge
          FROM cadastre_parcel p
         WHERE p.status = %(active)s AND NOT (p.id = ANY(%(exclude)s))
           AND ST_DWithin(p.geom, ST_GeomFromEWKB(%(geom)s), %(tol)s)
        UNION ALL
        SELECT ST_Boundary(b.geom) FROM cadastre_block b WHERE b.id = %(block)s
    ) AS nearby
"""

# Each vertex moves to the nearest reference vertex within the tolerance, else to the nearest
# point of a reference edge within it. ST_Snap alone only moves vertices onto *vertices*; it is
# applied afterwards for its other half: neighbour vertices lying on our edges are inserted
# into them, so shared edges share their vertices. Rings are rebuilt in their vertex order.
_SNAP_SQL = """
    WITH src AS (SELECT ST_GeomFromEWKB(%(geom)s) AS geom),
    ref AS (SELECT ST_GeomFromEWKB(%(ref)s) AS edges),
    ref_points AS (SELECT ST_Collect(dp.geom) AS points FROM ref, ST_DumpPoints(ref.edges) dp),
    moved AS (
        SELECT dp.path[1] AS ring, dp.path[2] AS idx,
               CASE WHEN ST_DWithin(dp.geom, rp.points, %(tol)s)
                        THEN ST_ClosestPoint(rp.points, dp.geom)
                    WHEN ST_DWithin(dp.geom, ref.edges, %(tol)s)
                        THEN ST_ClosestPoint(ref.edges, dp.geom)
                    ELSE dp.geom END AS pt
          FROM src, ref, ref_points rp, ST_DumpPoints(src.geom) dp
    ),
    rings AS (SELECT ring, ST_MakeLine(pt ORDER BY idx) AS line FROM moved GROUP BY ring),
    rebuilt AS (
        SELECT ST_MakePolygon(
                   (SELECT line FROM rings WHERE ring = 1),
                   ARRAY(SELECT line FROM rings WHERE ring > 1 ORDER BY ring)
               ) AS geom
    )
    SELECT ST_AsEWKB(ST_RemoveRepeatedPoints(ST_Snap(rebuilt.geom, ref.edges, %(tol)s)))
      FROM rebuilt, ref
"""


def snap_reference(geom: GEOSGeometry, *, block: Block | None, exclude: list[int]):
    """Boundaries of the active parcels within the snap tolerance (but ``exclude``) and of
    ``block``, as one collection; None when there is nothing to snap to."""
    row = pg.fetchone(
        _REFERENCE_SQL,
        {
            "geom": pg.ewkb(geom),
            "tol": snap_tolerance(),
            "exclude": list(exclude),
            "block": block.pk if block else None,
            "active": ParcelStatus.ACTIVE,
        },
    )
    return pg.geos(row[0])


def snap(geom: GEOSGeometry, reference: GEOSGeometry | None) -> GEOSGeometry:
    """``geom`` (a valid polygon) with its vertices moved onto ``reference`` where closer than
    the snap tolerance. The result may be invalid (two vertices snapped together); check it."""
    if reference is None or reference.empty or snap_tolerance() <= 0:
        return geom
    row = pg.fetchone(
        _SNAP_SQL, {"geom": pg.ewkb(geom), "ref": pg.ewkb(reference), "tol": snap_tolerance()}
    )
    return pg.geos(row[0])


# --- 4. overlap and block --------------------------------------------------------------------


def find_block(geom: GEOSGeometry) -> Block:
    """The one block the (valid, storage-SRID) ``geom`` lies in, or raise.

    Blocks that the parcel only grazes (a part thinner than the overlap tolerance) do not
    count; a parcel with real parts in two blocks straddles them.
    """
    rows = pg.fetchall(
        """SELECT b.id, ST_AsEWKB(i.geom)
             FROM cadastre_block b,
                  LATERAL (SELECT ST_CollectionExtract(
                               ST_Intersection(b.geom, ST_GeomFromEWKB(%(geom)s)), 3) AS geom) i
            WHERE ST_Intersects(b.geom, ST_GeomFromEWKB(%(geom)s))
              AND NOT ST_IsEmpty(ST_Buffer(i.geom, -%(tol)s / 2.0))
            ORDER BY ST_Area(i.geom) DESC, b.id""",
        {"geom": pg.ewkb(geom), "tol": overlap_tolerance()},
    )
    if not rows:
        raise CadastreError(
            "outside_block",
            _("The parcel lies in no block. Draw it inside a block, or choose its block."),
            where=geom,
        )
    blocks = Block.objects.select_related("locality").in_bulk([r[0] for r in rows])
    if len(rows) > 1:
        where = pg.geos(rows[1][1])
        for _id, part in rows[2:]:
            where = where.union(pg.geos(part))
        raise CadastreError(
            "straddles_blocks",
            _(
                "The parcel straddles blocks %(blocks)s; a parcel belongs to exactly one block. "
                "Split it along the block edge or redraw it."
            )
            % {"blocks": ", ".join(str(blocks[r[0]]) for r in rows)},
            where=where,
        )
    return blocks[rows[0][0]]


def check_overlap(geom: GEOSGeometry, *, exclude: list[int]) -> None:
    """Raise ``overlap`` when ``geom`` overlaps an active parcel (but ``exclude``) by a part
    wider than the overlap tolerance; ``where`` is the union of those overlaps."""
    rows = pg.fetchall(
        """SELECT p.cadastral_key, ST_AsEWKB(o.geom), ST_Area(o.geom)
             FROM cadastre_parcel p,
                  LATERAL (SELECT ST_CollectionExtract(
                               ST_Intersection(p.geom, ST_GeomFromEWKB(%(geom)s)), 3) AS geom) o
            WHERE p.status = %(active)s AND NOT (p.id = ANY(%(exclude)s))
              AND ST_Intersects(p.geom, ST_GeomFromEWKB(%(geom)s))
              AND NOT ST_IsEmpty(ST_Buffer(o.geom, -%(tol)s / 2.0))
            ORDER BY p.cadastral_key""",
        {
            "geom": pg.ewkb(geom),
            "tol": overlap_tolerance(),
            "exclude": list(exclude),
            "active": ParcelStatus.ACTIVE,
        },
    )
    if not rows:
        return
    where = pg.geos(rows[0][1])
    for row in rows[1:]:
        where = where.union(pg.geos(row[1]))
    raise CadastreError(
        "overlap",
        _(
            "The parcel overlaps parcel(s) %(keys)s by %(area)s m²; only overlaps thinner than "
            "%(tolerance)s m are tolerated. Move the boundary onto the neighbour's edge."
        )
        % {
            "keys": ", ".join(r[0] for r in rows),
            "area": _m2(sum(r[2] for r in rows)),
            "tolerance": overlap_tolerance(),
        },
        where=where,
    )


def check_inside_block(geom: GEOSGeometry, *, block: Block) -> None:
    """Raise ``outside_block`` when a part of ``geom`` wider than the overlap tolerance lies
    outside ``block``; ``where`` is that part."""
    row = pg.fetchone(
        """SELECT ST_AsEWKB(d.geom), ST_Area(d.geom)
             FROM (SELECT ST_CollectionExtract(ST_Difference(ST_GeomFromEWKB(%(geom)s), b.geom), 3)
                          AS geom
                     FROM cadastre_block b WHERE b.id = %(block)s) d
            WHERE NOT ST_IsEmpty(ST_Buffer(d.geom, -%(tol)s / 2.0))""",
        {"geom": pg.ewkb(geom), "block": block.pk, "tol": overlap_tolerance()},
    )
    if row is None:
        return
    raise CadastreError(
        "outside_block",
        _(
            "%(area)s m² of the parcel lie outside block %(block)s (tolerance %(tolerance)s m). "
            "Keep the parcel inside its block."
        )
        % {"area": _m2(row[1]), "block": str(block), "tolerance": overlap_tolerance()},
        where=pg.geos(row[0]),
    )


def check_rules(geom: GEOSGeometry, *, block: Block, exclude: list[int]) -> None:
    """Overlap and block rules for an already valid polygon in the storage SRID."""
    check_overlap(geom, exclude=exclude)
    check_inside_block(geom, block=block)


def prepare_parcel_geometry(
    geom, *, block: Block | None, exclude: list[int]
) -> tuple[GEOSGeometry, Block]:
    """Normalize → validate → (find the block) → snap → validate → overlap → inside block.

    The one path every new parcel outline takes. ``exclude`` are the parcels being replaced
    (they are neither snapped to nor checked against). Returns the geometry to store and its
    block; raises :class:`CadastreError` at the first broken rule.
    """
    geom = normalize(geom, kind="Polygon")
    check_valid(geom)
    if block is None:
        block = find_block(geom)
    snapped = snap(geom, snap_reference(geom, block=block, exclude=exclude))
    if not snapped.equals_exact(geom, 0):
        check_valid(snapped, after_snapping=True)
    check_rules(snapped, block=block, exclude=exclude)
    return snapped, block


# --- split and merge -------------------------------------------------------------------------


def split_pieces(parcel: Parcel, line: GEOSGeometry) -> list[GEOSGeometry]:
    """The pieces ``line`` (storage SRID) cuts ``parcel`` into, in ``ST_Dump`` order.

    The line is first snapped onto the parcel's vertices, so a cut meant to start at a corner
    does start there instead of cutting off a sliver. Raises when the line does not cross the
    parcel (fewer than 2 pieces) or cuts off a piece thinner than the overlap tolerance.
    """
    rows = pg.fetchall(
        """WITH parent AS (SELECT geom FROM cadastre_parcel WHERE id = %(parcel)s),
                blade AS (SELECT ST_Snap(ST_GeomFromEWKB(%(line)s), ST_Boundary(parent.geom),
                                         %(snap)s) AS geom FROM parent)
           SELECT ST_AsEWKB(d.geom), ST_IsEmpty(ST_Buffer(d.geom, -%(tol)s / 2.0)), ST_Area(d.geom)
             FROM parent, blade, ST_Dump(ST_Split(parent.geom, blade.geom)) d
            ORDER BY d.path""",
        {
            "parcel": parcel.pk,
            "line": pg.ewkb(line),
            "snap": snap_tolerance(),
            "tol": overlap_tolerance(),
        },
    )
    if len(rows) < 2:
        raise CadastreError(
            "split_line_does_not_cross",
            _(
                "The line does not cross parcel %(key)s from side to side. Draw it from outside "
                "the parcel, across it, to outside again."
            )
            % {"key": parcel.cadastral_key},
            where=line,
        )
    for ewkb, is_sliver, area in rows:
        if is_sliver:
            raise CadastreError(
                "split_sliver",
                _(
                    "The line would cut off a sliver of %(area)s m², thinner than %(tolerance)s "
                    "m. Move the line."
                )
                % {"area": _m2(area), "tolerance": overlap_tolerance()},
                where=pg.geos(ewkb),
            )
    return [pg.geos(r[0]) for r in rows]


_MERGE_SQL = """
    WITH parts AS (SELECT unnest(%(geoms)s::bytea[]) AS ewkb),
    u AS (SELECT ST_UnaryUnion(ST_Collect(ST_CollectionExtract(ST_MakeValid(ST_GeomFromEWKB(ewkb)), 3)),
                               %(grid)s) AS geom FROM parts),
    -- Holes thinner than the tolerance are gaps between the parents, not real holes.
    kept AS (
        SELECT ST_ExteriorRing(r.geom) AS ring, r.path[1] AS n
          FROM u, ST_DumpRings(u.geom) r
         WHERE GeometryType(u.geom) = 'POLYGON' AND r.path[1] > 0
           AND NOT ST_IsEmpty(ST_Buffer(r.geom, -%(tol)s / 2.0))
    )
    SELECT ST_AsEWKB(CASE WHEN GeometryType(u.geom) = 'POLYGON'
                THEN ST_MakePolygon(ST_ExteriorRing(u.geom),
                                    ARRAY(SELECT ring FROM kept ORDER BY n))
                ELSE u.geom END)
      FROM u
"""


def merged_outline(parcels: list[Parcel]) -> GEOSGeometry | None:
    """The union of ``parcels`` as one polygon, or None when they do not form one piece.

    Each parcel is first snapped onto the others' boundaries (so a gap or overlap thinner than
    the snap tolerance closes); the union is tried in floating point, then snap-rounded to a
    micrometre grid, which closes the 1e-10 m gaps a vertex computed onto a slanted edge
    leaves. Parcels that only touch at a corner stay two pieces.
    """
    snapped = []
    for parcel in parcels:
        others = [p.geom.boundary for p in parcels if p.pk != parcel.pk]
        snapped.append(snap(parcel.geom, GeometryCollection(*others, srid=parcel.geom.srid)))
    params = {"geoms": [pg.ewkb(g) for g in snapped], "tol": overlap_tolerance()}
    for grid in (-1.0, 1e-6):  # -1: floating point
        geom = pg.geos(pg.fetchone(_MERGE_SQL, {**params, "grid": grid})[0])
        if geom.geom_type == "Polygon":
            return geom
    return None
