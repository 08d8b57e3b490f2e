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

:func:`topology_ensure` brings the graph up to date when pipes or valves changed since it was
built (a counter bumped by statement triggers, migration 0002: checking costs one row read), so
callers never trace on a stale graph. It calls :func:`topology_update`, which, under the build's
advisory lock and in one transaction, either rebuilds whole or updates incrementally:

- **What changed** is logged by statement triggers with transition tables (migration 0003) in
  ``network_topology_change``: a row per inserted, deleted or reshaped pipe (or one whose status
  changed) and per inserted, deleted or moved valve, with its *old* geometry; a statement of
  more than 5000 rows, or a TRUNCATE, logs one marker row instead (rebuild whole), so a bulk
  import stays one set-based statement. The update consumes the log with one
  ``DELETE … RETURNING`` after reading the generation and before reading any pipe: a write
  committed meanwhile keeps its rows for the next update and bumps the generation again.
- **Incremental** when the graph was built before, no marker row is pending and at most
  ``max(INCREMENTAL_MAX_CHANGES, INCREMENTAL_MAX_SHARE * pipes)`` pipes and valves changed
  (otherwise :func:`topology_build`, which also clears the log). The affected pipes are the
  changed ones and those within ``VALVE_ON_PIPE_M`` of a changed valve's old or new place; no
  other pipe's cut points can change. Their edges are deleted and their pieces recomputed by
  the same SQL as the full build (same cut rule, same ``SNAP_M`` grid); a piece end reuses the
  vertex at its snapped point or numbers a new one after the highest id; vertices left without
  edges are deleted (unless some pipe still ends an edgeless piece there, as the full build
  would keep them); the new vertices and those near a changed valve take their nearest valve
  again. The result equals a full rebuild's up to vertex and edge ids (pinned by
  ``tests/network/test_topology_incremental.py``); a single edit costs tens of ms on a
  15k-pipe network against seconds for the rebuild (``bench/topology.py``).

The graph is derived: neither path records history of the vertex and edge tables. The demo
leaves a built graph, an EPANET import does not (the rebuild endpoint, or the first trace,
builds it).
"""

import time

import pgtrigger
from django.db import connection, transaction

from gis_core.graph import noded_graph_replace

SNAP_M = 0.05
VALVE_ON_PIPE_M = 0.5
MIN_PIECE_M = 0.01

# The incremental update is taken when at most this many pipes and valves changed, or this
# share of the pipes (whichever is larger): its cost grows with the change, the full rebuild's
# with the network, and past a few percent of the network one set-based rebuild is as cheap as
# many index probes (and gives fresh statistics).
INCREMENTAL_MAX_CHANGES = 200
INCREMENTAL_MAX_SHARE = 0.02

# One row (migration 0002): ``generation`` is bumped by a statement trigger on every write to
# the pipes (insert, delete, geometry or status) and valves (insert, delete, geometry);
# ``built_generation`` is the generation the graph was built from.
_STATE_TABLE = "network_topology_state"
# What changed since (migration 0003): a row per changed pipe or valve with its old geometry,
# or a row with both ids null (a bulk write or a truncate) that asks for a full rebuild.
_CHANGE_TABLE = "network_topology_change"
_SCRATCH = (
    "net_change",
    "net_vpos",
    "net_aff",
    "net_cand",
    "net_piece",
    "net_pt",
    "net_new",
    "net_orphan",
    "net_piece_near",
    "net_touch",
)
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('network.topology_build'))"

# The pieces of the in-service pipes that ``{only}`` admits: cut at 0, 1 and every valve within
# VALVE_ON_PIPE_M; pieces shorter than MIN_PIECE_M dropped. One text for both paths, so the
# incremental update cuts exactly as the full build does.
_PIECES_SQL = """
CREATE TEMP TABLE {table} ON COMMIT DROP AS
WITH pick AS (
    SELECT id, geom FROM network_pipe p WHERE p.status = 'active' AND ({only})
), cut AS (
    SELECT id AS pipe_id, 0::float8 AS f FROM pick
    UNION
    SELECT id, 1::float8 FROM pick
    UNION
    SELECT p.id, ST_LineLocatePoint(p.geom, v.geom)
      FROM network_valve v JOIN pick p ON ST_DWithin(p.geom, v.geom, %(tol)s)
), seq AS (
    SELECT pipe_id, f, lead(f) OVER (PARTITION BY pipe_id ORDER BY f) AS f2 FROM cut
)
SELECT s.pipe_id, s.f, s.f2, ST_LineSubstring(p.geom, s.f, s.f2) AS geom
  FROM seq s JOIN pick p ON p.id = s.pipe_id
 WHERE s.f2 IS NOT NULL AND (s.f2 - s.f) * ST_Length(p.geom) >= %(min)s
