#!/usr/bin/env python
"""Water network (issue 12): the valve-isolation trace on the demo city's network.

Set-up (untimed, kept for the next run): the demo city at ``--scale`` accounts (cadastre,
customer roll, water network: a main per street segment, valves on every branch of every
crossing, 5 % of them seized) in this benchmark's own database, and its graph.

Timed: ``--breaks`` break points (seeded) at the middle of pipes that serve accounts, each traced
by ``network.selectors.isolation_trace`` (a recursive query that walks out from the break and
stops at operable valves: it touches the section, not the network). The baseline computes the
same section the plain way, on the same graph: ``pgr_connectedComponents`` over the whole graph
cut at every barrier valve (each edge keeps its own copy of a barrier end), then the break's
component and its accounts. Both answers are compared (the same edges) for every break.

Figures:
- ``network_trace_p50_vs_components``: the trace's median time against the baseline's median.
  Goal: at most 0.5 (the trace must be at least twice as fast; it is local, the baseline is
  linear in the network).
- ``network_trace_p95_ms``: the trace's p95 in ms against 500 ms (interactive). Goal ≤ 1.0.
- with ``--large-scale L`` (the issue: a network ten times larger, in the same run): the same
  measurement on a city of ``L`` accounts in a second database (a child process), and
  ``network_trace_p50_large_vs_small``: its p50 against this one's. Goal: at most 12 (no worse
  than linear in a network ten times larger; a local trace should stay nearly flat).

Usage: bench/network.py [--scale ACCOUNTS] [--breaks N] [--seed S] [--large-scale ACCOUNTS]
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import result, setup_django

NEEDED_STEPS = ("cadastre.base_map", "cadastre.customer_roll", "network.water_network")

BASELINE_SQL = """
WITH cc AS (
    SELECT component, node FROM pgr_connectedComponents($$
        SELECT e.id,
               CASE WHEN bs.id IS NULL THEN e.source ELSE -2 * e.id END AS source,
               CASE WHEN bt.id IS NULL THEN e.target ELSE -2 * e.id - 1 END AS target,
               1.0 AS cost, 1.0 AS reverse_cost
          FROM network_networkedge e
          LEFT JOIN (SELECT x.id FROM network_networkvertex x
                       JOIN network_valve v ON v.id = x.valve_id
                      WHERE v.operable OR v.current_status = 'closed') bs ON bs.id = e.source
          LEFT JOIN (SELECT x.id FROM network_networkvertex x
                       JOIN network_valve v ON v.id = x.valve_id
                      WHERE v.operable OR v.current_status = 'closed') bt ON bt.id = e.target
    $$)
), mine AS (
    SELECT component FROM cc
     WHERE node = (SELECT CASE WHEN v.id IS NULL THEN e.source ELSE -2 * e.id END
                     FROM network_networkedge e
                     JOIN network_networkvertex x ON x.id = e.source
                     LEFT JOIN network_valve v ON v.id = x.valve_id
                          AND (v.operable OR v.current_status = 'closed')
                    WHERE e.id = %(edge)s)
), nodes AS (
    SELECT node FROM cc WHERE component = (SELECT component FROM mine)
), edges AS (
    SELECT e.id, e.pipe_id, e.frac_from, e.frac_to FROM network_networkedge e
     WHERE e.source IN (SELECT node FROM nodes) OR e.target IN (SELECT node FROM nodes)
        OR -2 * e.id IN (SELECT node FROM nodes) OR -2 * e.id - 1 IN (SELECT node FROM nodes)
)
SELECT (SELECT array_agg(id ORDER BY id) FROM edges),
       (SELECT count(DISTINCT c.account_id) FROM edges e
          JOIN network_serviceconnection c ON c.pipe_id = e.pipe_id
          JOIN network_pipe p ON p.id = c.pipe_id
         WHERE ST_LineLocatePoint(p.geom, c.geom) BETWEEN e.frac_from AND e.frac_to)
"""


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=20_000)
    parser.add_argument("--breaks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--large-scale", type=int, default=0)
    parser.add_argument("--db", default="network_bench", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup_django(args.db)

    from django.conf import settings
    from django.db import connection

    from core.demo import DemoContext
    from core.services import demo_city_build
    from network.selectors import isolation_trace
    from network.topology import topology_ensure

    ctx = DemoContext(
        accounts=args.scale,
        seed=args.seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    demo_city_build(ctx=ctx, only=NEEDED_STEPS, replace_other=True, log=print)
    topology_ensure()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM network_pipe), (SELECT count(*) FROM network_valve),"
            " (SELECT count(*) FROM network_networkedge),"
            " (SELECT count(*) FROM network_serviceconnection)"
        )
        pipes, valves, edges, connections = cur.fetchone()
        cur.execute(
            "SELECT id, ST_X(ST_LineInterpolatePoint(geom, 0.5)),"
            " ST_Y(ST_LineInterpolatePoint(geom, 0.5)) FROM network_pipe p"
            " WHERE EXISTS (SELECT 1 FROM network_serviceconnection c WHERE c.pipe_id = p.id)"
            " ORDER BY id"
        )
        candidates = cur.fetchall()
    print(
        f"network: {pipes:,} pipes, {valves:,} valves, {edges:,} graph edges, "
        f"{connections:,} connections"
    )
    rng = random.Random(args.seed)  # noqa: S311 (a reproducible sample, not a secret)
    breaks = rng.sample(candidates, min(args.breaks, len(candidates)))

    from django.contrib.gis.geos import Point

    trace_s, base_s, accounts, mismatches = [], [], [], 0
    for pipe_id, x, y in breaks:
        point = Point(x, y, srid=settings.CAUDAL_SRID)
        started = time.perf_counter()
        trace = isolation_trace(point=point, pipe_id=pipe_id, ensure=False)
        trace_s.append(time.perf_counter() - started)
        accounts.append(len(trace.accounts))
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(BASELINE_SQL, {"edge": trace.edge_id})
            base_edges, base_accounts = cur.fetchone()
        base_s.append(time.perf_counter() - started)
        if sorted(base_edges or []) != trace.edges or base_accounts != len(trace.accounts):
            mismatches += 1
    p50, p95 = statistics.median(trace_s), percentile(trace_s, 0.95)
    b50 = statistics.median(base_s)
    print(
        f"{len(breaks)} breaks: trace p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; "
        f"components baseline p50 {b50 * 1000:.1f} ms; accounts per outage median "
        f"{statistics.median(accounts):.0f}, max {max(accounts)}; "
        f"answers differing from the baseline: {mismatches}"
    )
    if args.json:
        print(json.dumps({"p50": p50, "p95": p95, "b50": b50, "mismatches": mismatches}))
        return 0
    ok = mismatches == 0
    ok &= result("network_trace_p50_vs_components", value=p50, baseline=b50, goal=0.5)
    ok &= result("network_trace_p95_ms", value=p95 * 1000, baseline=500.0, goal=1.0)
    if args.large_scale:
        child = subprocess.run(  # noqa: S603 (this script, our own arguments)
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--scale",
                str(args.large_scale),
                "--breaks",
                str(args.breaks),
                "--seed",
                str(args.seed),
                "--db",
                "network_bench_large",
                "--json",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = child.stdout.strip().splitlines()
        print("\n".join(f"  large: {line}" for line in lines[:-1]))
        large = json.loads(lines[-1])
        ok &= large["mismatches"] == 0
        ok &= result(
            "network_trace_p50_large_vs_small", value=large["p50"], baseline=p50, goal=12.0
        )
        print(f"large network: trace p95 {large['p95'] * 1000:.1f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
