"""The routing graph: street segments as pgRouting edges, in SQL.

:func:`graph_build` replaces ``routing_routingvertex`` / ``routing_routingedge`` from
``cadastre_streetsegment`` with :func:`gis_core.graph.noded_graph_replace`: the end points of
every segment, snapped to a grid of ``SNAP_M`` metres, become the vertices (segments meeting at
a crossing share one), and each segment becomes an edge between its two vertices. Segments are expected to be split at
crossings, as the cadastre's street layer is (one segment per block side); a segment that runs
through a crossing without a vertex there is not connected to the crossing street.

:func:`graph_ensure` builds the graph when it is missing or older than the streets (a street
segment added, removed or edited since the build: compared by count and a checksum of ids and
lengths), so callers never route on a stale network.
"""

import time

from django.db import connection, transaction

from gis_core.graph import noded_graph_replace

SNAP_M = 0.5

_SIGNATURE_STREETS = """
    SELECT count(*), coalesce(sum(id), 0), coalesce(sum(round(ST_Length(geom)::numeric, 3)), 0)
      FROM cadastre_streetsegment
     WHERE NOT ST_SnapToGrid(ST_StartPoint(geom), %(snap)s)
               = ST_SnapToGrid(ST_EndPoint(geom), %(snap)s)
"""
_SIGNATURE_EDGES = """
    SELECT count(*), coalesce(sum(segment_id), 0), coalesce(sum(round(length_m::numeric, 3)), 0)
      FROM routing_routingedge
"""


def graph_build() -> dict:
    """Rebuild the routing graph from the street segments (one transaction). Returns the
    counts ``{"vertices", "edges", "seconds"}``. Raises nothing: no streets, an empty graph."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        # A transaction-scoped lock: two builds at once would interleave their TRUNCATEs.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('routing.graph_build'))")
        vertices, edges = noded_graph_replace(
            cur,
            lines="cadastre_streetsegment",
            vertex_table="routing_routingvertex",
            edge_table="routing_routingedge",
            edge_columns={
                "segment_id": "l.id",
                "length_m": "ST_Length(l.geom)",
                "street_class": "l.street_class",
            },
            snap=SNAP_M,
        )
        # The vertex ids were given explicitly: move the sequence past them.
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('routing_routingvertex', 'id'), "
            "greatest((SELECT max(id) FROM routing_routingvertex), 1))"
        )
    return {"vertices": vertices, "edges": edges, "seconds": time.perf_counter() - started}


def graph_is_current() -> bool:
    with connection.cursor() as cur:
        cur.execute(_SIGNATURE_STREETS, {"snap": SNAP_M})
        streets = cur.fetchone()
        cur.execute(_SIGNATURE_EDGES)
        edges = cur.fetchone()
    return streets[0] > 0 and tuple(streets) == tuple(edges)


def graph_ensure() -> bool:
    """Build the graph if it is missing or stale; True when it was (re)built."""
    if graph_is_current():
        return False
    graph_build()
    return True
