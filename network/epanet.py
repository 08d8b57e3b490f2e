"""EPANET ``.inp`` files in and out.

:func:`epanet_import` reads the JUNCTIONS, RESERVOIRS, TANKS, PIPES, PUMPS, VALVES, COORDINATES
and VERTICES sections (others are skipped and named in the result), validates the whole file
first — every bad line is reported with its line number, and nothing is written unless all are
good — then writes everything in one transaction. Model coordinates become the projected CRS
through an affine :class:`Transform` (``x' = a·x + b·y + xoff``, ``y' = d·x + e·y + yoff``):
a model drawn in local metres needs only the offset of its origin.

Mapping: junctions → :class:`~network.models.Junction`; reservoirs → a
:class:`~network.models.Source` of kind ``reservoir`` (head); tanks → :class:`~network.models.Tank`;
pipes → :class:`~network.models.Pipe` (geometry: start node, vertices, end node; the length is
the geometry's, the file's length column is not kept); pumps and valves are *links* in EPANET
and points in Caudal: they are stored at the link's midpoint with their two node ids, so an
export writes the same link. Such a link is not a pipe: Caudal's graph does not join its two
nodes (a pumping station is modelled by the pipes on either side). Units are converted to SI
(US units: inches, feet, the flow unit's demand); exports are written in LPS.

:func:`epanet_export` writes the network back: every junction, reservoir and tank, every
in-service pipe (an end without a node of its own becomes a junction named after its grid
position), pumps and valves with their nodes, coordinates and vertices.
"""

import io
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.gis.geos import LineString, Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from gis_core.srid import storage_srid
from network.models import (
    PIPE_MAX_DIAMETER_MM,
    Junction,
    NetworkError,
    Pipe,
    Pump,
    Source,
    SourceKind,
    Tank,
    Valve,
)

SECTIONS = (
    "JUNCTIONS",
    "RESERVOIRS",
    "TANKS",
    "PIPES",
    "PUMPS",
    "VALVES",
    "COORDINATES",
    "VERTICES",
)
VALVE_TYPES = ("PRV", "PSV", "PBV", "FCV", "TCV", "GPV")
SI_FLOW = {"LPS": 1, "LPM": 1 / 60, "MLD": 1e6 / 86400, "CMH": 1000 / 3600, "CMD": 1000 / 86400}
US_FLOW = {"CFS": 28.3168, "GPM": 0.0630902, "MGD": 43.8126, "IMGD": 52.6168, "AFD": 14.2764}
MAX_ERRORS = 50
ENDPOINT_SNAP_M = 0.05


class EpanetError(NetworkError):
    """An ``.inp`` file was refused; ``errors`` lists ``(line number, message)``."""

    def __init__(self, errors: list[tuple[int, str]]):
        shown = "; ".join(
            _("line %(line)s: %(message)s") % {"line": n, "message": m}
            for n, m in errors[:MAX_ERRORS]
        )
        super().__init__(
            "inp_invalid",
            _("The EPANET file has %(count)s errors; nothing was imported. %(errors)s")
            % {"count": len(errors), "errors": shown},
            field="file",
        )
        self.errors = errors


@dataclass(frozen=True)
class Transform:
    """Affine transform from model coordinates to the storage CRS."""

    a: float = 1.0
    b: float = 0.0
    xoff: float = 0.0
    d: float = 0.0
    e: float = 1.0
    yoff: float = 0.0

    @classmethod
    def offset(cls, xoff: float, yoff: float, *, scale: float = 1.0, rotation_deg: float = 0.0):
        """Scale and rotate about the model's origin, then move it to ``(xoff, yoff)``."""
        r = math.radians(rotation_deg)
        c, s = math.cos(r) * scale, math.sin(r) * scale
        return cls(a=c, b=-s, xoff=xoff, d=s, e=c, yoff=yoff)

    def apply(self, x: float, y: float) -> tuple[float, float]:
        return self.a * x + self.b * y + self.xoff, self.d * x + self.e * y + self.yoff

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        det = self.a * self.e - self.b * self.d
        x, y = x - self.xoff, y - self.yoff
        return (self.e * x - self.b * y) / det, (-self.d * x + self.a * y) / det

    def check(self) -> None:
        values = (self.a, self.b, self.xoff, self.d, self.e, self.yoff)
        if (
            not all(math.isfinite(v) for v in values)
            or abs(self.a * self.e - self.b * self.d) < 1e-12
        ):
            raise NetworkError(
                "transform_invalid",
                _("The coordinate transform must be finite and invertible."),
                field="transform",
            )


