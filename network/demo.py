"""Demo city, water network step: mains along the streets, valves near the crossings, hydrants,
wells and tanks, a service connection for every account, sewers and manholes; then the graph.

All set-based SQL over the streets and accounts (the demo runs at a million accounts):

- a water main on every street segment (one pipe per block side, as the streets are noded at
  the crossings): avenues 250-300 mm, streets 100-150 mm; material and install year drawn from
  the segment's id;
- a valve on every branch of every crossing of three or more segments, ``VALVE_SETBACK_M`` from
  the crossing (a block side is then a section between valves); one in ``INOPERABLE_EVERY``
  is marked inoperable (seized), as field surveys find;
- a hydrant at every tenth crossing; one well and one tank per ``ACCOUNTS_PER_SOURCE``
  accounts (at least one), at crossings on avenues;
- every account with water service connected to its nearest main (KNN), the tap at the
  closest point of the pipe;
- a sewer along every segment, ``SEWER_OFFSET_M`` to the side of the main, and a manhole at
  each sewer's start.

Macrometers at the district inlets are metering's (``metering.macrometers`` step): not
duplicated here. History triggers are paused for this seed, as in the other demo steps.
"""

from django.db import connection
from django.utils.translation import gettext as _

from core.demo import DemoContext, DemoError, demo_step
from core.history import history_paused
from network.models import (
    Hydrant,
    Manhole,
    NetworkEdge,
    NetworkVertex,
    Pipe,
    ServiceConnection,
    SewerPipe,
    Source,
    Tank,
    Valve,
)
from network.topology import topology_build

VALVE_SETBACK_M = 4.0
INOPERABLE_EVERY = 20
SEWER_OFFSET_M = 2.0
ACCOUNTS_PER_SOURCE = 50_000


def _h(seed: int, stream: str, expr: str) -> str:
    """SQL: a number in [0, 1) fixed by (seed, stream, expr)."""
    return (
        f"(('x' || substr(md5('{seed}:{stream}:' || ({expr})::text), 1, 8))::bit(32)::bigint"
        " / 4294967296.0::float8)"
    )


