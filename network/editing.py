"""Writes of network editors: draw, reshape and delete pipes; place, move and delete valves and
hydrants. The map editor (``/network/editor/``) and its API call these; so may commands.

**The snapping rule** (keeps the network *noded*: the graph of :mod:`network.topology` joins
pipes only where one ends on another). Each end point of a drawn or reshaped pipe is snapped,
within ``SNAP_TOLERANCE_M`` of it, onto the first of these that exists among the other pipes
that are in service or planned (abandoned pipes are no snap targets):

1. the nearest pipe **end point**: the two pipes now share that point;
2. else the nearest **vertex** of a pipe: the end takes the vertex;
3. else the nearest point of a pipe's **interior** (``ST_ClosestPoint``).

In cases 2 and 3 the other pipe is **split** at that point into two pipes (a T-junction): it
keeps its id, code, attributes and the first piece; the second piece becomes a new pipe with
the same attributes and the code ``<code>-2`` (``-3`` … when taken). Service connections of a
split pipe move to the piece nearest to them. An end with nothing within tolerance stays where
it was drawn (a network end). Interior vertices are never snapped, and a pipe crossing another
without ending on it is not connected to it (a bridge or a crossing at another depth).

**Geometry rules** (each refusal is a :class:`~network.models.NetworkError` whose ``where`` is
the offending geometry, in the storage CRS, for the map to highlight): a pipe is one
LineString, valid, not crossing itself, at most ``MAX_VERTICES`` vertices, and at least
``MIN_PIPE_LENGTH_M`` long after snapping. A valve or hydrant is a point snapped onto the
nearest pipe (in service or planned) within ``SNAP_TOLERANCE_M``, and refused if there is none.

**Connections**: a reshaped pipe keeps its service connections, each moved to the nearest
point of the new route (refused when that is farther than ``CONNECTION_MOVE_MAX_M``: the pipe
went down another street, its connections must be re-assigned first); a pipe with service
connections or outages cannot be deleted.

**Locks**, in one fixed order, so two editors never deadlock and never snap onto a pipe the
other is moving: a transaction-scoped advisory lock serializing network geometry edits, then
the pipes of the edit (the edited one and every pipe within tolerance of its ends,
``FOR UPDATE`` ordered by pk, re-read after the lock), then the rows of the asset itself.

Each service is one transaction; nothing is written when it raises. History events carry the
service name (and the user when given). The statement triggers of migration 0002 bump the
topology generation on every geometry write, so the graph is rebuilt on its next use; nothing
here rebuilds it.
"""

import pghistory
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, LineString, Point
from django.db import connection, transaction
from django.utils.translation import gettext as _

from gis_core.sql import ewkb, fetchall, fetchone, geos
from gis_core.srid import storage_srid, to_storage_point
from network.models import (
    PIPE_MAX_DIAMETER_MM,
    AssetStatus,
    Hydrant,
    Material,
    NetworkError,
    Pipe,
    ServiceConnection,
    Valve,
    ValveState,
)

# How far (m) a drawn end point or a placed valve is pulled onto the existing network: about
# the accuracy of a click at street zoom and of a field GPS, well under a street's width.
SNAP_TOLERANCE_M = 0.5
# Shorter pipes are drawing accidents (a double click), not fittings.
MIN_PIPE_LENGTH_M = 1.0
# A pipe drawn by hand has tens of vertices; thousands mean a bug or an abuse.
MAX_VERTICES = 10_000
# A reshape may move a pipe's connections this far along with it; farther, the pipe went
# somewhere else and its accounts must be re-assigned first.
CONNECTION_MOVE_MAX_M = 5.0
# Cut points closer than this to a piece's end do not split it (they are that end).
_SAME_POINT_M = 0.001
_CODE_MAX = Pipe._meta.get_field("code").max_length
_SNAP_STATUSES = (AssetStatus.ACTIVE, AssetStatus.PLANNED)
_UNSET = object()


def _history(service: str, user):
    """History context of ``service``: without a user the key is left out, so the user the
    request's middleware recorded is kept."""
    pk = getattr(user, "pk", None)
    return pghistory.context(service=service, **({"user": pk} if pk is not None else {}))


def _lock_network() -> None:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('network.edit'))")