@dataclass
class Model:
    units: str = "GPM"
    junctions: dict = field(default_factory=dict)  # id → (line, elev, demand)
    reservoirs: dict = field(default_factory=dict)  # id → (line, head)
    tanks: dict = field(default_factory=dict)  # id → (line, elev, init, min, max, diam)
    pipes: dict = field(default_factory=dict)  # id → (line, n1, n2, length, diam, rough)
    pumps: dict = field(default_factory=dict)  # id → (line, n1, n2, params)
    valves: dict = field(default_factory=dict)  # id → (line, n1, n2, diam, type, setting)
    coordinates: dict = field(default_factory=dict)  # node → (line, x, y)
    vertices: dict = field(default_factory=lambda: defaultdict(list))  # link → [(x, y)]
    skipped: set = field(default_factory=set)


def _number(text: str, what: str, errors, n: int, *, positive=False, minimum=None):
    try:
        value = float(text)
    except ValueError:
        errors.append(
            (n, _("%(what)s “%(value)s” is not a number.") % {"what": what, "value": text})
        )
        return None
    if (
        not math.isfinite(value)
        or (positive and value <= 0)
        or (minimum is not None and value < minimum)
    ):
        errors.append(
            (n, _("%(what)s “%(value)s” is out of range.") % {"what": what, "value": text})
        )
        return None
    return value


