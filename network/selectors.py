"""Reads of the water network: the isolation trace, the topology report, feasibility, and the
districts the closed valves make. Set-based SQL over the graph (``network.topology``): a
recursive query or a pgRouting function does in one statement what Python would do per edge.
"""

from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection, transaction
from django.utils.translation import gettext as _

from gis_core.sql import ewkb, fetchall, fetchone, geos
from gis_core.srid import to_storage_point
from network.models import NetworkError
from network.topology import topology_ensure

# How far from a pipe a break point may be clicked (m).
TRACE_SNAP_M = 25.0
# Connections farther than this from every pipe are reported (m).
CONNECTION_MAX_M = 5.0
# Feasibility looks this far for a main (m).
FEASIBILITY_MAX_M = 500.0


def storage_point(point, *, field_name: str = "point") -> Point:
    """``point`` in the storage SRID (see :func:`gis_core.srid.to_storage_point`)."""
    return to_storage_point(point, error=NetworkError, field=field_name)


# --- isolation trace ---------------------------------------------------------------------------


@dataclass
class IsolationTrace:
    pipe_id: int
    edge_id: int
    break_point: Point
    valves: list[int]  # valves to close (operable, open, on the boundary of the section)
    passed_valves: list[int]  # inoperable open valves the section extends past
    closed_valves: list[int]  # valves already closed on its boundary
    pipes: list[int]  # pipes with at least one isolated piece
    edges: list[int]
    accounts: list[int]
    geom: GEOSGeometry | None = None
    unbounded: bool = False  # no valve stops it: the section reaches a network end
    extra: dict = field(default_factory=dict)


# A vertex is a barrier when its valve is operable and open (we close it) or already closed.
# Checked per reached vertex through the primary keys (a CTE of every barrier would be
# materialized: a scan of every valve per trace, linear in the network).
_BARRIER = """EXISTS (SELECT 1 FROM network_networkvertex bx
                        JOIN network_valve bv ON bv.id = bx.valve_id
                       WHERE bx.id = {vid} AND (bv.operable OR bv.current_status = 'closed'))"""
_TRACE_SQL = f"""
WITH RECURSIVE
reach(vid) AS (
    SELECT source FROM network_networkedge WHERE id = %(edge)s
    UNION
    SELECT target FROM network_networkedge WHERE id = %(edge)s
    UNION
    SELECT CASE WHEN e.source = r.vid THEN e.target ELSE e.source END
      FROM reach r
      JOIN network_networkedge e ON e.source = r.vid OR e.target = r.vid
     WHERE NOT {_BARRIER.format(vid="r.vid")}
),
inside AS (  -- reached vertices the section flows through (not stopped at)
    SELECT vid FROM reach WHERE NOT {_BARRIER.format(vid="reach.vid")}
),
edges AS (
    SELECT id, pipe_id, frac_from, frac_to, geom FROM network_networkedge WHERE id = %(edge)s
    UNION
    SELECT e.id, e.pipe_id, e.frac_from, e.frac_to, e.geom
      FROM inside i JOIN network_networkedge e ON e.source = i.vid
    UNION
    SELECT e.id, e.pipe_id, e.frac_from, e.frac_to, e.geom
      FROM inside i JOIN network_networkedge e ON e.target = i.vid
),
stops AS (  -- barrier vertices reached, with whether any of their edges lies outside
    SELECT r.vid, x.valve_id, v.operable, v.current_status,
           EXISTS (SELECT 1 FROM network_networkedge e
                    WHERE (e.source = r.vid OR e.target = r.vid)
                      AND e.id NOT IN (SELECT id FROM edges)) AS has_outside
      FROM reach r
      JOIN network_networkvertex x ON x.id = r.vid
      JOIN network_valve v ON v.id = x.valve_id
),
accounts AS (  -- per isolated edge through the pipe index; OFFSET 0 keeps the planner from
               -- flattening it into a hash join over every connection of the city
    SELECT DISTINCT c.account_id
      FROM edges e
     CROSS JOIN LATERAL (
           SELECT c.account_id, ST_LineLocatePoint(p.geom, c.geom) AS f
             FROM network_serviceconnection c JOIN network_pipe p ON p.id = c.pipe_id
            WHERE c.pipe_id = e.pipe_id OFFSET 0) c
     WHERE c.f BETWEEN e.frac_from AND e.frac_to
)
SELECT
    (SELECT coalesce(array_agg(valve_id ORDER BY valve_id), ARRAY[]::bigint[]) FROM stops
      WHERE operable AND current_status = 'open' AND has_outside),
    (SELECT coalesce(array_agg(v.id ORDER BY v.id), ARRAY[]::bigint[])
       FROM inside i JOIN network_networkvertex x ON x.id = i.vid
       JOIN network_valve v ON v.id = x.valve_id
      WHERE NOT v.operable AND v.current_status = 'open'),
    (SELECT coalesce(array_agg(valve_id ORDER BY valve_id), ARRAY[]::bigint[]) FROM stops
      WHERE current_status = 'closed' AND has_outside),
    (SELECT coalesce(array_agg(DISTINCT pipe_id ORDER BY pipe_id), ARRAY[]::bigint[]) FROM edges),
    (SELECT coalesce(array_agg(id ORDER BY id), ARRAY[]::bigint[]) FROM edges),
    (SELECT coalesce(array_agg(account_id ORDER BY account_id), ARRAY[]::bigint[]) FROM accounts),
    (SELECT ST_AsEWKB(ST_Multi(ST_Collect(geom))) FROM edges),
    (SELECT count(*) FROM inside i
       JOIN network_networkedge e ON e.source = i.vid OR e.target = i.vid
      GROUP BY i.vid HAVING count(*) = 1 LIMIT 1)
"""  # noqa: S608 (constant fragments only)