"""

# The nearest valve within VALVE_ON_PIPE_M of each vertex of ``{vertices}`` (ties: lowest id).
_VALVE_SQL = """
UPDATE network_networkvertex x SET valve_id = nv.id
  FROM (SELECT DISTINCT ON (x2.id) x2.id AS vertex_id, v.id
          FROM network_valve v
          JOIN network_networkvertex x2 ON ST_DWithin(x2.geom, v.geom, %(tol)s)
         WHERE {vertices}
         ORDER BY x2.id, ST_Distance(x2.geom, v.geom), v.id) nv
 WHERE x.id = nv.vertex_id AND x.valve_id IS DISTINCT FROM nv.id
"""


def _params() -> dict:
    return {"snap": SNAP_M, "tol": VALVE_ON_PIPE_M, "min": MIN_PIECE_M}


def _pieces(cur, *, table: str, only: str) -> None:
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(_PIECES_SQL.format(table=table, only=only), _params())


def _graph_history_off(cur) -> str | None:
    """Switch off the graph tables' history triggers for the rest of the transaction; returns
    the setting to restore. The graph is derived from the pipes and valves, whose history is
    kept: a snapshot of every replaced edge tells nobody anything (the full build's TRUNCATE
    fires none either). ``pgtrigger.ignore`` cannot be used here: it prepends a positional
    parameter to every statement, and these statements take named ones."""
    from network.models import NetworkEdge, NetworkVertex

    ids = []
    for model, trigger in pgtrigger.registered():
        if model in (NetworkEdge, NetworkVertex):
            pgid = trigger.get_pgid(model)
            ids += [pgid, f"{model._meta.db_table}:{pgid}"]
    cur.execute("SELECT current_setting('pgtrigger.ignore', true)")
    previous = cur.fetchone()[0]
    cur.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(ids) + "}"])
    return previous


def _graph_history_on(cur, previous: str | None) -> None:
    cur.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [previous or ""])


def _begin(cur) -> tuple[int, int | None]:
    """Take the lock; return the generation and the generation the graph was built from."""
    cur.execute(_LOCK)
    _drop_scratch(cur)
    cur.execute(f"SELECT generation, built_generation FROM {_STATE_TABLE} WHERE id = 1")  # noqa: S608
    return cur.fetchone()


def _consume(cur) -> None:
    """Move the change log into ``net_change``: after the generation was read, before any pipe is.

    The order matters: a write committed after the generation was read bumps it again (the
    next ensure sees a stale graph) and its log rows, committed after this DELETE's snapshot,
    stay for that next ensure; rows this DELETE sees belong to writes every later read of the
    pipes sees. The DELETE removes exactly the rows it returns; a rollback puts them back."""
    cur.execute(
        "CREATE TEMP TABLE net_change (pipe_id bigint, valve_id bigint, geom geometry)"
        " ON COMMIT DROP"
    )
    cur.execute(
        f"""WITH d AS (DELETE FROM {_CHANGE_TABLE} RETURNING pipe_id, valve_id, geom)
            INSERT INTO net_change SELECT pipe_id, valve_id, geom FROM d"""  # noqa: S608
    )


def _drop_scratch(cur) -> None:
    # ON COMMIT DROP is not enough: called inside an outer transaction (a test, a service),
    # the scratch tables would outlive this update and clash with the next one.
    cur.execute(f"DROP TABLE IF EXISTS {', '.join(_SCRATCH)}")


def _finish(cur, generation: int) -> None:
    _drop_scratch(cur)
    cur.execute(
        f"UPDATE {_STATE_TABLE} SET built_generation = %s WHERE id = 1",  # noqa: S608
        [generation],
    )


def _build(cur) -> tuple[int, int]:
    """The full build, on the caller's cursor and transaction (lock taken, log consumed)."""
    params = _params()
    _pieces(cur, table="net_piece", only="TRUE")
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
    cur.execute(_VALVE_SQL.format(vertices="TRUE"), params)
    # Again: the statistics taken while noding saw no valve on any vertex.
    cur.execute("ANALYZE network_networkvertex")
    return vertices, edges