def parse(text: str) -> Model:
    """The sections Caudal reads, checked line by line and as a whole (references, duplicates,
    coordinates of every node). Raises :class:`EpanetError` listing every bad line."""
    model = Model()
    errors: list[tuple[int, str]] = []
    section = None
    seen_nodes: dict[str, int] = {}
    seen_links: dict[str, int] = {}

    def add_id(kind_seen, ident, n):
        if ident in kind_seen:
            errors.append(
                (
                    n,
                    _("“%(id)s” is defined twice (first on line %(first)s).")
                    % {"id": ident, "first": kind_seen[ident]},
                )
            )
            return False
        kind_seen[ident] = n
        return True

    def need(cols, count, n):
        if len(cols) < count:
            errors.append(
                (
                    n,
                    _("section [%(section)s] needs at least %(count)s values on a line.")
                    % {"section": section, "count": count},
                )
            )
            return False
        return True

    for n, raw in enumerate(text.splitlines(), start=1):
        content = raw.split(";", 1)[0].strip()
        if not content:
            continue
        if content.startswith("["):
            if not content.endswith("]"):
                errors.append((n, _("a section header must end with “]”.")))
                continue
            section = content[1:-1].strip().upper()
            if section not in SECTIONS and section != "OPTIONS":
                model.skipped.add(section)
            continue
        cols = content.split()
        if section == "OPTIONS":
            if cols[0].upper() == "UNITS" and len(cols) > 1:
                units = cols[1].upper()
                if units not in SI_FLOW and units not in US_FLOW:
                    errors.append((n, _("unknown flow units “%(units)s”.") % {"units": cols[1]}))
                else:
                    model.units = units
        elif section == "JUNCTIONS":
            if need(cols, 2, n) and add_id(seen_nodes, cols[0], n):
                elev = _number(cols[1], _("elevation"), errors, n)
                demand = _number(cols[2], _("demand"), errors, n) if len(cols) > 2 else 0.0
                model.junctions[cols[0]] = (n, elev, demand)
        elif section == "RESERVOIRS":
            if need(cols, 2, n) and add_id(seen_nodes, cols[0], n):
                model.reservoirs[cols[0]] = (n, _number(cols[1], _("head"), errors, n))
        elif section == "TANKS":
            if need(cols, 6, n) and add_id(seen_nodes, cols[0], n):
                elev = _number(cols[1], _("elevation"), errors, n)
                levels = [_number(c, _("level"), errors, n, minimum=0) for c in cols[2:5]]
                diam = _number(cols[5], _("diameter"), errors, n, positive=True)
                if None not in levels and not (levels[1] <= levels[0] <= levels[2]):
                    errors.append((n, _("a tank's levels must be minimum ≤ initial ≤ maximum.")))
                model.tanks[cols[0]] = (n, elev, *levels, diam)
        elif section == "PIPES":
            if need(cols, 5, n) and add_id(seen_links, cols[0], n):
                length = _number(cols[3], _("length"), errors, n, positive=True)
                diam = _number(cols[4], _("diameter"), errors, n, positive=True)
                rough = (
                    _number(cols[5], _("roughness"), errors, n, positive=True)
                    if len(cols) > 5
                    else 100.0
                )
                model.pipes[cols[0]] = (n, cols[1], cols[2], length, diam, rough)
        elif section == "PUMPS":
            if need(cols, 3, n) and add_id(seen_links, cols[0], n):
                model.pumps[cols[0]] = (n, cols[1], cols[2], " ".join(cols[3:]))
        elif section == "VALVES":
            if need(cols, 6, n) and add_id(seen_links, cols[0], n):
                diam = _number(cols[3], _("diameter"), errors, n, positive=True)
                if cols[4].upper() not in VALVE_TYPES:
                    errors.append((n, _("unknown valve type “%(type)s”.") % {"type": cols[4]}))
                model.valves[cols[0]] = (n, cols[1], cols[2], diam, cols[4].upper(), cols[5])
        elif section == "COORDINATES":
            if need(cols, 3, n):
                x = _number(cols[1], "X", errors, n)
                y = _number(cols[2], "Y", errors, n)
                if cols[0] in model.coordinates:
                    errors.append((n, _("node “%(id)s” has coordinates twice.") % {"id": cols[0]}))
                model.coordinates[cols[0]] = (n, x, y)
        elif section == "VERTICES":
            if need(cols, 3, n):
                x = _number(cols[1], "X", errors, n)
                y = _number(cols[2], "Y", errors, n)
                model.vertices[cols[0]].append((n, x, y))
        elif section is None:
            errors.append((n, _("data before the first [SECTION] header.")))

    # The file as a whole: every link's nodes exist, every node has coordinates.
    for kind in (model.pipes, model.pumps, model.valves):
        for ident, (n, n1, n2, *_rest) in kind.items():
            for node in (n1, n2):
                if node not in seen_nodes:
                    errors.append(
                        (
                            n,
                            _("link “%(link)s” names node “%(node)s”, which is not defined.")
                            % {"link": ident, "node": node},
                        )
                    )
            if n1 == n2:
                errors.append(
                    (n, _("link “%(link)s” starts and ends at the same node.") % {"link": ident})
                )
    for node, n in seen_nodes.items():
        if node not in model.coordinates:
            errors.append(
                (n, _("node “%(node)s” has no coordinates in [COORDINATES].") % {"node": node})
            )
    for node, (n, *_xy) in model.coordinates.items():
        if node not in seen_nodes:
            errors.append(
                (n, _("coordinates for “%(node)s”, which is not a node.") % {"node": node})
            )
    for link, points in model.vertices.items():
        if link not in model.pipes:
            errors.append(
                (points[0][0], _("vertices for “%(link)s”, which is not a pipe.") % {"link": link})
            )
    if errors:
        raise EpanetError(sorted(errors))
    return model


def _units(model: Model):
    """(mm per diameter unit, m per length unit, l/s per demand unit)."""
    if model.units in US_FLOW:
        return 25.4, 0.3048, US_FLOW[model.units]
    return 1.0, 1.0, SI_FLOW[model.units]


def _dec(value: float, places: int = 2) -> Decimal:
    return Decimal(str(round(value, places)))