def _lock_pipes(pks) -> dict[int, Pipe]:
    pipes = Pipe.objects.select_for_update(of=("self",)).filter(pk__in=set(pks)).order_by("pk")
    return {p.pk: p for p in pipes}


def _xy(geom) -> str:
    point = geom if geom.geom_type == "Point" else geom.centroid
    return f"{point.x:.1f}, {point.y:.1f}"


# --- input --------------------------------------------------------------------------------------


def _line_in_storage(geom) -> LineString:
    """``geom`` (any SRID) as a storage-CRS LineString that passes the geometry rules (before
    snapping). Raises NetworkError: wrong_geometry_type, srid_missing, srid_invalid,
    empty_geometry, too_many_vertices."""
    if not isinstance(geom, GEOSGeometry) or geom.geom_type != "LineString":
        raise NetworkError(
            "wrong_geometry_type",
            _("A pipe must be drawn as one line (a LineString)."),
            field="geometry",
        )
    if geom.empty:
        raise NetworkError("empty_geometry", _("The pipe has no vertices."), field="geometry")
    if geom.num_coords > MAX_VERTICES:
        raise NetworkError(
            "too_many_vertices",
            _("The pipe has %(count)s vertices; at most %(max)s are allowed.")
            % {"count": geom.num_coords, "max": MAX_VERTICES},
            field="geometry",
        )
    if not geom.srid:
        raise NetworkError(
            "srid_missing", _("The pipe has no coordinate system (SRID)."), field="geometry"
        )
    try:
        line = geom.transform(storage_srid(), clone=True)
    except (GDALException, GEOSException) as exc:
        raise NetworkError(
            "srid_invalid",
            _("The pipe's coordinate system (SRID %(srid)s) cannot be converted.")
            % {"srid": geom.srid},
            field="geometry",
        ) from exc
    return line


def _check_line(line: LineString, *, code: str) -> None:
    """The rules every stored pipe route passes (checked after snapping)."""
    if not line.valid:
        raise NetworkError(
            "invalid_geometry",
            _("Pipe %(code)s: the line is not valid (%(reason)s).")
            % {"code": code, "reason": line.valid_reason},
            field="geometry",
            where=line,
        )
    if not line.simple:
        raise NetworkError(
            "self_intersection",
            _("Pipe %(code)s crosses itself; draw it without loops.") % {"code": code},
            field="geometry",
            where=line,
        )
    if line.length < MIN_PIPE_LENGTH_M:
        raise NetworkError(
            "too_short",
            _(
                "Pipe %(code)s would be %(length)s m long near %(xy)s; a pipe must be at least "
                "%(min)s m long."
            )
            % {
                "code": code,
                "length": f"{line.length:.2f}",
                "xy": _xy(line),
                "min": MIN_PIPE_LENGTH_M,
            },
            field="geometry",
            where=line,
        )


def _choice(value, choices, *, field: str, what) -> str:
    if value not in choices.values:
        raise NetworkError(
            f"invalid_{field}",
            _("“%(value)s” is not a valid %(what)s; choose one of: %(choices)s.")
            % {"value": value, "what": what, "choices": ", ".join(choices.values)},
            field=field,
        )
    return value


