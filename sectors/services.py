"""Writes of sectorization: drawing areas, previewing and applying boundary changes, and
applying proposals (e.g. from the automatic balancing in ``sectors.balancing``).

Kinds of area (``sectors.models.AreaKind``): ``zone``, ``sector``, ``book`` (the commercial
hierarchy, one table), ``dma`` and ``tariff_zone``. Rules, with the tolerance
``overlap_tolerance()`` in metres ("thinner than the tolerance" means ``ST_Buffer(part,
-tolerance / 2)`` is empty, as in the cadastre):

- a boundary is a valid, non-empty (Multi)Polygon with an SRID (transformed into the storage
  CRS here);
- siblings do not overlap: areas of one level with the same parent; every DMA; every tariff zone;
- a sector lies inside its zone and a book inside its sector; so a new boundary of a zone or
  sector must still hold its children;
- codes match the configured pattern of the kind and are unique per level.

Every edit is a *boundary change*: one transaction that takes the sectorization lock
(``sectors.assignment``), locks the parent row then the siblings (then their children) in id
order, writes the areas, checks the rules on the result, reassigns the accounts the change can
affect (those whose service point lies in an old or new boundary, or that point at a changed
area) and returns the diff (:class:`ChangeDiff`): which accounts move from which area to which,
and the counts per area. A rule broken raises :class:`SectorsError`, and nothing is written.

**Preview is apply, rolled back.** ``preview_*`` runs exactly the code of ``apply_*`` inside a
savepoint and rolls it back, so the diff a planner sees is, by construction, the diff applying
would make at that moment. Its ``token`` (a hash of the area changes, the new geometries and
every move) goes back with the apply: if the accounts or boundaries changed in between so that
the diff would differ, apply refuses with ``stale_preview`` and writes nothing (preview again).
Without a token, apply just applies what is true at that moment and returns it.

**Proposals** (entry point for ``sectors.balancing`` and imports)::

    diff = preview_proposal(level="book", parent=sector, proposal=[
        {"code": "S0012-01", "name": "Libro 1", "geom": <Polygon or MultiPolygon, any SRID>},
        ...,
    ])
    diff = apply_proposal(level="book", parent=sector, proposal=same_list, token=diff.token,
                          user=request.user)

``level`` is a kind; ``parent`` the zone (level "sector") or sector (level "book"), None for
"zone", "dma" and "tariff_zone" (then the proposal replaces every area of that kind). The
proposal replaces the children of ``parent`` at ``level``: an existing child with a proposed
code is updated in place (keeps its id, history continues), a new code is created, a child whose
code is not proposed is deleted. Members must not overlap each other and must lie inside
``parent``. The grandchildren (the books of replaced sectors, the sectors of replaced zones)
move to the proposed area that holds them whole; ``descendants="reparent"`` (default) refuses
the proposal when one is held by none (``descendant_straddles``, ``where`` its outline);
``descendants="drop"`` deletes those (with their own children; their accounts are left without
a book until one is drawn, and the diff shows it). Errors: every code of
:func:`apply_boundary_change`, plus empty_proposal, duplicate_code (twice in the proposal),
descendant_straddles, stale_preview.

Errors raised (``SectorsError.code``): unknown_kind, unknown_area, unknown_parent,
wrong_parent_level, parent_not_allowed, missing_parent, wrong_geometry_type, missing_srid,
unknown_srid, empty_geometry, too_many_vertices, invalid_geometry, invalid_code, invalid_name,
duplicate_code, overlap, outside_parent, children_outside, has_children, stale_preview.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from cadastre.topology import VALIDITY_REASONS
from gis_core import sql as pg
from gis_core.srid import storage_srid
from sectors.assignment import (  # noqa: F401  (assign_*: part of this module's API)
    SCOPE_ACCOUNTS,
    assign_accounts,
    assign_all,
    history_context,
    lock_exclusive,
    reassign,
)
from sectors.models import (
    ASSIGNMENT_COLUMN,
    KINDS,
    PIECE_MAX_VERTICES,
    AreaKind,
    CommercialArea,
    Dma,
    Level,
    SectorsError,
    TariffZone,
)
from sectors.selectors import coverage_gaps  # noqa: F401  (part of this module's API)

# How many moved accounts a diff lists (the counts always cover all of them).
MOVES_LIMIT = 2000
REPARENT, DROP = "reparent", "drop"
DESCENDANT_POLICIES = (REPARENT, DROP)

# Codes: letters, digits and . _ - (upper-cased), 1 to 20 characters, unless the installation
# sets its own pattern per kind in settings.CAUDAL_SECTORS["CODE_PATTERNS"].
DEFAULT_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,19}$"
DEFAULT_OVERLAP_TOLERANCE_M = 0.5
DEFAULT_MAX_VERTICES = 100_000


def _config() -> dict:
    return getattr(settings, "CAUDAL_SECTORS", {}) or {}


def overlap_tolerance() -> float:
    """Metres: overlaps, parts outside the parent and gaps thinner than this are ignored."""
    return float(_config().get("OVERLAP_TOLERANCE_M", DEFAULT_OVERLAP_TOLERANCE_M))


def code_pattern(kind: str) -> str:
    return _config().get("CODE_PATTERNS", {}).get(kind, DEFAULT_CODE_PATTERN)


def max_vertices() -> int:
    return int(_config().get("MAX_VERTICES", DEFAULT_MAX_VERTICES))


# --- kinds -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindInfo:
    kind: str
    model: type
    level: str | None  # the CommercialArea level, None for flat kinds
    parent_kind: str | None
    child_kind: str | None

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return str(AreaKind(self.kind).label)

    @property
    def hierarchical(self) -> bool:
        return self.level is not None

    def where(self, alias: str) -> str:
        """SQL restricting ``alias`` (a row of ``table``) to this kind."""
        return f"{alias}.level = '{self.level}'" if self.level else "TRUE"

    def siblings(self, a: str, b: str) -> str:
        """SQL: rows ``a`` and ``b`` of this kind are siblings."""
        if not self.level:
            return "TRUE"
        return f"{b}.level = {a}.level AND {b}.parent_id IS NOT DISTINCT FROM {a}.parent_id"

    def permission(self, action: str) -> str:
        return f"sectors.{action}_{self.model._meta.model_name}"


KIND_INFO = {
    AreaKind.ZONE: KindInfo(AreaKind.ZONE, CommercialArea, Level.ZONE, None, AreaKind.SECTOR),
    AreaKind.SECTOR: KindInfo(
        AreaKind.SECTOR, CommercialArea, Level.SECTOR, AreaKind.ZONE, AreaKind.BOOK
    ),
    AreaKind.BOOK: KindInfo(AreaKind.BOOK, CommercialArea, Level.BOOK, AreaKind.SECTOR, None),
    AreaKind.DMA: KindInfo(AreaKind.DMA, Dma, None, None, None),
    AreaKind.TARIFF_ZONE: KindInfo(AreaKind.TARIFF_ZONE, TariffZone, None, None, None),
}


def kind_info(kind) -> KindInfo:
    info = KIND_INFO.get(str(kind))
    if info is None:
        raise SectorsError(
            "unknown_kind",
            _("“%(kind)s” is not a kind of area; use one of: %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(KINDS)},
        )
    return info


# --- the diff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRef:
    kind: str
    id: int | None  # None: an area a preview would create (it has no id yet)
    code: str
    name: str


@dataclass(frozen=True)
class Move:
    """One account changing area in one kind; ``source``/``target`` None: no area."""

    account_id: int
    number: str
    point: GEOSGeometry  # the service point, storage SRID
    kind: str
    source: AreaRef | None
    target: AreaRef | None


@dataclass(frozen=True)
class AreaCount:
    """Accounts of an area before and after the change (only areas that gain or lose)."""

    area: AreaRef
    before: int
    after: int
    gained: int
    lost: int


@dataclass(frozen=True)
class AreaOp:
    """One area written: op is create, update, delete or reparent."""

    op: str
    area: AreaRef
    parent_code: str | None = None


@dataclass
class ChangeDiff:
    token: str
    applied: bool
    areas: list[AreaOp]
    moves: list[Move]  # the first ``moves_limit`` accounts' moves, by account id
    moves_total: int  # (account, kind) pairs that change
    accounts_moved: int
    moves_truncated: bool
    counts: list[AreaCount]
    # Change of the number of accounts in no area of each kind (negative: fewer unassigned).
    unassigned_delta: dict[str, int] = field(default_factory=dict)

    def move_keys(self) -> list[tuple]:
        """(account, kind, from code, to code) of the listed moves: what a preview and its apply
        must agree on."""
        return [
            (
                m.account_id,
                m.kind,
                m.source.code if m.source else None,
                m.target.code if m.target else None,
            )
            for m in self.moves
        ]

    def count_keys(self) -> list[tuple]:
        return [
            (c.area.kind, c.area.code, c.before, c.after, c.gained, c.lost) for c in self.counts
        ]


# --- input checks ----------------------------------------------------------------------------


def _m2(value: float) -> str:
    return f"{value:,.2f}"


def _union(geoms: list) -> GEOSGeometry | None:
    geoms = [g for g in geoms if g is not None]
    if not geoms:
        return None
    where = geoms[0]
    for geom in geoms[1:]:
        where = where.union(geom)
    return where


def _what(info: KindInfo, code: str | None) -> str:
    """“Sector S0003” (for messages); just the kind when there is no code yet."""
    return f"{info.label} {code}" if code else info.label


def normalize_geometry(geom, *, info: KindInfo, code: str | None = None) -> GEOSGeometry:
    """``geom`` as a valid 2D MultiPolygon in the storage SRID, or raise ``SectorsError``.

    The transformation runs in PostGIS inside a savepoint, so coordinates outside the source
    CRS's domain become an error, not an aborted transaction.
    """
    what = _what(info, code)
    if not isinstance(geom, GEOSGeometry):
        raise SectorsError(
            "wrong_geometry_type",
            _("%(what)s: a polygon or multipolygon boundary is required.") % {"what": what},
        )
    if geom.srid is None:
        raise SectorsError(
            "missing_srid",
            _(
                "%(what)s: the boundary has no coordinate reference system (SRID); send it with "
                "one, e.g. EPSG:4326 for longitude/latitude."
            )
            % {"what": what},
        )
    if geom.empty:
        raise SectorsError(
            "empty_geometry",
            _("%(what)s: the boundary is empty; draw it before saving.") % {"what": what},
        )
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise SectorsError(
            "wrong_geometry_type",
            _("%(what)s: the boundary must be a polygon or multipolygon, not a %(got)s.")
            % {"what": what, "got": geom.geom_type},
        )
    if geom.num_coords > max_vertices():
        raise SectorsError(
            "too_many_vertices",
            _("%(what)s: the boundary has %(count)s vertices; at most %(max)s are accepted.")
            % {"what": what, "count": geom.num_coords, "max": max_vertices()},
        )
    if not pg.fetchone(
        "SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = %s)", [geom.srid]
    )[0]:
        raise SectorsError(
            "unknown_srid",
            _("%(what)s: the coordinate reference system EPSG:%(srid)s is unknown.")
            % {"what": what, "srid": geom.srid},
        )
    try:
        with transaction.atomic():
            row = pg.fetchone(
                "SELECT ST_AsEWKB(ST_Multi(ST_Force2D(ST_Transform(ST_GeomFromEWKB(%s), %s))))",
                [pg.ewkb(geom), storage_srid()],
            )
    except DatabaseError as exc:
        raise SectorsError(
            "invalid_geometry",
            _(
                "%(what)s: the boundary cannot be transformed from EPSG:%(source)s to "
                "EPSG:%(target)s; its coordinates lie outside the area of the source system."
            )
            % {"what": what, "source": geom.srid, "target": storage_srid()},
        ) from exc
    out = pg.geos(row[0])
    valid, reason, location, detail = pg.fetchone(
        """SELECT d.valid, d.reason, ST_AsEWKB(ST_SetSRID(d.location, ST_SRID(g.geom))),
                  ST_IsValidReason(g.geom)
             FROM (SELECT ST_GeomFromEWKB(%s) AS geom) g, ST_IsValidDetail(g.geom) d""",
        [pg.ewkb(out)],
    )
    if not valid:
        raise SectorsError(
            "invalid_geometry",
            _(
                "%(what)s: the boundary is not a valid polygon: %(reason)s (%(detail)s). Fix it "
                "at the marked point and try again."
            )
            % {"what": what, "reason": VALIDITY_REASONS.get(reason, reason), "detail": detail},
            where=pg.geos(location),
        )
    return out


def _clean_code(info: KindInfo, code) -> str:
    value = str(code or "").strip().upper()
    if not re.match(code_pattern(info.kind), value):
        raise SectorsError(
            "invalid_code",
            _(
                "“%(code)s” is not a valid code for a %(kind)s: use 1 to 20 capital letters, "
                "digits, dots, dashes or underscores (pattern %(pattern)s)."
            )
            % {"code": value, "kind": info.label.lower(), "pattern": code_pattern(info.kind)},
        )
    return value


def _clean_name(info: KindInfo, code: str, name) -> str:
    value = str(name or "").strip()
    if not value or len(value) > 120:
        raise SectorsError(
            "invalid_name",
            _("%(what)s: give a name of 1 to 120 characters.") % {"what": _what(info, code)},
        )
    return value


def _area(info: KindInfo, pk) -> dict:
    """The row ``pk`` of ``info``'s kind (id, code, name, parent_id), or raise unknown_area."""
    cols = "id, code, name, parent_id" if info.hierarchical else "id, code, name, NULL"
    row = pg.fetchone(
        f"SELECT {cols} FROM {info.table} a WHERE a.id = %s AND {info.where('a')}",  # noqa: S608
        [pk],
    )
    if row is None:
        raise SectorsError(
            "unknown_area",
            _("There is no %(kind)s with id %(id)s.") % {"kind": info.label.lower(), "id": pk},
        )
    return dict(zip(("id", "code", "name", "parent_id"), row, strict=True))