def _refusals(obj) -> list[str]:
    """Why ``obj`` (built from one line of the file) cannot be stored: a value that does not
    fit its column (too long, too many digits, out of range) or a size that rounds to zero."""
    try:
        obj.clean_fields(exclude={"geom"})
    except ValidationError as exc:
        return [
            _("%(what)s “%(id)s”, %(field)s: %(message)s")
            % {
                "what": obj._meta.verbose_name,
                "id": obj.code,
                "field": obj._meta.get_field(name).verbose_name,
                "message": message,
            }
            for name, messages in exc.message_dict.items()
            for message in messages
        ]
    if isinstance(obj, Pipe) and not 0 < obj.diameter_mm <= PIPE_MAX_DIAMETER_MM:
        return [
            _("pipe “%(id)s”: a diameter of %(mm)s mm is out of range.")
            % {"id": obj.code, "mm": obj.diameter_mm}
        ]
    diameter = obj.diameter_m if isinstance(obj, Tank) else getattr(obj, "diameter_mm", None)
    if diameter is not None and diameter <= 0:
        return [
            _("%(what)s “%(id)s”: its diameter rounds to zero.")
            % {"what": obj._meta.verbose_name, "id": obj.code}
        ]
    return []


def epanet_import(*, text: str, transform: Transform | None = None) -> dict:
    """Validate the whole ``.inp`` text, then write its network in one transaction.

    Changes: inserts junctions, sources (reservoirs), tanks, pipes, pumps and valves. Returns the
    counts per kind and the skipped section names. Raises :class:`EpanetError` (every bad line
    with its number), ``NetworkError("transform_invalid")``, or ``NetworkError("inp_duplicate")``
    when an id already exists in the network; nothing is written in any of those cases.
    """
    transform = transform or Transform()
    transform.check()
    model = parse(text)
    mm, metre, demand = _units(model)
    srid = storage_srid()
    coords = {
        node: transform.apply(x * 1.0, y * 1.0) for node, (_n, x, y) in model.coordinates.items()
    }
    if not all(math.isfinite(v) for xy in coords.values() for v in xy):
        raise NetworkError(
            "transform_invalid",
            _("The transform gives coordinates that are not finite."),
            field="transform",
        )

    def point(node):
        return Point(*coords[node], srid=srid)

    def midpoint(n1, n2):
        (x1, y1), (x2, y2) = coords[n1], coords[n2]
        return Point((x1 + x2) / 2, (y1 + y2) / 2, srid=srid)

    errors = []
    # Every row is built and checked before anything is written: a value that does not fit its
    # column is reported with its line, like a syntax error, instead of failing the insert.
    rows: dict[type, list] = {
        Junction: [
            (
                n,
                Junction(
                    code=i,
                    geom=point(i),
                    elevation_m=_dec(e * metre),
                    demand_lps=_dec(d * demand, 4),
                ),
            )
            for i, (n, e, d) in model.junctions.items()
        ],
        Source: [
            (n, Source(code=i, geom=point(i), kind=SourceKind.RESERVOIR, head_m=_dec(h * metre)))
            for i, (n, h) in model.reservoirs.items()
        ],
        Tank: [
            (
                n,
                Tank(
                    code=i,
                    geom=point(i),
                    elevation_m=_dec(e * metre),
                    init_level_m=_dec(li * metre),
                    min_level_m=_dec(lo * metre),
                    max_level_m=_dec(hi * metre),
                    diameter_m=_dec(dm * metre),
                ),
            )
            for i, (n, e, li, lo, hi, dm) in model.tanks.items()
        ],
        Pipe: [],
        Pump: [
            (n, Pump(code=i, geom=midpoint(a, b), epanet_node1=a, epanet_node2=b, epanet_params=p))
            for i, (n, a, b, p) in model.pumps.items()
        ],
        Valve: [
            (
                n,
                Valve(
                    code=i,
                    geom=midpoint(a, b),
                    diameter_mm=round(dm * mm),
                    epanet_type=t,
                    epanet_setting=s,
                    epanet_node1=a,
                    epanet_node2=b,
                ),
            )
            for i, (n, a, b, dm, t, s) in model.valves.items()
        ],
    }
    for ident, (n, n1, n2, _length, diam, rough) in model.pipes.items():
        path = (
            [coords[n1]]
            + [transform.apply(x, y) for _l, x, y in model.vertices.get(ident, [])]
            + [coords[n2]]
        )
        geom = LineString(path, srid=srid)
        if not geom.valid or geom.length == 0:
            errors.append(
                (
                    n,
                    _("pipe “%(id)s” has no length on the map (its nodes coincide).")
                    % {"id": ident},
                )
            )
            continue
        pipe = Pipe(code=ident, diameter_mm=round(diam * mm), roughness=_dec(rough), geom=geom)
        rows[Pipe].append((n, pipe))
    for items in rows.values():
        for n, obj in items:
            errors.extend((n, message) for message in _refusals(obj))
    # Ids already in the network (each kind keeps its codes unique).
    for model_class, items in (
        (Junction, model.junctions),
        (Source, model.reservoirs),
        (Tank, model.tanks),
        (Pipe, model.pipes),
        (Pump, model.pumps),
        (Valve, model.valves),
    ):
        for code in model_class.objects.filter(code__in=list(items)).values_list("code", flat=True):
            errors.append(
                (items[code][0], _("“%(id)s” already exists in the network.") % {"id": code})
            )
    if errors:
        raise EpanetError(sorted(errors))
    try:
        with transaction.atomic():
            for model_class, items in rows.items():
                model_class.objects.bulk_create((obj for _n, obj in items), batch_size=2000)
    except IntegrityError as exc:
        # Every value was checked above: what is left is a code another import wrote meanwhile.
        raise NetworkError(
            "inp_duplicate",
            _("An id in the file already exists in the network; nothing was imported (%(detail)s).")
            % {"detail": str(exc).splitlines()[0][:200]},
            field="file",
        ) from exc
    return {
        "junctions": len(model.junctions),
        "reservoirs": len(model.reservoirs),
        "tanks": len(model.tanks),
        "pipes": len(rows[Pipe]),
        "pumps": len(model.pumps),
        "valves": len(model.valves),
        "skipped_sections": sorted(model.skipped),
    }