def topology_build() -> dict:
    """Rebuild the graph from the pipes and valves (one transaction) and clear the change log.
    Returns the counts ``{"vertices", "edges", "seconds"}``. Raises nothing: no pipes, an
    empty graph."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        generation, _built = _begin(cur)
        _consume(cur)
        previous = _graph_history_off(cur)
        vertices, edges = _build(cur)
        _graph_history_on(cur, previous)
        _finish(cur, generation)
    return {"vertices": vertices, "edges": edges, "seconds": time.perf_counter() - started}


def _update(cur) -> dict:
    """The incremental update of the graph around the changes in ``net_change`` (see the module
    docstring); on the caller's cursor and transaction. Returns what it touched."""
    params = _params()
    # These statements touch a handful of rows, but the planner's guesses for fresh scratch
    # tables and spatial joins are large enough to trigger JIT compilation: up to half a second
    # a statement, a hundred times the work itself. Local to this transaction.
    cur.execute("SELECT current_setting('jit')")
    jit = cur.fetchone()[0]
    cur.execute("SELECT set_config('jit', 'off', true)")
    # Where valves changed: their old places (from the log) and their new ones.
    cur.execute(
        """CREATE TEMP TABLE net_vpos ON COMMIT DROP AS
           SELECT geom FROM net_change WHERE valve_id IS NOT NULL AND geom IS NOT NULL
           UNION ALL
           SELECT v.geom FROM network_valve v
            WHERE v.id IN (SELECT valve_id FROM net_change WHERE valve_id IS NOT NULL)"""
    )
    # The pipes whose pieces may change: the changed ones and those a changed valve cuts (or
    # cut). Every other pipe keeps its cut points, hence its edges and their end vertices.
    cur.execute(
        """CREATE TEMP TABLE net_aff ON COMMIT DROP AS
           SELECT pipe_id FROM net_change WHERE pipe_id IS NOT NULL
           UNION
           SELECT p.id FROM net_vpos c JOIN network_pipe p ON ST_DWithin(p.geom, c.geom, %(tol)s)
        """,
        params,
    )
    # Fresh scratch tables have no statistics: without them the planner guesses a thousand
    # rows and hashes whole graph tables instead of probing their indexes (tens of ms each).
    cur.execute("ANALYZE net_aff")
    # Their old edges go; the vertices they ended at may be left without any.
    cur.execute("CREATE TEMP TABLE net_cand (id bigint) ON COMMIT DROP")
    cur.execute(
        """WITH d AS (DELETE FROM network_networkedge
                       WHERE pipe_id IN (SELECT pipe_id FROM net_aff) RETURNING source, target)
           INSERT INTO net_cand SELECT source FROM d UNION SELECT target FROM d"""
    )
    removed = cur.rowcount
    _pieces(cur, table="net_piece", only="p.id IN (SELECT pipe_id FROM net_aff)")
    cur.execute(
        """CREATE TEMP TABLE net_pt ON COMMIT DROP AS
           SELECT ST_SnapToGrid(ST_StartPoint(geom), %(snap)s) AS p FROM net_piece
           UNION
           SELECT ST_SnapToGrid(ST_EndPoint(geom), %(snap)s) FROM net_piece""",
        params,
    )
    cur.execute("ANALYZE net_piece")
    cur.execute("ANALYZE net_pt")
    # Vertex identity is the snapped point: reuse the vertex there, else number a new one
    # after the highest id (the full build's coordinate order only holds until an update).
    cur.execute("CREATE TEMP TABLE net_new (id bigint) ON COMMIT DROP")
    cur.execute(
        """WITH ins AS (
               INSERT INTO network_networkvertex (id, geom)
               SELECT top.id + row_number() OVER (ORDER BY ST_X(n.p), ST_Y(n.p)), n.p
                 FROM net_pt n
                CROSS JOIN (SELECT coalesce(max(id), 0) AS id FROM network_networkvertex) top
                WHERE NOT EXISTS (SELECT 1 FROM network_networkvertex x
                                   WHERE x.geom && n.p AND x.geom = n.p)
               RETURNING id)
           INSERT INTO net_new SELECT id FROM ins"""
    )
    added_vertices = cur.rowcount
    cur.execute(
        """INSERT INTO network_networkedge
               (pipe_id, frac_from, frac_to, length_m, source, target, geom)
           SELECT l.pipe_id, l.f, l.f2, ST_Length(l.geom), a.id, b.id, l.geom
             FROM net_piece l
            CROSS JOIN LATERAL ST_SnapToGrid(ST_StartPoint(l.geom), %(snap)s) sa
            CROSS JOIN LATERAL ST_SnapToGrid(ST_EndPoint(l.geom), %(snap)s) sb
             JOIN network_networkvertex a ON a.geom && sa AND a.geom = sa
             JOIN network_networkvertex b ON b.geom && sb AND b.geom = sb
            WHERE a.id <> b.id""",
        params,
    )
    added = cur.rowcount
    # Vertices that may have lost their last piece: the old ends of the removed edges, and any
    # vertex on the old or current line of an affected pipe (a piece whose ends snap together
    # makes a vertex but no edge).
    cur.execute(
        """INSERT INTO net_cand
           SELECT x.id FROM net_change c
             JOIN network_networkvertex x ON ST_DWithin(x.geom, c.geom, %(snap)s)
            WHERE c.pipe_id IS NOT NULL AND c.geom IS NOT NULL
           UNION
           SELECT x.id FROM net_aff a JOIN network_pipe p ON p.id = a.pipe_id
             JOIN network_networkvertex x ON ST_DWithin(x.geom, p.geom, %(snap)s)""",
        params,
    )
    cur.execute("ANALYZE net_cand")
    cur.execute(
        """CREATE TEMP TABLE net_orphan ON COMMIT DROP AS
           SELECT DISTINCT x.id, x.geom FROM net_cand c
             JOIN network_networkvertex x ON x.id = c.id
            WHERE NOT EXISTS (SELECT 1 FROM network_networkedge e WHERE e.source = x.id)
              AND NOT EXISTS (SELECT 1 FROM network_networkedge e WHERE e.target = x.id)
              AND NOT EXISTS (SELECT 1 FROM net_pt n WHERE n.p = x.geom)"""
    )
    deleted_vertices = 0
    if cur.rowcount:
        cur.execute("ANALYZE net_orphan")
        # Rare: an unaffected pipe may still end a piece there without an edge (a piece whose
        # ends snap together). Cut the few pipes through those points to know.
        _pieces(
            cur,
            table="net_piece_near",
            only="""p.id IN (SELECT p2.id FROM net_orphan o
                               JOIN network_pipe p2 ON ST_DWithin(p2.geom, o.geom, %(snap)s))""",
        )
        cur.execute(
            """DELETE FROM network_networkvertex x USING net_orphan o
                WHERE x.id = o.id
                  AND NOT EXISTS (
                      SELECT 1 FROM net_piece_near l
                       WHERE ST_SnapToGrid(ST_StartPoint(l.geom), %(snap)s) = o.geom
                          OR ST_SnapToGrid(ST_EndPoint(l.geom), %(snap)s) = o.geom)""",
            params,
        )
        deleted_vertices = cur.rowcount
    # Valves: the new vertices take theirs, and every vertex near a changed valve (old or new
    # place) is reassigned (to none if no valve is left near it); no other vertex's nearest
    # valve can have changed.
    cur.execute(
        """CREATE TEMP TABLE net_touch ON COMMIT DROP AS
           SELECT id FROM net_new
           UNION
           SELECT x.id FROM net_vpos c
             JOIN network_networkvertex x ON ST_DWithin(x.geom, c.geom, %(tol)s)""",
        params,
    )
    cur.execute("ANALYZE net_touch")
    cur.execute(
        """UPDATE network_networkvertex x SET valve_id = nv.valve_id
             FROM (SELECT t.id, (SELECT v.id FROM network_valve v
                                  WHERE ST_DWithin(v.geom, x2.geom, %(tol)s)
                                  ORDER BY ST_Distance(x2.geom, v.geom), v.id
                                  LIMIT 1) AS valve_id
                     FROM net_touch t JOIN network_networkvertex x2 ON x2.id = t.id) nv
            WHERE x.id = nv.id AND x.valve_id IS DISTINCT FROM nv.valve_id""",
        params,
    )
    cur.execute("SELECT set_config('jit', %s, true)", [jit])
    return {
        "pipes": _scalar(cur, "SELECT count(*) FROM net_aff"),
        "edges_removed": removed,
        "edges_added": added,
        "vertices_added": added_vertices,
        "vertices_removed": deleted_vertices,
    }