def _clean_parent(info: KindInfo, parent) -> int | None:
    """The parent's id for an area of ``info``'s kind, checked; None for kinds without one."""
    parent_id = getattr(parent, "pk", parent)
    if info.parent_kind is None:
        if parent_id is not None:
            raise SectorsError(
                "parent_not_allowed",
                _("A %(kind)s has no parent area; leave the parent empty.")
                % {"kind": info.label.lower()},
            )
        return None
    parent_info = KIND_INFO[info.parent_kind]
    if parent_id is None:
        raise SectorsError(
            "missing_parent",
            _("A %(kind)s belongs to a %(parent)s: choose it.")
            % {"kind": info.label.lower(), "parent": parent_info.label.lower()},
        )
    row = pg.fetchone("SELECT level, code FROM sectors_commercialarea WHERE id = %s", [parent_id])
    if row is None:
        raise SectorsError(
            "unknown_parent",
            _("There is no %(parent)s with id %(id)s to hold this %(kind)s.")
            % {"parent": parent_info.label.lower(), "id": parent_id, "kind": info.label.lower()},
        )
    if row[0] != parent_info.level:
        raise SectorsError(
            "wrong_parent_level",
            _("%(code)s is a %(level)s; a %(kind)s belongs to a %(parent)s.")
            % {
                "code": row[1],
                "level": KIND_INFO[row[0]].label.lower(),
                "kind": info.label.lower(),
                "parent": parent_info.label.lower(),
            },
        )
    return int(parent_id)