def _break_edge(point: Point, pipe_id: int | None):
    """The graph edge the break lies on and the break snapped onto it."""
    if pipe_id is not None:
        row = fetchone(
            """SELECT e.id, e.pipe_id, ST_AsEWKB(ST_ClosestPoint(e.geom, %(p)s))
                 FROM network_networkedge e WHERE e.pipe_id = %(pipe)s
                ORDER BY e.geom <-> %(p)s, e.id LIMIT 1""",
            {"p": ewkb(point), "pipe": pipe_id},
        )
        if row is None:
            raise NetworkError(
                "pipe_not_in_service",
                _("Pipe %(pipe)s is not in service or not in the network graph.")
                % {"pipe": pipe_id},
                field="pipe",
            )
        return row
    row = fetchone(
        """SELECT e.id, e.pipe_id, ST_AsEWKB(ST_ClosestPoint(e.geom, %(p)s))
             FROM network_networkedge e
            WHERE ST_DWithin(e.geom, %(p)s, %(tol)s)
            ORDER BY e.geom <-> %(p)s, e.id LIMIT 1""",
        {"p": ewkb(point), "tol": TRACE_SNAP_M},
    )
    if row is None:
        raise NetworkError(
            "no_pipe_near",
            _("No pipe in service within %(m)s m of the break point; click on a pipe.")
            % {"m": int(TRACE_SNAP_M)},
            field="point",
            where=point,
        )
    return row


def isolation_trace(*, point, pipe_id: int | None = None, ensure: bool = True) -> IsolationTrace:
    """The section to isolate for a break at ``point`` (on ``pipe_id`` when given, else on the
    nearest pipe within ``TRACE_SNAP_M``).

    A breadth-first search over the graph from the two ends of the broken piece (a recursive
    query): it stops at a vertex whose valve is operable and open (that valve is to be closed)
    or already closed, and passes through a vertex whose valve is inoperable (the section
    extends beyond it). Of the valves it stops at, those with every edge inside the section (a
    loop reaching a valve from both sides) need not be closed and are left out, so the set is
    minimal for the graph. Affected accounts are those whose connection lies on an isolated
    piece. Raises ``NetworkError`` for a point far from every pipe.
    """
    point = storage_point(point)
    if ensure:
        topology_ensure()
    edge_id, pipe, snapped = _break_edge(point, pipe_id)
    row = fetchone(_TRACE_SQL, {"edge": edge_id})
    valves, passed, closed, pipes, edges, accounts, geom, dangle = row
    return IsolationTrace(
        pipe_id=pipe,
        edge_id=edge_id,
        break_point=geos(snapped),
        valves=list(valves),
        passed_valves=list(passed),
        closed_valves=list(closed),
        pipes=list(pipes),
        edges=list(edges),
        accounts=list(accounts),
        geom=geos(geom),
        unbounded=dangle is not None,
    )


# --- topology report ---------------------------------------------------------------------------