def _diameter(value, *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= maximum:
        raise NetworkError(
            "invalid_diameter_mm",
            _("The diameter must be a whole number of millimetres from 1 to %(max)s.")
            % {"max": maximum},
            field="diameter_mm",
        )
    return value


def _install_year(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1850 <= value <= 2100:
        raise NetworkError(
            "invalid_install_year",
            _("The install year must be between 1850 and 2100 (or empty if unknown)."),
            field="install_year",
        )
    return value


def _code(value: str, model, *, exclude_pk=None) -> str:
    code = (value or "").strip()
    if not code or len(code) > _CODE_MAX:
        raise NetworkError(
            "invalid_code",
            _("The code must have 1 to %(max)s characters.") % {"max": _CODE_MAX},
            field="code",
        )
    if model.objects.filter(code=code).exclude(pk=exclude_pk).exists():
        raise NetworkError(
            "duplicate_code",
            _("Code %(code)s is already used by another %(what)s; choose another.")
            % {"code": code, "what": model._meta.verbose_name},
            field="code",
        )
    return code


def _clean_pipe_attributes(changes: dict, *, pipe_pk=None) -> dict:
    clean = {}
    if "code" in changes:
        clean["code"] = _code(changes["code"], Pipe, exclude_pk=pipe_pk)
    if "material" in changes:
        clean["material"] = _choice(
            changes["material"], Material, field="material", what=_("material")
        )
    if "diameter_mm" in changes:
        clean["diameter_mm"] = _diameter(changes["diameter_mm"], maximum=PIPE_MAX_DIAMETER_MM)
    if "status" in changes:
        clean["status"] = _choice(changes["status"], AssetStatus, field="status", what=_("status"))
    if "install_year" in changes:
        clean["install_year"] = _install_year(changes["install_year"])
    return clean


def _new_id_and_code(model, prefix: str, code: str | None) -> tuple[int, str]:
    """The next id of ``model``'s sequence and the code: the one given, else ``<prefix><id>``
    (what people read on the map before the asset gets its field code)."""
    table = model._meta.db_table
    sql = "SELECT nextval(pg_get_serial_sequence(%s, 'id'))"
    (new_id,) = fetchone(sql, [table])
    if code:
        return new_id, _code(code, model)
    # A code typed by hand may have taken ``<prefix><id>``: draw ids until one is free.
    while model.objects.filter(code=f"{prefix}{new_id}").exists():
        (new_id,) = fetchone(sql, [table])
    return new_id, f"{prefix}{new_id}"


# --- snapping ------------------------------------------------------------------------------------

# The snap target of one end point among the other pipes (ends first, then vertices, then
# interiors; nearest first, ties by pipe id). ``kind``: 'end' | 'vertex' | 'interior'.
_SNAP_SQL = """
WITH near AS (
    SELECT p.id, p.geom FROM network_pipe p
     WHERE ST_DWithin(p.geom, %(pt)s::geometry, %(tol)s) AND p.status = ANY(%(statuses)s)
       AND p.id IS DISTINCT FROM %(exclude)s
), vertex AS (
    SELECT n.id, d.geom AS at,
           CASE WHEN d.path[1] IN (1, ST_NPoints(n.geom)) THEN 'end' ELSE 'vertex' END AS kind
      FROM near n, ST_DumpPoints(n.geom) d
     WHERE ST_DWithin(d.geom, %(pt)s::geometry, %(tol)s)
), interior AS (
    SELECT n.id, ST_ClosestPoint(n.geom, %(pt)s::geometry) AS at, 'interior' AS kind FROM near n
)
SELECT id, kind, ST_AsEWKB(at) FROM (SELECT * FROM vertex UNION ALL SELECT * FROM interior) c
 ORDER BY CASE kind WHEN 'end' THEN 0 WHEN 'vertex' THEN 1 ELSE 2 END,
          ST_Distance(at, %(pt)s::geometry), id
 LIMIT 1
"""


def _snap_target(point: Point, *, exclude: int | None):
    row = fetchone(
        _SNAP_SQL,
        {
            "pt": ewkb(point),
            "tol": SNAP_TOLERANCE_M,
            "statuses": list(_SNAP_STATUSES),
            "exclude": exclude,
        },
    )
    if row is None:
        return None
    return row[0], row[1], geos(row[2])


def _pipes_near(points, *, exclude: int | None) -> list[int]:
    rows = fetchall(
        """SELECT DISTINCT p.id FROM network_pipe p, unnest(%(pts)s::geometry[]) AS e(pt)
            WHERE ST_DWithin(p.geom, e.pt, %(tol)s) AND p.id IS DISTINCT FROM %(exclude)s""",
        {"pts": [ewkb(p) for p in points], "tol": SNAP_TOLERANCE_M, "exclude": exclude},
    )
    return [r[0] for r in rows]


def _snap_line(line: LineString, *, exclude: int | None) -> tuple[LineString, list]:
    """The line with its end points snapped (the module's rule) and the splits it implies:
    ``[(pipe id, cut point)]``. Reads only; the caller holds the locks."""
    coords = list(line.coords)
    splits = []
    for index in (0, len(coords) - 1):
        target = _snap_target(Point(coords[index], srid=line.srid), exclude=exclude)
        if target is None:
            continue
        pipe_id, kind, at = target
        coords[index] = (at.x, at.y)
        if kind != "end":
            splits.append((pipe_id, at))
    return LineString(coords, srid=line.srid), splits


def _piece_code(code: str) -> str:
    for n in range(2, 10_000):
        suffix = f"-{n}"
        candidate = code[: _CODE_MAX - len(suffix)] + suffix
        if not Pipe.objects.filter(code=candidate).exists():
            return candidate
    raise NetworkError(
        "code_exhausted", _("No free code is left for a piece of %(code)s.") % {"code": code}
    )


def _split(pipe_id: int, cut: Point, pieces_of: dict[int, list[int]]) -> int | None:
    """Split pipe ``pipe_id`` (or the piece of it an earlier cut of this edit left nearest to
    ``cut``) at ``cut``; returns the new piece's id, or None when ``cut`` is already an end."""
    candidates = pieces_of.setdefault(pipe_id, [pipe_id])
    pipe = min(
        Pipe.objects.filter(pk__in=candidates).order_by("pk"),
        key=lambda p: (p.geom.distance(cut), p.pk),
    )
    row = fetchone(
        """SELECT ST_AsEWKB(ST_SetPoint(ST_LineSubstring(g, 0, f),
                                        ST_NPoints(ST_LineSubstring(g, 0, f)) - 1, c)),
                  ST_AsEWKB(ST_SetPoint(ST_LineSubstring(g, f, 1), 0, c)),
                  ST_Distance(c, ST_StartPoint(g)), ST_Distance(c, ST_EndPoint(g))
             FROM (SELECT %(g)s::geometry AS g, %(c)s::geometry AS c,
                          ST_LineLocatePoint(%(g)s::geometry, %(c)s::geometry) AS f) s""",
        {"g": ewkb(pipe.geom), "c": ewkb(cut)},
    )
    first, second, from_start, from_end = geos(row[0]), geos(row[1]), row[2], row[3]
    if min(from_start, from_end) < _SAME_POINT_M:
        return None
    Pipe.objects.filter(pk=pipe.pk).update(geom=first)
    piece = Pipe.objects.create(
        code=_piece_code(pipe.code),
        material=pipe.material,
        diameter_mm=pipe.diameter_mm,
        install_year=pipe.install_year,
        status=pipe.status,
        roughness=pipe.roughness,
        geom=second,
    )
    # Each connection follows the piece nearest to it (ties stay on the original).
    with connection.cursor() as cur:
        cur.execute(
            """UPDATE network_serviceconnection SET pipe_id = %(piece)s
                WHERE pipe_id = %(pipe)s
                  AND ST_Distance(geom, %(second)s::geometry) < ST_Distance(geom, %(first)s::geometry)""",
            {"piece": piece.pk, "pipe": pipe.pk, "first": ewkb(first), "second": ewkb(second)},
        )
    candidates.append(piece.pk)
    return piece.pk


def _apply_splits(splits) -> list[int]:
    pieces_of: dict[int, list[int]] = {}
    created = []
    for pipe_id, cut in splits:
        new = _split(pipe_id, cut, pieces_of)
        if new is not None:
            created.append(new)
    return created


def _reload(pk: int) -> Pipe:
    return Pipe.objects.get(pk=pk)


# --- pipes ---------------------------------------------------------------------------------------


class PipeEdit:
    """What a pipe edit did: the pipe, and the pipes it split (ids of both pieces)."""

    def __init__(self, pipe: Pipe, split: list[int]):
        self.pipe = pipe
        self.split = split


def pipe_create(
    *,
    geom: LineString,
    diameter_mm: int,
    material: str = Material.UNKNOWN,
    status: str = AssetStatus.ACTIVE,
    install_year: int | None = None,
    code: str | None = None,
    user=None,
) -> PipeEdit:
    """Draw a new pipe along ``geom`` (any SRID). Its ends are snapped onto the network (the
    module's rule), splitting the pipes it joins at a vertex or in their interior. Without
    ``code`` it is numbered ``TUB-<id>``.

    Raises NetworkError: wrong_geometry_type, empty_geometry, too_many_vertices, srid_missing,
    srid_invalid, invalid_geometry, self_intersection, too_short, invalid_code,
    duplicate_code, invalid_material, invalid_diameter_mm, invalid_status,
    invalid_install_year.
    """
    attrs = _clean_pipe_attributes(
        {
            "material": material,
            "diameter_mm": diameter_mm,
            "status": status,
            "install_year": install_year,
        }
    )
    line = _line_in_storage(geom)
    with transaction.atomic(), _history("pipe_create", user):
        _lock_network()
        _lock_pipes(
            _pipes_near(
                [Point(line.coords[0], srid=line.srid), Point(line.coords[-1], srid=line.srid)],
                exclude=None,
            )
        )
        new_id, new_code = _new_id_and_code(Pipe, "TUB-", code)
        line, splits = _snap_line(line, exclude=None)
        _check_line(line, code=new_code)
        split_pieces = _apply_splits(splits)
        pipe = Pipe.objects.create(id=new_id, code=new_code, geom=line, **attrs)
        split_ids = sorted({pid for pid, _cut in splits} | set(split_pieces))
    return PipeEdit(_reload(pipe.pk), split_ids)


def pipe_reshape(*, pipe: Pipe, geom: LineString, user=None) -> PipeEdit:
    """Replace the route of ``pipe`` (vertex editing). Its ends are snapped like a new pipe's
    (other pipes only); its service connections move onto the new route.

    Raises NetworkError: not_found, connection_too_far, and the geometry codes of
    :func:`pipe_create`.
    """
    line = _line_in_storage(geom)
    with transaction.atomic(), _history("pipe_reshape", user):
        _lock_network()
        ends = [Point(line.coords[0], srid=line.srid), Point(line.coords[-1], srid=line.srid)]
        locked = _lock_pipes([pipe.pk, *_pipes_near(ends, exclude=pipe.pk)])
        if pipe.pk not in locked:
            raise NetworkError("not_found", _("The pipe no longer exists."), status=404)
        pipe = locked[pipe.pk]
        line, splits = _snap_line(line, exclude=pipe.pk)
        _check_line(line, code=pipe.code)
        far = (
            ServiceConnection.objects.filter(
                pipe_id=pipe.pk, geom__distance_gt=(line, CONNECTION_MOVE_MAX_M)
            )
            .select_related("account")
            .order_by("pk")
            .first()
        )
        if far is not None:
            raise NetworkError(
                "connection_too_far",
                _(
                    "The new route of pipe %(code)s passes more than %(max)s m from the service "
                    "connection of account %(account)s at %(xy)s. Connect that account to "
                    "another pipe first, or draw the route closer to it."
                )
                % {
                    "code": pipe.code,
                    "max": CONNECTION_MOVE_MAX_M,
                    "account": far.account.number,
                    "xy": _xy(far.geom),
                },
                field="geometry",
                where=far.geom,
            )
        Pipe.objects.filter(pk=pipe.pk).update(geom=line)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE network_serviceconnection SET geom = ST_ClosestPoint(%s::geometry, geom)"
                " WHERE pipe_id = %s",
                [ewkb(line), pipe.pk],
            )
        split_pieces = _apply_splits(splits)
        split_ids = sorted({pid for pid, _cut in splits} | set(split_pieces))
    return PipeEdit(_reload(pipe.pk), split_ids)


def pipe_update_attributes(
    *,
    pipe: Pipe,
    code=_UNSET,
    material=_UNSET,
    diameter_mm=_UNSET,
    status=_UNSET,
    install_year=_UNSET,
    user=None,
) -> Pipe:
    """Change the attributes given (omitted ones stay; ``install_year=None`` clears it).
    A status change takes the pipe into or out of the graph (the triggers mark it stale).

    Raises NetworkError: not_found, invalid_code, duplicate_code, invalid_material,
    invalid_diameter_mm, invalid_status, invalid_install_year.
    """
    given = {
        "code": code,
        "material": material,
        "diameter_mm": diameter_mm,
        "status": status,
        "install_year": install_year,
    }
    with transaction.atomic(), _history("pipe_update_attributes", user):
        locked = _lock_pipes([pipe.pk])
        if pipe.pk not in locked:
            raise NetworkError("not_found", _("The pipe no longer exists."), status=404)
        changes = _clean_pipe_attributes(
            {k: v for k, v in given.items() if v is not _UNSET}, pipe_pk=pipe.pk
        )
        if changes:
            Pipe.objects.filter(pk=pipe.pk).update(**changes)
    return _reload(pipe.pk)


def pipe_delete(*, pipe: Pipe, user=None) -> None:
    """Delete a pipe that serves no account and is in no outage record.

    Raises NetworkError: not_found, pipe_has_connections, pipe_has_outages.
    """
    with transaction.atomic(), _history("pipe_delete", user):
        _lock_network()
        locked = _lock_pipes([pipe.pk])
        if pipe.pk not in locked:
            raise NetworkError("not_found", _("The pipe no longer exists."), status=404)
        pipe = locked[pipe.pk]
        connections = ServiceConnection.objects.filter(pipe_id=pipe.pk).count()
        if connections:
            raise NetworkError(
                "pipe_has_connections",
                _(
                    "Pipe %(code)s (near %(xy)s) supplies %(count)s service connections; connect "
                    "them to another pipe before deleting it, or mark it abandoned."
                )
                % {"code": pipe.code, "xy": _xy(pipe.geom), "count": connections},
                where=pipe.geom,
            )
        if pipe.outages.exists():
            raise NetworkError(
                "pipe_has_outages",
                _(
                    "Pipe %(code)s is part of recorded outages and is kept for their history; "
                    "mark it abandoned instead."
                )
                % {"code": pipe.code},
                where=pipe.geom,
            )
        Pipe.objects.filter(pk=pipe.pk).delete()


# --- valves and hydrants ------------------------------------------------------------------------


def _on_pipe(point, *, what) -> Point:
    """``point`` (any SRID) moved onto the nearest pipe in service or planned within
    ``SNAP_TOLERANCE_M``; that pipe is locked so it cannot move away meanwhile."""
    at = to_storage_point(point, error=NetworkError, field="geometry")
    row = fetchone(
        """SELECT p.id, ST_AsEWKB(ST_ClosestPoint(p.geom, %(pt)s::geometry)) FROM network_pipe p
            WHERE ST_DWithin(p.geom, %(pt)s::geometry, %(tol)s) AND p.status = ANY(%(st)s)
            ORDER BY ST_Distance(p.geom, %(pt)s::geometry), p.id LIMIT 1""",
        {"pt": ewkb(at), "tol": SNAP_TOLERANCE_M, "st": list(_SNAP_STATUSES)},
    )
    if row is None:
        raise NetworkError(
            "no_pipe_near",
            _(
                "There is no pipe within %(tol)s m of the %(what)s at %(xy)s; place it on a "
                "pipe (in service or planned)."
            )
            % {"tol": SNAP_TOLERANCE_M, "what": what, "xy": _xy(at)},
            field="geometry",
            where=at,
        )
    _lock_pipes([row[0]])
    return geos(row[1])


def _lock_asset(model, asset):
    found = model.objects.select_for_update(of=("self",)).filter(pk=asset.pk).first()
    if found is None:
        raise NetworkError(
            "not_found",
            _("The %(what)s no longer exists.") % {"what": model._meta.verbose_name},
            status=404,
        )
    return found


def _clean_valve_attributes(changes: dict, *, pk=None) -> dict:
    clean = {}
    if "code" in changes:
        clean["code"] = _code(changes["code"], Valve, exclude_pk=pk)
    if "diameter_mm" in changes:
        clean["diameter_mm"] = _diameter(changes["diameter_mm"], maximum=PIPE_MAX_DIAMETER_MM)
    for name in ("normal_status", "current_status"):
        if name in changes:
            clean[name] = _choice(changes[name], ValveState, field=name, what=_("valve state"))
    if "operable" in changes:
        if not isinstance(changes["operable"], bool):
            raise NetworkError(
                "invalid_operable", _("Say whether the valve can be operated."), field="operable"
            )
        clean["operable"] = changes["operable"]
    return clean


def valve_create(
    *,
    point: Point,
    code: str | None = None,
    diameter_mm: int = 100,
    normal_status: str = ValveState.OPEN,
    current_status: str | None = None,
    operable: bool = True,
    user=None,
) -> Valve:
    """Place a valve on the nearest pipe within ``SNAP_TOLERANCE_M`` of ``point`` (any SRID).
    Without ``code`` it is numbered ``VAL-<id>``; ``current_status`` defaults to the normal one.

    Raises NetworkError: no_pipe_near, point_invalid, srid_missing, srid_invalid,
    invalid_code, duplicate_code, invalid_diameter_mm, invalid_normal_status,
    invalid_current_status, invalid_operable.
    """
    attrs = _clean_valve_attributes(
        {
            "diameter_mm": diameter_mm,
            "normal_status": normal_status,
            "current_status": current_status or normal_status,
            "operable": operable,
        }
    )
    with transaction.atomic(), _history("valve_create", user):
        _lock_network()
        at = _on_pipe(point, what=_("valve"))
        new_id, new_code = _new_id_and_code(Valve, "VAL-", code)
        valve = Valve.objects.create(id=new_id, code=new_code, geom=at, **attrs)
    return Valve.objects.get(pk=valve.pk)


def valve_move(*, valve: Valve, point: Point, user=None) -> Valve:
    """Move a valve onto the nearest pipe within ``SNAP_TOLERANCE_M`` of ``point``.

    Raises NetworkError: not_found, no_pipe_near, point_invalid, srid_missing, srid_invalid.
    """
    with transaction.atomic(), _history("valve_move", user):
        _lock_network()
        at = _on_pipe(point, what=_("valve"))
        valve = _lock_asset(Valve, valve)
        Valve.objects.filter(pk=valve.pk).update(geom=at)
    return Valve.objects.get(pk=valve.pk)


def valve_update_attributes(
    *,
    valve: Valve,
    code=_UNSET,
    diameter_mm=_UNSET,
    normal_status=_UNSET,
    current_status=_UNSET,
    operable=_UNSET,
    user=None,
) -> Valve:
    """Change the attributes given (omitted ones stay).

    Raises NetworkError: not_found, invalid_code, duplicate_code, invalid_diameter_mm,
    invalid_normal_status, invalid_current_status, invalid_operable.
    """
    given = {
        "code": code,
        "diameter_mm": diameter_mm,
        "normal_status": normal_status,
        "current_status": current_status,
        "operable": operable,
    }
    with transaction.atomic(), _history("valve_update_attributes", user):
        valve = _lock_asset(Valve, valve)
        changes = _clean_valve_attributes(
            {k: v for k, v in given.items() if v is not _UNSET}, pk=valve.pk
        )
        if changes:
            Valve.objects.filter(pk=valve.pk).update(**changes)
    return Valve.objects.get(pk=valve.pk)


def valve_delete(*, valve: Valve, user=None) -> None:
    """Delete a valve (the graph's vertex loses it on the next rebuild).

    Raises NetworkError: not_found.
    """
    with transaction.atomic(), _history("valve_delete", user):
        _lock_network()
        valve = _lock_asset(Valve, valve)
        Valve.objects.filter(pk=valve.pk).delete()


def hydrant_create(
    *, point: Point, code: str | None = None, diameter_mm: int = 100, user=None
) -> Hydrant:
    """Place a hydrant on the nearest pipe within ``SNAP_TOLERANCE_M`` (``HID-<id>`` without
    a code). Raises NetworkError: no_pipe_near, the point codes, invalid_code, duplicate_code,
    invalid_diameter_mm."""
    diameter_mm = _diameter(diameter_mm, maximum=PIPE_MAX_DIAMETER_MM)
    with transaction.atomic(), _history("hydrant_create", user):
        _lock_network()
        at = _on_pipe(point, what=_("hydrant"))
        new_id, new_code = _new_id_and_code(Hydrant, "HID-", code)
        hydrant = Hydrant.objects.create(id=new_id, code=new_code, geom=at, diameter_mm=diameter_mm)
    return Hydrant.objects.get(pk=hydrant.pk)


def hydrant_move(*, hydrant: Hydrant, point: Point, user=None) -> Hydrant:
    """Move a hydrant onto the nearest pipe. Raises NetworkError: not_found, no_pipe_near."""
    with transaction.atomic(), _history("hydrant_move", user):
        _lock_network()
        at = _on_pipe(point, what=_("hydrant"))
        hydrant = _lock_asset(Hydrant, hydrant)
        Hydrant.objects.filter(pk=hydrant.pk).update(geom=at)
    return Hydrant.objects.get(pk=hydrant.pk)


def hydrant_delete(*, hydrant: Hydrant, user=None) -> None:
    """Delete a hydrant. Raises NetworkError: not_found."""
    with transaction.atomic(), _history("hydrant_delete", user):
        hydrant = _lock_asset(Hydrant, hydrant)
        Hydrant.objects.filter(pk=hydrant.pk).delete()