# --- the plan of a change --------------------------------------------------------------------


@dataclass
class _Write:
    """One area to create (id None) or update, with its cleaned values."""

    id: int | None
    code: str
    name: str
    parent_id: int | None
    geom: GEOSGeometry | None  # None: boundary unchanged
    parent_changed: bool = False


@dataclass
class _Plan:
    info: KindInfo
    group_parent_id: int | None  # the sibling group whose rows are locked
    writes: list[_Write]
    deletes: list[int]
    # Proposals: what happens to the children of the group's members (None: they must stay
    # inside their parent as they are, e.g. a single reshape).
    descendants: str | None = None
    old_members: list[int] = field(default_factory=list)


def _lock_rows(plan: _Plan) -> None:
    """Parent row, then the sibling group, then its children, each in id order."""
    info = plan.info
    with connection.cursor() as cursor:
        if plan.group_parent_id is not None:
            cursor.execute(
                "SELECT id FROM sectors_commercialarea WHERE id = %s FOR NO KEY UPDATE",
                [plan.group_parent_id],
            )
        if info.hierarchical:
            cursor.execute(
                """SELECT id FROM sectors_commercialarea
                    WHERE level = %s AND parent_id IS NOT DISTINCT FROM %s
                    ORDER BY id FOR UPDATE""",
                [info.level, plan.group_parent_id],
            )
            siblings = [row[0] for row in cursor.fetchall()]
            moved = [w.id for w in plan.writes if w.id is not None and w.id not in siblings]
            if moved:  # an area moving in from another parent
                cursor.execute(
                    "SELECT id FROM sectors_commercialarea WHERE id = ANY(%s) ORDER BY id"
                    " FOR UPDATE",
                    [moved],
                )
            if info.child_kind:
                cursor.execute(
                    "SELECT id FROM sectors_commercialarea WHERE parent_id = ANY(%s) ORDER BY id"
                    " FOR UPDATE",
                    [siblings + moved],
                )
        else:
            cursor.execute(f"SELECT id FROM {info.table} ORDER BY id FOR UPDATE")  # noqa: S608