def topology_report(*, connection_max_m: float = CONNECTION_MAX_M, ensure: bool = True) -> dict:
    """What is wrong with the network's topology, as lists of findings:

    - ``dangles``: graph vertices with one edge that are not at a tank, source, pump or hydrant,
      with ``gap_m``, the distance to the nearest other pipe (a small gap is a digitizing error);
    - ``parts``: connected parts of the graph other than the largest (``pgr_connectedComponents``);
    - ``overlaps``: pairs of pipes sharing a stretch of line (``overlap_m`` long);
    - ``far_connections``: service connections farther than ``connection_max_m`` from every pipe;
    - ``valves_off_network``: valves on no in-service pipe.
    """
    if ensure:
        topology_ensure()
    dangles = fetchall(
        """
        WITH deg AS (
            SELECT vid, count(*) AS n, min(pipe_id) AS pipe_id
              FROM (SELECT source AS vid, pipe_id FROM network_networkedge
                    UNION ALL SELECT target, pipe_id FROM network_networkedge) s
             GROUP BY vid
        )
        SELECT x.id, d.pipe_id, ST_X(x.geom), ST_Y(x.geom),
               (SELECT round(ST_Distance(p.geom, x.geom)::numeric, 2) FROM network_pipe p
                 WHERE p.status = 'active' AND p.id <> d.pipe_id
                 ORDER BY p.geom <-> x.geom LIMIT 1)
          FROM deg d JOIN network_networkvertex x ON x.id = d.vid
         WHERE d.n = 1
           AND NOT EXISTS (SELECT 1 FROM network_tank t WHERE ST_DWithin(t.geom, x.geom, 1))
           AND NOT EXISTS (SELECT 1 FROM network_source s WHERE ST_DWithin(s.geom, x.geom, 1))
           AND NOT EXISTS (SELECT 1 FROM network_pump s WHERE ST_DWithin(s.geom, x.geom, 1))
           AND NOT EXISTS (SELECT 1 FROM network_hydrant h WHERE ST_DWithin(h.geom, x.geom, 1))
         ORDER BY x.id
        """,
        {},
    )
    parts = fetchall(
        """
        WITH cc AS (
            SELECT component, node FROM pgr_connectedComponents(
                'SELECT id, source, target, length_m AS cost, length_m AS reverse_cost
                   FROM network_networkedge')
        ), ce AS (
            SELECT cc.component, e.id, e.pipe_id, e.length_m
              FROM cc JOIN network_networkedge e ON e.source = cc.node
        ), sized AS (
            SELECT component, array_agg(DISTINCT pipe_id ORDER BY pipe_id) AS pipes,
                   sum(length_m) AS length_m
              FROM ce GROUP BY component
        )
        SELECT component, pipes, round(length_m::numeric, 2)
          FROM sized
         ORDER BY length_m DESC, component
        OFFSET 1
        """,
        {},
    )
    overlaps = fetchall(
        """
        SELECT a.id, b.id, round(ST_Length(ST_CollectionExtract(
                   ST_Intersection(a.geom, b.geom), 2))::numeric, 2) AS m
          FROM network_pipe a JOIN network_pipe b
            ON a.id < b.id AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '1********')
         WHERE a.status = 'active' AND b.status = 'active'
         ORDER BY a.id, b.id
        """,
        {},
    )
    far = fetchall(
        """
        SELECT c.id, c.account_id, round(d.m::numeric, 2)
          FROM network_serviceconnection c
         CROSS JOIN LATERAL (
               SELECT ST_Distance(p.geom, c.geom) AS m FROM network_pipe p
                WHERE p.status = 'active' ORDER BY p.geom <-> c.geom LIMIT 1) d
         WHERE d.m > %(max)s
         ORDER BY c.id
        """,
        {"max": connection_max_m},
    )
    off = fetchall(
        """
        SELECT v.id FROM network_valve v
         WHERE NOT EXISTS (SELECT 1 FROM network_networkvertex x WHERE x.valve_id = v.id)
         ORDER BY v.id
        """,
        {},
    )
    return {
        "dangles": [
            {"vertex": r[0], "pipe": r[1], "x": r[2], "y": r[3], "gap_m": r[4]} for r in dangles
        ],
        "parts": [{"pipes": list(r[1]), "length_m": r[2]} for r in parts],
        "overlaps": [{"pipes": [r[0], r[1]], "overlap_m": r[2]} for r in overlaps],
        "far_connections": [{"connection": r[0], "account": r[1], "distance_m": r[2]} for r in far],
        "valves_off_network": [r[0] for r in off],
    }


# --- feasibility -------------------------------------------------------------------------------


