"""The network graph: in-service pipes cut at their ends and at their valves, in SQL.

:func:`topology_build` replaces ``network_networkvertex`` / ``network_networkedge`` from the
pipes and valves in a few set-based statements (noded like ``routing.graph``, by
:func:`gis_core.graph.noded_graph_replace`):

1. cut points: every in-service pipe at fractions 0 and 1, and at ``ST_LineLocatePoint`` of
   every valve within ``VALVE_ON_PIPE_M`` of it;
2. the pieces between consecutive cut points become edges (``ST_LineSubstring``);
3. the pieces' end points, snapped to a grid of ``SNAP_M`` metres, become the vertices (pipes
   meeting at a junction share one); each vertex takes the nearest valve within
   ``VALVE_ON_PIPE_M``.

So **valves split pipes and sit on vertices**: the isolation trace decides at vertices only.
Pipes are expected to be noded where they connect (a pipe that runs through a crossing without
ending there is not connected to it: the validation report lists such ends as dangles).
Abandoned and planned pipes are not in the graph.

:func:`topology_ensure` rebuilds when pipes or valves changed since the last build (a counter
bumped by statement triggers, migration 0002: checking costs one row read), so callers never
trace on a stale graph. The first trace after an edit pays for the rebuild (seconds on a city's
network); the demo leaves a built graph, an EPANET import does not (the rebuild endpoint, or
the first trace, builds it).
"""

import time

from django.db import connection, transaction

from gis_core.graph import noded_graph_replace

SNAP_M = 0.05
VALVE_ON_PIPE_M = 0.5
MIN_PIECE_M = 0.01

# One row (migration 0002): ``generation`` is bumped by a statement trigger on every write to
# the pipes (insert, delete, geometry or status) and valves (insert, delete, geometry);
# ``built_generation`` is the generation the graph was built from.
_STATE_TABLE = "network_topology_state"


def topology_build() -> dict:
    """Rebuild the graph from the pipes and valves (one transaction). Returns the counts
    ``{"vertices", "edges", "seconds"}``. Raises nothing: no pipes, an empty graph."""
    started = time.perf_counter()
    params = {"snap": SNAP_M, "tol": VALVE_ON_PIPE_M, "min": MIN_PIECE_M}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('network.topology_build'))")
        # Read before reading the pipes: a write committed during the build bumps it again.
        cur.execute(f"SELECT generation FROM {_STATE_TABLE} WHERE id = 1")  # noqa: S608
        generation = cur.fetchone()[0]
        cur.execute("DROP TABLE IF EXISTS net_piece")
        cur.execute(
            """
            CREATE TEMP TABLE net_piece ON COMMIT DROP AS
            WITH cut AS (
                SELECT id AS pipe_id, 0::float8 AS f FROM network_pipe WHERE status = 'active'
                UNION
                SELECT id, 1::float8 FROM network_pipe WHERE status = 'active'
                UNION
                SELECT p.id, ST_LineLocatePoint(p.geom, v.geom)
                  FROM network_valve v
                  JOIN network_pipe p ON p.status = 'active' AND ST_DWithin(p.geom, v.geom, %(tol)s)
            ), seq AS (
                SELECT pipe_id, f, lead(f) OVER (PARTITION BY pipe_id ORDER BY f) AS f2 FROM cut
            )
            SELECT s.pipe_id, s.f, s.f2, ST_LineSubstring(p.geom, s.f, s.f2) AS geom
              FROM seq s JOIN network_pipe p ON p.id = s.pipe_id
             WHERE s.f2 IS NOT NULL AND (s.f2 - s.f) * ST_Length(p.geom) >= %(min)s
            """,
            params,
        )
        vertices, edges = noded_graph_replace(
            cur,
            lines="net_piece",
            vertex_table="network_networkvertex",
            edge_table="network_networkedge",
            edge_columns={
                "pipe_id": "l.pipe_id",
                "frac_from": "l.f",
                "frac_to": "l.f2",
                "length_m": "ST_Length(l.geom)",
            },
            snap=SNAP_M,
        )
        cur.execute("DROP TABLE net_piece")
        cur.execute(
            """
            UPDATE network_networkvertex x SET valve_id = nv.id
              FROM (SELECT DISTINCT ON (x2.id) x2.id AS vertex_id, v.id
                      FROM network_valve v
                      JOIN network_networkvertex x2 ON ST_DWithin(x2.geom, v.geom, %(tol)s)
                     ORDER BY x2.id, ST_Distance(x2.geom, v.geom), v.id) nv
             WHERE x.id = nv.vertex_id
            """,
            params,
        )
        # Again: the statistics taken while noding saw no valve on any vertex.
        cur.execute("ANALYZE network_networkvertex")
        cur.execute(
            f"UPDATE {_STATE_TABLE} SET built_generation = %s WHERE id = 1",  # noqa: S608
            [generation],
        )
    return {"vertices": vertices, "edges": edges, "seconds": time.perf_counter() - started}


def topology_is_current() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT built_generation IS NOT DISTINCT FROM generation FROM {_STATE_TABLE}"  # noqa: S608
        )
        return cur.fetchone()[0]


def topology_ensure() -> bool:
    """Build the graph if it is missing or stale; True when it was (re)built."""
    if topology_is_current():
        return False
    topology_build()
    return True