def _check_codes(plan: _Plan) -> None:
    info = plan.info
    codes = [w.code for w in plan.writes]
    seen = set()
    for code in codes:
        if code in seen:
            raise SectorsError(
                "duplicate_code",
                _("The code %(code)s is given to two areas; each %(kind)s needs its own code.")
                % {"code": code, "kind": info.label.lower()},
            )
        seen.add(code)
    mine = [w.id for w in plan.writes if w.id is not None] + list(plan.deletes)
    taken = pg.fetchall(
        f"""SELECT a.code FROM {info.table} a
             WHERE {info.where("a")} AND a.code = ANY(%s) AND NOT (a.id = ANY(%s))
             ORDER BY a.code""",  # noqa: S608
        [codes, mine],
    )
    if taken:
        raise SectorsError(
            "duplicate_code",
            _("The code %(codes)s is already used by another %(kind)s; choose another code.")
            % {"codes": ", ".join(r[0] for r in taken), "kind": info.label.lower()},
        )


_TMP_TABLES = """
    DROP TABLE IF EXISTS sectors_tmp_region, sectors_tmp_gone, sectors_tmp_scope,
                         sectors_tmp_moves;
    CREATE TEMP TABLE sectors_tmp_region (geom geometry) ON COMMIT DROP;
    CREATE TEMP TABLE sectors_tmp_gone (kind text, id bigint, code text, name text)
        ON COMMIT DROP;
"""


def _add_region(info: KindInfo, ids: list[int]) -> None:
    """Remember the current boundaries of ``ids`` (cut small, for the index probe)."""
    if ids:
        pg.execute(
            f"""INSERT INTO sectors_tmp_region (geom)
                SELECT ST_Subdivide(geom, {PIECE_MAX_VERTICES})
                  FROM {info.table} WHERE id = ANY(%(ids)s)""",  # noqa: S608
            {"ids": ids},
        )


def _kind_sql(info: KindInfo, alias: str = "a") -> str:
    return f"{alias}.level" if info.hierarchical else f"'{info.kind}'"


def _delete(info: KindInfo, ids: list[int], ops: list[AreaOp], touched: dict[str, set]) -> None:
    """Delete ``ids`` and, in a hierarchy, their descendants (children first)."""
    if not ids:
        return
    if info.child_kind:
        children = [
            r[0]
            for r in pg.fetchall(
                "SELECT id FROM sectors_commercialarea WHERE parent_id = ANY(%s) ORDER BY id",
                [ids],
            )
        ]
        _delete(KIND_INFO[info.child_kind], children, ops, touched)
    rows = pg.fetchall(
        f"SELECT id, code, name FROM {info.table} WHERE id = ANY(%s) ORDER BY code",  # noqa: S608
        [ids],
    )
    ops.extend(AreaOp("delete", AreaRef(info.kind, r[0], r[1], r[2])) for r in rows)
    _add_region(info, ids)
    pg.execute(
        f"""INSERT INTO sectors_tmp_gone (kind, id, code, name)
            SELECT {_kind_sql(info)}, a.id, a.code, a.name FROM {info.table} a
             WHERE a.id = ANY(%(ids)s)""",  # noqa: S608
        {"ids": ids},
    )
    # Raw SQL: the accounts still pointing here are reassigned before the (deferred) foreign
    # keys are checked at commit; the ORM's PROTECT would refuse before they are.
    pg.execute(f"DELETE FROM {info.table} WHERE id = ANY(%(ids)s)", {"ids": ids})  # noqa: S608
    touched[info.kind].update(ids)


def _write(plan: _Plan, ops: list[AreaOp], touched: dict[str, set]) -> tuple[list, list, set]:
    """Update and create the plan's areas; returns the ids whose boundary or parent changed,
    the ids written and the ids created."""
    info = plan.info
    changed, written, created = [], [], set()
    parent_level = KIND_INFO[info.parent_kind].level if info.parent_kind else None
    for w in plan.writes:
        if w.id is None:
            cols = ["code", "name", "geom"]
            values = {"code": w.code, "name": w.name, "geom": pg.ewkb(w.geom)}
            if info.hierarchical:
                cols += ["level", "parent_id", "parent_level"]
                values.update(level=info.level, parent_id=w.parent_id, parent_level=parent_level)
            placeholders = ", ".join(
                "ST_GeomFromEWKB(%(geom)s)" if c == "geom" else f"%({c})s" for c in cols
            )
            try:
                with transaction.atomic():
                    w.id = pg.fetchone(
                        f"INSERT INTO {info.table} ({', '.join(cols)}) VALUES ({placeholders})"  # noqa: S608
                        " RETURNING id",
                        values,
                    )[0]
            except IntegrityError as exc:
                raise _integrity_error(info, w.code) from exc
            ops.append(AreaOp("create", AreaRef(info.kind, w.id, w.code, w.name)))
            changed.append(w.id)
            created.add(w.id)
        else:
            if w.geom is not None:
                same = pg.fetchone(
                    f"SELECT geom = ST_GeomFromEWKB(%s) FROM {info.table} WHERE id = %s",  # noqa: S608
                    [pg.ewkb(w.geom), w.id],
                )[0]
                if same:
                    w.geom = None
            sets, values = ["code = %(code)s", "name = %(name)s"], {"code": w.code, "name": w.name}
            if w.geom is not None:
                sets.append("geom = ST_GeomFromEWKB(%(geom)s)")
                values["geom"] = pg.ewkb(w.geom)
            if w.parent_changed:
                sets.append("parent_id = %(parent_id)s")
                values["parent_id"] = w.parent_id
            if w.geom is not None or w.parent_changed:
                _add_region(info, [w.id])
                changed.append(w.id)
            values["id"] = w.id
            try:
                with transaction.atomic():
                    n = pg.execute(
                        f"""UPDATE {info.table} SET {", ".join(sets)}
                             WHERE id = %(id)s AND (%(force)s OR (code, name) IS DISTINCT FROM
                                                               (%(code)s, %(name)s))""",  # noqa: S608
                        {**values, "force": w.geom is not None or w.parent_changed},
                    )
            except IntegrityError as exc:
                raise _integrity_error(info, w.code) from exc
            if n:
                ops.append(AreaOp("update", AreaRef(info.kind, w.id, w.code, w.name)))
        written.append(w.id)
    touched[info.kind].update(changed)
    return changed, written, created


def _integrity_error(info: KindInfo, code: str) -> SectorsError:
    # The checks before the write catch these; a concurrent writer outside the services
    # could still take the code in between.
    return SectorsError(
        "duplicate_code",
        _("The code %(codes)s is already used by another %(kind)s; choose another code.")
        % {"codes": code, "kind": info.label.lower()},
    )


