"""Noded line graphs for pgRouting, built in set-based SQL.

Caudal's two graphs — the streets (``routing.graph``) and the water network
(``network.topology``) — are noded the same way, and :func:`noded_graph_replace` is that one
way: the end points of every line, snapped to a grid of ``snap`` metres, become the vertices
(lines meeting at a crossing or a junction share one), numbered in the order of their
coordinates so that rebuilding the same lines gives the same ids; each line becomes an edge
between its two vertices. A line whose two ends snap to one vertex is left out (a loop carries
nothing between vertices). What the lines are — street segments as stored, pipe pieces cut at
valves — and when to rebuild stay with each app.
"""


def noded_graph_replace(
    cur,
    *,
    lines: str,
    vertex_table: str,
    edge_table: str,
    edge_columns: dict[str, str],
    snap: float,
) -> tuple[int, int]:
    """Empty ``vertex_table`` ``(id, geom)`` and ``edge_table`` and fill them from ``lines``.

    ``lines`` is a table (or temporary table) with a ``geom`` line column, read as ``l``;
    ``edge_columns`` maps each of the edge table's own columns to an expression over ``l``
    (``{"segment_id": "l.id", "length_m": "ST_Length(l.geom)"}``); ``source``, ``target`` and
    ``geom`` are filled here. Table names and expressions are the caller's constants, never
    user input. Runs on the caller's cursor, inside the caller's transaction (and lock). Returns
    the counts ``(vertices, edges)``. TRUNCATE fires no row triggers: a derived graph's rebuild
    is not history.
    """
    cur.execute(f"TRUNCATE {edge_table}, {vertex_table} RESTART IDENTITY")
    cur.execute(
        f"""
        INSERT INTO {vertex_table} (id, geom)
        SELECT row_number() OVER (ORDER BY ST_X(p), ST_Y(p)), p
          FROM (SELECT ST_SnapToGrid(ST_StartPoint(geom), %(snap)s) AS p FROM {lines}
                UNION
                SELECT ST_SnapToGrid(ST_EndPoint(geom), %(snap)s) FROM {lines}) v
        """,  # noqa: S608 (names are the caller's constants)
        {"snap": snap},
    )
    cur.execute(
        f"""
        INSERT INTO {edge_table} ({", ".join(edge_columns)}, source, target, geom)
        SELECT {", ".join(edge_columns.values())}, a.id, b.id, l.geom
          FROM {lines} l
          JOIN {vertex_table} a ON a.geom = ST_SnapToGrid(ST_StartPoint(l.geom), %(snap)s)
          JOIN {vertex_table} b ON b.geom = ST_SnapToGrid(ST_EndPoint(l.geom), %(snap)s)
         WHERE a.id <> b.id
        """,  # noqa: S608 (names and expressions are the caller's constants)
        {"snap": snap},
    )
    cur.execute(
        f"SELECT (SELECT count(*) FROM {vertex_table}), "  # noqa: S608
        f"(SELECT count(*) FROM {edge_table})"
    )
    vertices, edges = cur.fetchone()
    # The tables went from empty to full in this transaction: plan the next queries on them
    # with their real sizes.
    cur.execute(f"ANALYZE {vertex_table}")
    cur.execute(f"ANALYZE {edge_table}")
    return vertices, edges