def _sql(seed: int, sources: int) -> list[str]:
    materials = "(ARRAY['pvc','pvc','pvc','pe','pe','ductile_iron','cast_iron','asbestos_cement'])"
    return [
        f"""INSERT INTO network_pipe (code, material, diameter_mm, install_year, status,
                                      roughness, geom)
            SELECT 'AP-' || s.id,
                   {materials}[1 + floor({_h(seed, "mat", "s.id")} * 8)::int],
                   CASE WHEN s.street_class = 'avenue'
                        THEN (ARRAY[250, 300])[1 + floor({_h(seed, "dia", "s.id")} * 2)::int]
                        ELSE (ARRAY[100, 100, 150])[1 + floor({_h(seed, "dia", "s.id")} * 3)::int]
                   END,
                   1965 + floor({_h(seed, "year", "s.id")} * 58)::int,
                   'active', 130, s.geom
              FROM cadastre_streetsegment s
             WHERE ST_Length(s.geom) > 1""",
        # Crossings: segment ends shared by three or more mains.
        """CREATE TEMP TABLE demo_nend AS
           SELECT p.id AS pipe_id, e.is_start, ST_SnapToGrid(e.pt, 0.5) AS node, ST_Length(p.geom) AS len
             FROM network_pipe p
            CROSS JOIN LATERAL (VALUES (true, ST_StartPoint(p.geom)),
                                       (false, ST_EndPoint(p.geom))) e(is_start, pt)""",
        """CREATE TEMP TABLE demo_ncross AS
           SELECT node, count(*) AS branches FROM demo_nend GROUP BY node HAVING count(*) >= 3""",
        f"""INSERT INTO network_valve (code, geom, status, diameter_mm, normal_status,
                                       current_status, operable, epanet_type, epanet_setting,
                                       epanet_node1, epanet_node2)
            SELECT 'VS-' || e.pipe_id || CASE WHEN e.is_start THEN 'a' ELSE 'b' END,
                   ST_LineInterpolatePoint(p.geom, CASE WHEN e.is_start
                        THEN least({VALVE_SETBACK_M} / e.len, 0.4)
                        ELSE greatest(1 - {VALVE_SETBACK_M} / e.len, 0.6) END),
                   'active', p.diameter_mm, 'open', 'open',
                   floor({_h(seed, "seized", "e.pipe_id * 2 + e.is_start::int")}
                         * {INOPERABLE_EVERY}) <> 0,
                   '', '', '', ''
              FROM demo_nend e
              JOIN demo_ncross c ON c.node = e.node
              JOIN network_pipe p ON p.id = e.pipe_id""",
        f"""INSERT INTO network_hydrant (code, geom, status, diameter_mm)
            SELECT 'HI-' || row_number() OVER (ORDER BY ST_X(node), ST_Y(node)), node, 'active', 100
              FROM demo_ncross WHERE {_h(seed, "hydrant", "ST_AsText(node)")} < 0.1""",
        f"""CREATE TEMP TABLE demo_nsite AS
            SELECT row_number() OVER (ORDER BY {_h(seed, "site", "ST_AsText(c.node)")}) AS n, c.node
              FROM demo_ncross c
             WHERE EXISTS (SELECT 1 FROM demo_nend e JOIN network_pipe p ON p.id = e.pipe_id
                            WHERE e.node = c.node AND p.diameter_mm >= 250)
             ORDER BY 1 LIMIT {sources}""",
        """INSERT INTO network_source (code, name, geom, status, kind, head_m)
           SELECT 'POZO-' || lpad(n::text, 2, '0'), 'Pozo ' || n,
                  ST_Translate(node, 15, 15), 'active', 'well', 80
             FROM demo_nsite""",
        """INSERT INTO network_tank (code, name, geom, status, elevation_m, init_level_m,
                                     min_level_m, max_level_m, diameter_m)
           SELECT 'TQ-' || lpad(n::text, 2, '0'), 'Tanque ' || n,
                  ST_Translate(node, -15, 15), 'active', 60, 3, 0.5, 5, 20
             FROM demo_nsite""",
        # Every account with water: the nearest main, the tap at its closest point.
        """INSERT INTO network_serviceconnection (account_id, pipe_id, geom)
           SELECT a.id, p.id, ST_ClosestPoint(p.geom, a.service_point)
             FROM cadastre_serviceaccount a
            CROSS JOIN LATERAL (SELECT id, geom FROM network_pipe
                                 ORDER BY geom <-> a.service_point LIMIT 1) p
            WHERE a.water""",
        f"""INSERT INTO network_sewerpipe (code, material, diameter_mm, install_year, status, geom)
            SELECT 'AL-' || s.id, 'concrete',
                   CASE WHEN s.street_class = 'avenue' THEN 610 ELSE 300 END,
                   1960 + floor({_h(seed, "syear", "s.id")} * 60)::int, 'active', o.geom
              FROM cadastre_streetsegment s
             CROSS JOIN LATERAL (SELECT ST_OffsetCurve(s.geom, {SEWER_OFFSET_M}) AS geom) o
             WHERE ST_Length(s.geom) > 1 AND GeometryType(o.geom) = 'LINESTRING'
               AND ST_IsValid(o.geom) AND ST_Length(o.geom) > 0.5""",
        """INSERT INTO network_manhole (code, geom, status, depth_m)
           SELECT 'PV-' || id, ST_StartPoint(geom), 'active', 2.5 FROM network_sewerpipe""",
        "DROP TABLE demo_nend",
        "DROP TABLE demo_ncross",
        "DROP TABLE demo_nsite",
        "ANALYZE network_pipe",
        "ANALYZE network_valve",
        "ANALYZE network_serviceconnection",
        "ANALYZE network_sewerpipe",
    ]


@demo_step(
    "network.water_network",
    after=("cadastre.customer_roll",),
    tables=(
        NetworkEdge._meta.db_table,
        NetworkVertex._meta.db_table,
        ServiceConnection._meta.db_table,
        Manhole._meta.db_table,
        SewerPipe._meta.db_table,
        Tank._meta.db_table,
        Source._meta.db_table,
        Hydrant._meta.db_table,
        Valve._meta.db_table,
        Pipe._meta.db_table,
    ),
    description="water mains, valves, hydrants, wells, tanks, connections, sewers, graph",
)
def build_water_network(ctx: DemoContext) -> dict:
    """Lay the demo city's water and sewer networks; returns the row counts."""
    models = (Pipe, Valve, Hydrant, Source, Tank, ServiceConnection, SewerPipe, Manhole)
    with history_paused(*models), connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute("SELECT count(*) FROM cadastre_streetsegment")
        if not cur.fetchone()[0]:
            raise DemoError(_("The demo water network needs the base map: no streets found."))
        cur.execute("SELECT count(*) FROM cadastre_serviceaccount")
        sources = max(1, cur.fetchone()[0] // ACCOUNTS_PER_SOURCE)
        for sql in _sql(int(ctx.seed), sources):
            # Params always passed: the history wrapper adds placeholders, so '%' is doubled.
            cur.execute(sql.replace("%", "%%"), [])
        counts = {}
        for model in models:
            cur.execute(f"SELECT count(*) FROM {model._meta.db_table}")
            counts[model._meta.model_name] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM network_valve WHERE NOT operable")
        counts["inoperable_valves"] = cur.fetchone()[0]
    graph = topology_build()
    counts["graph_vertices"] = graph["vertices"]
    counts["graph_edges"] = graph["edges"]
    return counts