def _fit_descendants(plan: _Plan, written: list[int], ops: list[AreaOp], touched) -> None:
    """Proposals: move each child of the old members under the member that holds it whole."""
    info = plan.info
    if not info.child_kind or not plan.old_members:
        return
    child = KIND_INFO[info.child_kind]
    rows = pg.fetchall(
        """SELECT d.id, d.code, d.name, d.parent_id, ST_AsEWKB(d.geom), (
                  SELECT n.id FROM sectors_commercialarea n
                   WHERE n.id = ANY(%(members)s) AND ST_Intersects(n.geom, d.geom)
                     AND ST_IsEmpty(ST_Buffer(ST_CollectionExtract(
                             ST_Difference(d.geom, n.geom), 3), -%(tol)s / 2.0))
                   ORDER BY n.id LIMIT 1)
             FROM sectors_commercialarea d
            WHERE d.parent_id = ANY(%(old)s)
            ORDER BY d.code""",
        {"members": written, "old": plan.old_members, "tol": overlap_tolerance()},
    )
    homeless = [r for r in rows if r[5] is None]
    if homeless and plan.descendants != DROP:
        shown = ", ".join(r[1] for r in homeless[:10]) + (" …" if len(homeless) > 10 else "")
        raise SectorsError(
            "descendant_straddles",
            _(
                "%(count)s %(kind)s(s) (%(codes)s) would not lie whole inside any of the proposed "
                "areas. Make the proposal follow their boundaries, redraw them first, or drop "
                "them with the proposal."
            )
            % {"count": len(homeless), "kind": child.label.lower(), "codes": shown},
            where=_union([pg.geos(r[4]) for r in homeless]),
        )
    codes = dict(
        pg.fetchall("SELECT id, code FROM sectors_commercialarea WHERE id = ANY(%s)", [written])
    )
    moves = [(r[0], r[5]) for r in rows if r[5] is not None and r[5] != r[3]]
    if moves:
        pg.execute(
            """UPDATE sectors_commercialarea d SET parent_id = m.parent
                 FROM unnest(%(ids)s::bigint[], %(parents)s::bigint[]) AS m(id, parent)
                WHERE d.id = m.id""",
            {"ids": [m[0] for m in moves], "parents": [m[1] for m in moves]},
        )
        touched[child.kind].update(m[0] for m in moves)
        by_id = {r[0]: r for r in rows}
        for pk, parent in moves:
            ops.append(
                AreaOp(
                    "reparent",
                    AreaRef(child.kind, pk, by_id[pk][1], by_id[pk][2]),
                    parent_code=codes[parent],
                )
            )
    _delete(child, [r[0] for r in homeless], ops, touched)


def _check_overlaps(info: KindInfo, ids: list[int]) -> None:
    if not ids:
        return
    rows = pg.fetchall(
        f"""SELECT t.code, s.code, ST_AsEWKB(o.geom), ST_Area(o.geom)
              FROM {info.table} t
              JOIN {info.table} s ON s.id <> t.id AND {info.siblings("t", "s")}
                   AND ST_Intersects(s.geom, t.geom)
             CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Intersection(s.geom, t.geom), 3)
                                        AS geom) o
             WHERE t.id = ANY(%(ids)s) AND NOT (s.id = ANY(%(ids)s) AND s.id < t.id)
               AND NOT ST_IsEmpty(ST_Buffer(o.geom, -%(tol)s / 2.0))
             ORDER BY t.code, s.code""",  # noqa: S608
        {"ids": ids, "tol": overlap_tolerance()},
    )
    if not rows:
        return
    first = rows[0][0]
    others = [r[1] for r in rows if r[0] == first]
    raise SectorsError(
        "overlap",
        _(
            "%(what)s overlaps %(others)s by %(area)s m²; areas of the same level may not overlap "
            "by more than %(tolerance)s m. Move the boundary onto the neighbour's edge."
        )
        % {
            "what": _what(info, first),
            "others": ", ".join(others),
            "area": _m2(sum(r[3] for r in rows)),
            "tolerance": overlap_tolerance(),
        },
        where=_union([pg.geos(r[2]) for r in rows]),
    )


def _check_inside(ids: list[int], *, own: set[int]) -> None:
    """Every commercial area of ``ids`` lies inside its parent (within the tolerance)."""
    if not ids:
        return
    rows = pg.fetchall(
        """SELECT t.id, t.level, t.code, p.level, p.code, ST_AsEWKB(d.geom), ST_Area(d.geom)
             FROM sectors_commercialarea t
             JOIN sectors_commercialarea p ON p.id = t.parent_id
            CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Difference(t.geom, p.geom), 3)
                                       AS geom) d
            WHERE t.id = ANY(%(ids)s) AND NOT ST_IsEmpty(ST_Buffer(d.geom, -%(tol)s / 2.0))
            ORDER BY t.id = ANY(%(own)s) DESC, t.code""",
        {"ids": ids, "own": list(own), "tol": overlap_tolerance()},
    )
    if not rows:
        return
    pk, level, code, plevel, pcode, _where, _area_m2 = rows[0]
    params = {
        "what": _what(KIND_INFO[level], code),
        "parent": _what(KIND_INFO[plevel], pcode),
        "area": _m2(sum(r[6] for r in rows if r[4] == pcode)),
        "tolerance": overlap_tolerance(),
    }
    where = _union([pg.geos(r[5]) for r in rows if r[4] == pcode])
    if pk in own:
        raise SectorsError(
            "outside_parent",
            _(
                "%(area)s m² of %(what)s lie outside %(parent)s (tolerance %(tolerance)s m). Keep "
                "it inside its parent, or enlarge the parent first."
            )
            % params,
            where=where,
        )
    params["children"] = ", ".join(r[2] for r in rows if r[4] == pcode)
    raise SectorsError(
        "children_outside",
        _(
            "With this boundary, %(area)s m² of %(children)s would lie outside %(parent)s "
            "(tolerance %(tolerance)s m). Reshape or move them first."
        )
        % params,
        where=where,
    )