def _scalar(cur, sql: str):
    cur.execute(sql)
    return cur.fetchone()[0]


def topology_update() -> dict:
    """Bring the graph up to date (one transaction, under the build's lock): incrementally
    around the logged changes when the graph was built before and they are few (see
    ``INCREMENTAL_MAX_CHANGES``), else by the full build. Returns ``{"mode": "current" |
    "incremental" | "full", "changes", "seconds", …}`` with the counts of what it did. Raises
    nothing."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        generation, built = _begin(cur)
        if built == generation:
            # Another process brought it up to date while this one waited for the lock. The
            # log is left alone: rows there now belong to writes after that generation.
            return {"mode": "current", "changes": 0, "seconds": time.perf_counter() - started}
        _consume(cur)
        cur.execute(
            """SELECT bool_or(pipe_id IS NULL AND valve_id IS NULL),
                      count(DISTINCT pipe_id) + count(DISTINCT valve_id)
                 FROM net_change"""
        )
        rebuild, changes = cur.fetchone()
        limit = max(
            INCREMENTAL_MAX_CHANGES,
            INCREMENTAL_MAX_SHARE * _scalar(cur, "SELECT count(*) FROM network_pipe"),
        )
        previous = _graph_history_off(cur)
        if built is None or rebuild or changes > limit:
            vertices, edges = _build(cur)
            out = {"mode": "full", "vertices": vertices, "edges": edges}
        else:
            out = {"mode": "incremental", **_update(cur)}
        _graph_history_on(cur, previous)
        _finish(cur, generation)
    return {**out, "changes": changes, "seconds": time.perf_counter() - started}


def topology_is_current() -> bool:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT built_generation IS NOT DISTINCT FROM generation FROM {_STATE_TABLE}"  # noqa: S608
        )
        return cur.fetchone()[0]


def topology_ensure() -> bool:
    """Bring the graph up to date if it is missing or stale (:func:`topology_update`); True
    when it was updated or rebuilt."""
    if topology_is_current():
        return False
    return topology_update()["mode"] != "current"