def feasibility(*, point, max_m: float = FEASIBILITY_MAX_M) -> dict:
    """The nearest in-service water main and sewer to ``point`` within ``max_m``: each
    ``{"id", "code", "distance_m", "diameter_mm", "material"}`` or None."""
    point = storage_point(point)
    result = {}
    for key, table in (("water", "network_pipe"), ("sewer", "network_sewerpipe")):
        row = fetchone(
            f"""SELECT id, code, round(ST_Distance(geom, %(p)s)::numeric, 2), diameter_mm, material
                  FROM {table}
                 WHERE status = 'active' AND ST_DWithin(geom, %(p)s, %(max)s)
                 ORDER BY geom <-> %(p)s, id LIMIT 1""",  # noqa: S608
            {"p": ewkb(point), "max": max_m},
        )
        result[key] = (
            None
            if row is None
            else {
                "id": row[0],
                "code": row[1],
                "distance_m": row[2],
                "diameter_mm": row[3],
                "material": row[4],
            }
        )
    return result


# --- districts from the network ----------------------------------------------------------------


def district_report(*, min_share: float = 0.02, ensure: bool = True) -> dict:
    """Hydraulic areas bounded by closed valves, compared with the ``sectors.Dma`` polygons.

    The graph is cut at every vertex with a closed valve (each edge keeps its own copy of that
    end), and ``pgr_connectedComponents`` gives the areas. Each area's pipe length is split by
    the DMA its pieces' midpoints lie in. Findings:

    - ``areas``: every area with its length per DMA code (``None``: outside every DMA);
    - ``mixed_areas``: areas whose second DMA holds more than ``min_share`` of their length
      (a boundary valve is missing or open where the districts say it should be closed);
    - ``split_dmas``: DMAs spread over more than one area, each over ``min_share`` of the DMA's
      length (a boundary valve closed inside a district, or a district fed through no pipe).
    """
    if ensure:
        topology_ensure()
    with transaction.atomic(), connection.cursor() as cur:
        # The cut graph: an end at a closed valve gets an id of its own (negative, per edge).
        cur.execute(
            """
            CREATE TEMP TABLE net_cutedge ON COMMIT DROP AS
            SELECT e.id,
                   CASE WHEN vs.id IS NULL THEN e.source ELSE -2 * e.id END AS source,
                   CASE WHEN vt.id IS NULL THEN e.target ELSE -2 * e.id - 1 END AS target,
                   e.length_m AS cost
              FROM network_networkedge e
              JOIN network_networkvertex xs ON xs.id = e.source
              JOIN network_networkvertex xt ON xt.id = e.target
              LEFT JOIN network_valve vs ON vs.id = xs.valve_id AND vs.current_status = 'closed'
              LEFT JOIN network_valve vt ON vt.id = xt.valve_id AND vt.current_status = 'closed'
            """
        )
        cur.execute(
            """
            WITH cc AS (
                SELECT component, node FROM pgr_connectedComponents(
                    'SELECT id, source, target, cost, cost AS reverse_cost FROM net_cutedge')
            ), area_edge AS (
                SELECT DISTINCT cc.component, c.id FROM cc JOIN net_cutedge c ON c.source = cc.node
            )
            SELECT ae.component, d.code, round(sum(e.length_m)::numeric, 2)
              FROM area_edge ae
              JOIN network_networkedge e ON e.id = ae.id
              LEFT JOIN sectors_dma d
                ON ST_Intersects(d.geom, ST_LineInterpolatePoint(e.geom, 0.5))
             GROUP BY ae.component, d.code
             ORDER BY ae.component, d.code
            """
        )
        rows = cur.fetchall()
        cur.execute("DROP TABLE net_cutedge")
    areas: dict[int, dict] = {}
    for component, code, length in rows:
        areas.setdefault(component, {})[code] = float(length)
    numbered = [
        {"area": n, "dmas": lengths, "length_m": round(sum(lengths.values()), 2)}
        for n, (_c, lengths) in enumerate(
            sorted(areas.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])), start=1
        )
    ]
    mixed = []
    dma_areas: dict[str, dict[int, float]] = {}
    for area in numbered:
        shares = sorted(area["dmas"].values(), reverse=True)
        if len(shares) > 1 and shares[1] > min_share * area["length_m"]:
            mixed.append(area["area"])
        for code, length in area["dmas"].items():
            if code is not None:
                dma_areas.setdefault(code, {})[area["area"]] = length
    split = []
    for code, per_area in sorted(dma_areas.items()):
        total = sum(per_area.values())
        big = [a for a, length in per_area.items() if length > min_share * total]
        if len(big) > 1:
            split.append({"dma": code, "areas": sorted(big)})
    return {"areas": numbered, "mixed_areas": mixed, "split_dmas": split}