def _scope(touched: dict[str, set]) -> None:
    """``sectors_tmp_scope``: accounts whose point lies in an old or new boundary of the
    change, or whose assignment points at an area the change wrote."""
    referencing = " OR ".join(
        f"{ASSIGNMENT_COLUMN[kind]} = ANY(%({kind})s)" for kind in KINDS if touched[kind]
    )
    sql = """CREATE TEMP TABLE sectors_tmp_scope ON COMMIT DROP AS
             SELECT a.id AS account_id FROM sectors_tmp_region r
               JOIN cadastre_serviceaccount a ON ST_Intersects(a.service_point, r.geom)"""
    if referencing:
        sql += f" UNION SELECT account_id FROM sectors_accountsectors WHERE {referencing}"  # noqa: S608
    else:
        sql += " UNION SELECT NULL::bigint WHERE FALSE"
    with connection.cursor() as cursor:
        cursor.execute(sql, {kind: sorted(ids) for kind, ids in touched.items()})
        # The planner needs its size to probe accounts by key rather than scan them all.
        cursor.execute("ANALYZE sectors_tmp_scope")


_CODES_SQL = """
    SELECT level AS kind, id, code, name FROM sectors_commercialarea
    UNION ALL SELECT 'dma', id, code, name FROM sectors_dma
    UNION ALL SELECT 'tariff_zone', id, code, name FROM sectors_tariffzone
    UNION ALL SELECT kind, id, code, name FROM sectors_tmp_gone
"""