def _fmt(value) -> str:
    return f"{float(value):.6f}".rstrip("0").rstrip(".") or "0"


def epanet_export(*, transform: Transform | None = None, title: str = "Caudal") -> str:
    """The network as ``.inp`` text (LPS, Hazen-Williams), coordinates through the inverse of
    ``transform`` (the one it was imported with gives the model's own coordinates back)."""
    transform = transform or Transform()
    transform.check()
    with connection.cursor() as cur:
        # Every in-service pipe end, and the named node (junction, reservoir, tank) there.
        cur.execute(
            """
            WITH nodes AS (
                SELECT code, geom FROM network_junction
                UNION ALL SELECT code, geom FROM network_source
                UNION ALL SELECT code, geom FROM network_tank
            ), ends AS (
                SELECT DISTINCT ST_SnapToGrid(ST_StartPoint(geom), %(snap)s) AS p FROM network_pipe
                 WHERE status = 'active'
                UNION
                SELECT ST_SnapToGrid(ST_EndPoint(geom), %(snap)s) FROM network_pipe
                 WHERE status = 'active'
            )
            SELECT ST_X(e.p), ST_Y(e.p), n.code
              FROM ends e
              LEFT JOIN LATERAL (SELECT code FROM nodes
                                  WHERE ST_DWithin(nodes.geom, e.p, %(snap)s)
                                  ORDER BY nodes.geom <-> e.p, code LIMIT 1) n ON true
            """,
            {"snap": ENDPOINT_SNAP_M},
        )
        end_name = {}
        for x, y, code in cur.fetchall():
            end_name[(round(x / ENDPOINT_SNAP_M), round(y / ENDPOINT_SNAP_M))] = code or (
                f"N{round(x * 100)}_{round(y * 100)}"
            )
        cur.execute(
            """SELECT code, ST_X(geom), ST_Y(geom), elevation_m, demand_lps FROM network_junction
                ORDER BY code"""
        )
        junctions = cur.fetchall()
        cur.execute(
            "SELECT code, ST_X(geom), ST_Y(geom), coalesce(head_m, 0) FROM network_source ORDER BY code"
        )
        reservoirs = cur.fetchall()
        cur.execute(
            """SELECT code, ST_X(geom), ST_Y(geom), elevation_m, init_level_m, min_level_m,
                      max_level_m, diameter_m FROM network_tank ORDER BY code"""
        )
        tanks = cur.fetchall()
        cur.execute(
            """SELECT code, diameter_mm, roughness, ST_Length(geom),
                      (SELECT array_agg(ARRAY[ST_X(d.geom), ST_Y(d.geom)] ORDER BY d.path)
                         FROM ST_DumpPoints(geom) d)
                 FROM network_pipe WHERE status = 'active' ORDER BY code"""
        )
        pipes = cur.fetchall()
        cur.execute(
            "SELECT code, epanet_node1, epanet_node2, epanet_params FROM network_pump "
            "WHERE epanet_node1 <> '' ORDER BY code"
        )
        pumps = cur.fetchall()
        cur.execute(
            """SELECT code, epanet_node1, epanet_node2, diameter_mm, epanet_type, epanet_setting
                 FROM network_valve WHERE epanet_node1 <> '' ORDER BY code"""
        )
        valves = cur.fetchall()

    def name_at(x, y):
        return end_name[(round(x / ENDPOINT_SNAP_M), round(y / ENDPOINT_SNAP_M))]

    def snapped(x, y):
        return round(x / ENDPOINT_SNAP_M) * ENDPOINT_SNAP_M, round(
            y / ENDPOINT_SNAP_M
        ) * ENDPOINT_SNAP_M

    named = {j[0] for j in junctions} | {r[0] for r in reservoirs} | {t[0] for t in tanks}
    out = io.StringIO()
    w = out.write
    w(f"[TITLE]\n{title}\n\n[OPTIONS]\n Units LPS\n Headloss H-W\n\n[JUNCTIONS]\n")
    w(";ID Elev Demand\n")
    coordinates = []
    for code, x, y, elev, demand in junctions:
        w(f" {code} {_fmt(elev)} {_fmt(demand)}\n")
        coordinates.append((code, x, y))
    extra = {}
    for *_p, points in pipes:
        for x, y in (points[0], points[-1]):
            name = name_at(*snapped(x, y))
            if name not in named and name not in extra:
                extra[name] = (x, y)
    for name, (x, y) in sorted(extra.items()):
        w(f" {name} 0 0\n")
        coordinates.append((name, x, y))
    w("\n[RESERVOIRS]\n;ID Head\n")
    for code, x, y, head in reservoirs:
        w(f" {code} {_fmt(head)}\n")
        coordinates.append((code, x, y))
    w("\n[TANKS]\n;ID Elev InitLvl MinLvl MaxLvl Diam MinVol\n")
    for code, x, y, elev, init, lo, hi, diam in tanks:
        w(f" {code} {_fmt(elev)} {_fmt(init)} {_fmt(lo)} {_fmt(hi)} {_fmt(diam)} 0\n")
        coordinates.append((code, x, y))
    w("\n[PIPES]\n;ID Node1 Node2 Length Diameter Roughness MinorLoss Status\n")
    vertices = []
    for code, diam, rough, length, points in pipes:
        n1, n2 = name_at(*snapped(*points[0])), name_at(*snapped(*points[-1]))
        w(f" {code} {n1} {n2} {length:.2f} {diam} {_fmt(rough)} 0 Open\n")
        vertices += [(code, x, y) for x, y in points[1:-1]]
    w("\n[PUMPS]\n;ID Node1 Node2 Parameters\n")
    for code, a, b, params in pumps:
        w(f" {code} {a} {b} {params}\n")
    w("\n[VALVES]\n;ID Node1 Node2 Diameter Type Setting MinorLoss\n")
    for code, a, b, diam, kind, setting in valves:
        w(f" {code} {a} {b} {diam} {kind} {setting} 0\n")
    w("\n[COORDINATES]\n;Node X-Coord Y-Coord\n")
    for code, x, y in coordinates:
        mx, my = transform.inverse(x, y)
        w(f" {code} {mx:.3f} {my:.3f}\n")
    w("\n[VERTICES]\n;Link X-Coord Y-Coord\n")
    for code, x, y in vertices:
        mx, my = transform.inverse(x, y)
        w(f" {code} {mx:.3f} {my:.3f}\n")
    w("\n[END]\n")
    return out.getvalue()