def _summarize(ops: list[AreaOp], *, moves_limit: int, created: set[int], preview: bool):
    """The ChangeDiff of the reassignment just made (``sectors_tmp_changed``)."""
    old_new = ", ".join(
        f"('{kind}', c.old_{col}, c.{col})" for kind, col in ASSIGNMENT_COLUMN.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE TEMP TABLE sectors_tmp_moves ON COMMIT DROP AS
                SELECT c.account_id, v.kind, v.from_id, v.to_id
                  FROM sectors_tmp_changed c
                 CROSS JOIN LATERAL (VALUES {old_new}) v(kind, from_id, to_id)
                 WHERE v.from_id IS DISTINCT FROM v.to_id""",  # noqa: S608
            {},
        )
        cursor.execute(
            f"""WITH codes AS ({_CODES_SQL})
                SELECT count(*), count(DISTINCT m.account_id),
                       md5(string_agg(m.account_id::text || '|' || m.kind || '|'
                                      || COALESCE(f.code, '-') || '>' || COALESCE(t.code, '-'),
                                      ',' ORDER BY m.account_id, m.kind))
                  FROM sectors_tmp_moves m
                  LEFT JOIN codes f ON f.kind = m.kind AND f.id = m.from_id
                  LEFT JOIN codes t ON t.kind = m.kind AND t.id = m.to_id""",  # noqa: S608
            {},
        )
        total, accounts, moves_hash = cursor.fetchone()
        cursor.execute(
            f"""WITH codes AS ({_CODES_SQL}),
                shown AS (SELECT DISTINCT account_id FROM sectors_tmp_moves
                           ORDER BY account_id LIMIT %(limit)s)
                SELECT m.account_id, a.number, ST_AsEWKB(a.service_point), m.kind,
                       m.from_id, f.code, f.name, m.to_id, t.code, t.name
                  FROM sectors_tmp_moves m
                  JOIN shown USING (account_id)
                  JOIN cadastre_serviceaccount a ON a.id = m.account_id
                  LEFT JOIN codes f ON f.kind = m.kind AND f.id = m.from_id
                  LEFT JOIN codes t ON t.kind = m.kind AND t.id = m.to_id
                 ORDER BY m.account_id,
                          array_position(%(kinds)s::text[], m.kind::text)""",  # noqa: S608
            {"limit": moves_limit, "kinds": list(KINDS)},
        )
        move_rows = cursor.fetchall()
        cursor.execute(
            f"""WITH codes AS ({_CODES_SQL}),
                flows AS (
                  SELECT kind, from_id AS id, 1 AS lost, 0 AS gained FROM sectors_tmp_moves
                   WHERE from_id IS NOT NULL
                  UNION ALL
                  SELECT kind, to_id, 0, 1 FROM sectors_tmp_moves WHERE to_id IS NOT NULL)
                SELECT f.kind, f.id, c.code, c.name, sum(f.gained), sum(f.lost)
                  FROM flows f LEFT JOIN codes c ON c.kind = f.kind AND c.id = f.id
                 GROUP BY f.kind, f.id, c.code, c.name
                 ORDER BY array_position(%(kinds)s::text[], f.kind::text), c.code""",  # noqa: S608
            {"kinds": list(KINDS)},
        )
        flow_rows = cursor.fetchall()
        cursor.execute(
            """SELECT kind, count(*) FILTER (WHERE to_id IS NULL)
                            - count(*) FILTER (WHERE from_id IS NULL)
                 FROM sectors_tmp_moves GROUP BY kind""",
            {},
        )
        delta = dict(cursor.fetchall())
        after = {}
        for kind, col in ASSIGNMENT_COLUMN.items():
            ids = [r[1] for r in flow_rows if r[0] == kind]
            if ids:
                cursor.execute(
                    f"""SELECT {col}, count(*) FROM sectors_accountsectors
                         WHERE {col} = ANY(%s) GROUP BY {col}""",  # noqa: S608
                    [ids],
                )
                after.update({(kind, pk): n for pk, n in cursor.fetchall()})

    def ref(kind, pk, code, name) -> AreaRef | None:
        if pk is None:
            return None
        return AreaRef(kind, None if preview and pk in created else pk, code or "", name or "")

    moves = [
        Move(
            account_id=r[0],
            number=r[1],
            point=pg.geos(r[2]),
            kind=r[3],
            source=ref(r[3], r[4], r[5], r[6]),
            target=ref(r[3], r[7], r[8], r[9]),
        )
        for r in move_rows
    ]
    counts = []
    for kind, pk, code, name, gained, lost in flow_rows:
        now = after.get((kind, pk), 0)
        counts.append(
            AreaCount(
                area=ref(kind, pk, code, name),
                before=now - gained + lost,
                after=now,
                gained=gained,
                lost=lost,
            )
        )
    if preview:
        ops = [
            replace(op, area=ref(op.area.kind, op.area.id, op.area.code, op.area.name))
            for op in ops
        ]
    return (
        moves,
        total,
        accounts,
        moves_hash or "",
        counts,
        {k: delta.get(k, 0) for k in KINDS},
        ops,
    )


def _token(ops: list[AreaOp], geoms: dict, moves_hash: str) -> str:
    described = sorted(
        (
            op.op,
            op.area.kind,
            op.area.code,
            op.area.name,
            op.parent_code or "",
            geoms.get((op.area.kind, op.area.code), ""),
        )
        for op in ops
    )
    payload = json.dumps({"areas": described, "moves": moves_hash}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _run(plan: _Plan, *, moves_limit: int, preview: bool) -> ChangeDiff:
    info = plan.info
    _lock_rows(plan)
    _check_codes(plan)
    with connection.cursor() as cursor:
        cursor.execute(_TMP_TABLES, {})
    touched: dict[str, set] = {kind: set() for kind in KINDS}
    ops: list[AreaOp] = []
    changed, written, created = _write(plan, ops, touched)
    _fit_descendants(plan, written, ops, touched)
    _delete(info, plan.deletes, ops, touched)
    # Rules, checked on the result: everything written so far is undone if one fails.
    _check_overlaps(info, changed)
    if info.hierarchical:
        geom_changed = [w.id for w in plan.writes if w.geom is not None and w.id is not None]
        children = [
            r[0]
            for r in pg.fetchall(
                "SELECT id FROM sectors_commercialarea WHERE parent_id = ANY(%s)", [geom_changed]
            )
        ]
        _check_inside(changed + children, own=set(changed))
    _add_region(info, changed)
    geoms = {
        (info.kind, code): digest
        for code, digest in pg.fetchall(
            f"SELECT code, md5(ST_AsEWKB(geom)) FROM {info.table} WHERE id = ANY(%s)",  # noqa: S608
            [changed],
        )
    }
    _scope(touched)
    reassign(accounts_sql=SCOPE_ACCOUNTS)
    moves, total, accounts, moves_hash, counts, delta, ops = _summarize(
        ops, moves_limit=moves_limit, created=created, preview=preview
    )
    # Parent codes of created/updated areas, for the record of what was written.
    if info.hierarchical and info.parent_kind:
        parent_codes = dict(
            pg.fetchall(
                """SELECT a.id, p.code FROM sectors_commercialarea a
                     JOIN sectors_commercialarea p ON p.id = a.parent_id WHERE a.id = ANY(%s)""",
                [written],
            )
        )
        by_code = {w.code: parent_codes.get(w.id) for w in plan.writes}
        ops = [
            replace(op, parent_code=by_code.get(op.area.code))
            if op.op in ("create", "update") and op.area.kind == info.kind
            else op
            for op in ops
        ]
    return ChangeDiff(
        token=_token(ops, geoms, moves_hash),
        applied=not preview,
        areas=ops,
        moves=moves,
        moves_total=total,
        accounts_moved=accounts,
        moves_truncated=accounts > len({m.account_id for m in moves}),
        counts=counts,
        unassigned_delta=delta,
    )


def _execute_plan(
    build, *, service: str, preview: bool, token: str | None, user, moves_limit: int
) -> ChangeDiff:
    """Run the plan ``build()`` makes, in one transaction. The plan is built under the lock:
    it reads the areas' current values, which another change must not replace meanwhile."""
    with transaction.atomic(), history_context(service, user):
        lock_exclusive()
        diff = _run(build(), moves_limit=moves_limit, preview=preview)
        if preview:
            # The preview is the apply, undone: locks, rows, history and tile generations.
            transaction.set_rollback(True)
        elif token is not None and token != diff.token:
            raise SectorsError(
                "stale_preview",
                _(
                    "The accounts or boundaries changed since the preview, so applying it now "
                    "would not do what was shown. Preview the change again, then apply it."
                ),
            )
    return diff


# --- single-area edits -----------------------------------------------------------------------

CREATE, UPDATE, DELETE = "create", "update", "delete"
_EDIT_SERVICES = {CREATE: "area_create", UPDATE: "area_update", DELETE: "area_delete"}


@dataclass(frozen=True)
class AreaEdit:
    """One area to create, update or delete.

    create: kind, parent (for sectors and books), code, name, geom.
    update: kind, area_id and what changes: geom, code, name, parent (a sector moving to
    another zone, a book to another sector); None leaves it as it is.
    delete: kind, area_id (refused while it has children).
    """

    action: str
    kind: str
    area_id: int | None = None
    parent_id: int | None = None
    code: str | None = None
    name: str | None = None
    geom: GEOSGeometry | None = None


def _edit_plan(edit: AreaEdit) -> _Plan:
    info = kind_info(edit.kind)
    if edit.action == CREATE:
        parent_id = _clean_parent(info, edit.parent_id)
        code = _clean_code(info, edit.code)
        name = _clean_name(info, code, edit.name)
        geom = normalize_geometry(edit.geom, info=info, code=code)
        return _Plan(
            info=info,
            group_parent_id=parent_id,
            writes=[_Write(None, code, name, parent_id, geom)],
            deletes=[],
        )
    if edit.action not in (UPDATE, DELETE):
        raise SectorsError(
            "unknown_action",
            _("“%(action)s” is not an edit; use create, update or delete.")
            % {"action": edit.action},
        )
    current = _area(info, edit.area_id)
    if edit.action == DELETE:
        has_children = (
            info.child_kind
            and pg.fetchone(
                "SELECT EXISTS (SELECT 1 FROM sectors_commercialarea WHERE parent_id = %s)",
                [current["id"]],
            )[0]
        )
        if has_children:
            raise SectorsError(
                "has_children",
                _(
                    "%(what)s still holds %(children)s; delete or move them first, or replace "
                    "them with a proposal."
                )
                % {
                    "what": _what(info, current["code"]),
                    "children": str(AreaKind(info.child_kind).label).lower(),
                },
            )
        return _Plan(
            info=info,
            group_parent_id=current["parent_id"],
            writes=[],
            deletes=[current["id"]],
        )
    code = _clean_code(info, edit.code) if edit.code is not None else current["code"]
    name = _clean_name(info, code, edit.name) if edit.name is not None else current["name"]
    geom = normalize_geometry(edit.geom, info=info, code=code) if edit.geom is not None else None
    parent_id = current["parent_id"]
    parent_changed = False
    if edit.parent_id is not None and edit.parent_id != parent_id:
        parent_id = _clean_parent(info, edit.parent_id)
        parent_changed = True
    return _Plan(
        info=info,
        group_parent_id=parent_id,
        writes=[_Write(current["id"], code, name, parent_id, geom, parent_changed)],
        deletes=[],
    )


def preview_boundary_change(*, edit: AreaEdit, moves_limit: int = MOVES_LIMIT) -> ChangeDiff:
    """What applying ``edit`` would do now (see the module docstring); writes nothing.

    Raises ``SectorsError`` as :func:`apply_boundary_change` would.
    """
    return _execute_plan(
        lambda: _edit_plan(edit),
        service=_EDIT_SERVICES.get(edit.action, "area_edit"),
        preview=True,
        token=None,
        user=None,
        moves_limit=moves_limit,
    )


def apply_boundary_change(
    *, edit: AreaEdit, token: str | None = None, user=None, moves_limit: int = MOVES_LIMIT
) -> ChangeDiff:
    """Write ``edit`` and reassign the accounts it moves, in one transaction; returns the
    diff applied. With ``token`` (from a preview), refuses with ``stale_preview`` unless the
    diff is the one previewed.

    Raises ``SectorsError`` (codes in the module docstring); nothing is written then.
    """
    return _execute_plan(
        lambda: _edit_plan(edit),
        service=_EDIT_SERVICES.get(edit.action, "area_edit"),
        preview=False,
        token=token,
        user=user,
        moves_limit=moves_limit,
    )


def area_create(*, kind, code, name, geom, parent=None, user=None, token=None) -> ChangeDiff:
    """Draw a new area (see :func:`apply_boundary_change`)."""
    edit = AreaEdit(
        CREATE, kind, parent_id=getattr(parent, "pk", parent), code=code, name=name, geom=geom
    )
    return apply_boundary_change(edit=edit, token=token, user=user)


def area_update(
    *, kind, area, geom=None, code=None, name=None, parent=None, user=None, token=None
) -> ChangeDiff:
    """Reshape, rename, recode or move an area (see :func:`apply_boundary_change`)."""
    edit = AreaEdit(
        UPDATE,
        kind,
        area_id=getattr(area, "pk", area),
        parent_id=getattr(parent, "pk", parent),
        code=code,
        name=name,
        geom=geom,
    )
    return apply_boundary_change(edit=edit, token=token, user=user)


def area_delete(*, kind, area, user=None, token=None) -> ChangeDiff:
    """Delete an area without children; its accounts fall to whatever else holds them."""
    edit = AreaEdit(DELETE, kind, area_id=getattr(area, "pk", area))
    return apply_boundary_change(edit=edit, token=token, user=user)


# --- proposals -------------------------------------------------------------------------------


def _member(item, key):
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def _proposal_plan(level, parent, proposal: Iterable, descendants: str) -> _Plan:
    info = kind_info(level)
    if descendants not in DESCENDANT_POLICIES:
        raise SectorsError(
            "invalid_descendants",
            _("“%(value)s” is not a policy for the areas below; use reparent or drop.")
            % {"value": descendants},
        )
    parent_id = _clean_parent(info, parent)
    items = list(proposal)
    if not items:
        raise SectorsError(
            "empty_proposal",
            _("The proposal has no areas; a proposal replaces the areas with at least one."),
        )
    where = "level = %s AND parent_id IS NOT DISTINCT FROM %s" if info.hierarchical else "TRUE"
    params = [info.level, parent_id] if info.hierarchical else []
    current = {
        code: (pk, name)
        for pk, code, name in pg.fetchall(
            f"SELECT id, code, name FROM {info.table} WHERE {where} ORDER BY id",  # noqa: S608
            params,
        )
    }
    writes = []
    for item in items:
        code = _clean_code(info, _member(item, "code"))
        name = _clean_name(info, code, _member(item, "name"))
        geom = normalize_geometry(_member(item, "geom"), info=info, code=code)
        pk = current.get(code, (None, None))[0]
        writes.append(_Write(pk, code, name, parent_id, geom))
    proposed = {w.code for w in writes}
    return _Plan(
        info=info,
        group_parent_id=parent_id,
        writes=writes,
        deletes=[pk for code, (pk, _name) in current.items() if code not in proposed],
        descendants=descendants,
        old_members=[pk for pk, _name in current.values()],
    )


def preview_proposal(
    *, level, parent, proposal, descendants: str = REPARENT, moves_limit: int = MOVES_LIMIT
) -> ChangeDiff:
    """What :func:`apply_proposal` would do now; writes nothing (see the module docstring)."""
    items = list(proposal)
    return _execute_plan(
        lambda: _proposal_plan(level, parent, items, descendants),
        service="apply_proposal",
        preview=True,
        token=None,
        user=None,
        moves_limit=moves_limit,
    )


def apply_proposal(
    *,
    level,
    parent,
    proposal,
    descendants: str = REPARENT,
    token: str | None = None,
    user=None,
    moves_limit: int = MOVES_LIMIT,
) -> ChangeDiff:
    """Replace the children of ``parent`` at ``level`` with ``proposal`` and reassign the
    accounts, in one transaction; returns the diff applied (contract in the module docstring).
    """
    items = list(proposal)
    return _execute_plan(
        lambda: _proposal_plan(level, parent, items, descendants),
        service="apply_proposal",
        preview=False,
        token=token,
        user=user,
        moves_limit=moves_limit,
    )
