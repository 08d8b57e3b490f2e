#!/usr/bin/env python
"""Route optimization (issue 7): reading routes on the demo city, and the solver on standard
public instances.

(a) Set-up (untimed, kept for the next run): the demo city at ``--scale`` accounts (cadastre,
customer roll, sectorization, meters) in this benchmark's own database. Every installed meter
of the city (94 % of the accounts: 5,000 at the default 5,320) is planned into ``--routes`` walking routes
(default 25, one minute per meter, open routes, compact parts: ``method="partition"``) with a
``--time-limit`` for the solver, through ``routing.services.plan_build`` — the same code a
planner's run executes. Compared with (and, informative, with ``method="vrp"``):

- the **current books** of the demo city (the generated reading books, each read in account
  number order, as the field app reads them before a plan is published);
- a **nearest-neighbour** plan: one nearest-neighbour walk over every meter (network
  distances), cut into ``--routes`` pieces of equal meter count.

Figures (km are network walking distances, meter to meter; imbalance is the largest deviation
of a route's minutes — walking plus service — from the mean):
- ``routes_km_vs_nearest_neighbour``: total km of the plan against the nearest-neighbour plan.
  Goal: at most 1.0 (the optimizer must walk less).
- ``routes_km_vs_current_books``: total km against the current books. Goal: at most 1.0.
- ``routes_imbalance``: the plan's imbalance against the issue's ±10 %. Goal: at most 1.0.

(b) The solver alone (``routing.engine.solve``, OR-Tools) on standard instances kept in
``tests/routing/data`` (CVRPLIB set A: A-n32-k5, A-n37-k5, A-n45-k6 with their proven optima;
Solomon C101 with its best-known 828.94, 10 vehicles), each with ``--instance-limit`` seconds
(the issue's 60 s):
- ``routes_benchmark_gap_percent``: the mean gap to the best-known solutions, in percent,
  against the issue's 3 %. Goal: at most 1.0.

Usage: bench/routes.py [--scale ACCOUNTS] [--routes N] [--seed S] [--time-limit S]
                       [--instance-limit S] [--skip-city] [--skip-instances]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from _common import ROOT, result, setup_django

NEEDED_STEPS = (
    "cadastre.base_map",
    "cadastre.customer_roll",
    "sectors.sectorization",
    "metering.meters",
)
DATA = ROOT / "tests" / "routing" / "data"
# Best-known totals (distance), from CVRPLIB (set A, proven optimal) and Solomon's page (C101,
# Rochat & Taillard 1995, 10 vehicles, double-precision distances).
INSTANCES = {
    "A-n32-k5.vrp": 784.0,
    "A-n37-k5.vrp": 669.0,
    "A-n45-k6.vrp": 944.0,
    "C101.txt": 828.94,
}


def city(args) -> bool:
    from django.conf import settings
    from django.db import connection

    from core.demo import DemoContext
    from core.services import demo_city_build
    from routing import engine
    from routing.graph import graph_ensure
    from routing.matrix import PointNetwork, profile_get
    from routing.selectors import reading_stops
    from routing.services import hull_overlap, params_clean, plan_build

    ctx = DemoContext(
        accounts=args.scale,
        seed=args.seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    demo_city_build(ctx=ctx, only=NEEDED_STEPS, replace_other=True, log=print)
    started = time.perf_counter()
    built = graph_ensure()
    print(
        f"routing graph {'built' if built else 'current'} in {time.perf_counter() - started:.1f} s"
    )
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM routing_routingedge")
        edges = cur.fetchone()[0]
    params = params_clean(
        {"readers": args.routes, "time_limit_s": args.time_limit, "service_minutes": 1.0}
    )
    started = time.perf_counter()
    plan = plan_build(params=params, progress=None)
    elapsed = time.perf_counter() - started
    totals = plan["totals"]
    solver = plan["solver"]
    print(
        f"{totals['meters']:,} meters on {edges:,} street edges → {totals['routes']} routes in "
        f"{elapsed:.1f} s ({solver['clusters']} clusters, solver {solver['status']}): "
        f"{totals['km']:.2f} km, {totals['minutes']:.0f} min, imbalance "
        f"{totals['imbalance'] * 100:.1f} %, hulls overlapping {totals['overlap'] * 100:.1f} %"
    )
    assert totals["meters"] == sum(len(r["stops"]) for r in plan["routes"])
    assert len({a for r in plan["routes"] for a in r["stops"]}) == totals["meters"]
    current = plan["current"]["totals"]
    print(
        f"current books: {current['routes']} books, {current['km']:.2f} km, "
        f"{current['minutes']:.0f} min, imbalance {current['imbalance'] * 100:.1f} %, "
        f"hulls overlapping {current['overlap'] * 100:.1f} %"
    )

    # The other method, for the record (informative): one OR-Tools model over every route.
    started = time.perf_counter()
    vrp = plan_build(params={**params, "method": "vrp"}, progress=None)["totals"]
    print(
        f"one-model VRP (method vrp): {vrp['km']:.2f} km, {vrp['minutes']:.0f} min, imbalance "
        f"{vrp['imbalance'] * 100:.1f} %, hulls overlapping {vrp['overlap'] * 100:.1f} % "
        f"({time.perf_counter() - started:.1f} s)"
    )

    # Nearest neighbour over every meter, cut into equal pieces.
    stops = reading_stops()
    xy = np.array([(s["x"], s["y"]) for s in stops])
    net = PointNetwork(xy=xy, profile=profile_get("walking", speed_kmh=params["speed_kmh"]))
    started = time.perf_counter()
    n = len(stops)
    unvisited = np.ones(n, dtype=bool)
    order = [0]
    unvisited[0] = False
    current_i = 0
    for _ in range(n - 1):
        left = np.flatnonzero(unvisited)
        d = net.pairs(np.full(len(left), current_i), left)
        current_i = int(left[int(np.argmin(d))])
        order.append(current_i)
        unvisited[current_i] = False
    pieces = np.array_split(np.asarray(order), args.routes)
    nn_km = 0.0
    nn_minutes = []
    for piece in pieces:
        metres = float(net.pairs(piece[:-1], piece[1:]).sum())
        seconds = float(net.pairs(piece[:-1], piece[1:], seconds=True).sum())
        nn_km += metres / 1000
        nn_minutes.append(seconds / 60 + len(piece) * 1.0)
    nn_imbalance = engine.imbalance(nn_minutes)
    nn_overlap = hull_overlap(
        xy[np.asarray(order)], np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
    )
    print(
        f"nearest neighbour: {nn_km:.2f} km, {sum(nn_minutes):.0f} min, imbalance "
        f"{nn_imbalance * 100:.1f} %, hulls overlapping {nn_overlap * 100:.1f} % "
        f"({time.perf_counter() - started:.1f} s)"
    )
    ok = result("routes_km_vs_nearest_neighbour", value=totals["km"], baseline=nn_km, goal=1.0)
    ok &= result("routes_km_vs_current_books", value=totals["km"], baseline=current["km"], goal=1.0)
    ok &= result("routes_imbalance", value=totals["imbalance"], baseline=0.10, goal=1.0)
    return ok


def instances(args) -> bool:
    from routing.engine import solve
    from routing.instances import instance_read

    gaps = []
    for name, best in INSTANCES.items():
        instance = instance_read(DATA / name, time_limit_s=args.instance_limit)
        started = time.perf_counter()
        solution = solve(instance.problem)
        elapsed = time.perf_counter() - started
        if solution is None or solution.dropped:
            print(f"{name}: no feasible solution in {elapsed:.0f} s")
            gaps.append(100.0)
            continue
        routes = [r.visits for r in solution.routes if r.visits]
        cost = instance.cost(routes)
        gap = (cost - best) / best * 100
        gaps.append(gap)
        print(
            f"{name}: {cost:.2f} with {len(routes)} routes in {elapsed:.0f} s "
            f"(best known {best}; gap {gap:.2f} %)"
        )
    mean_gap = float(np.mean(gaps))
    return result("routes_benchmark_gap_percent", value=mean_gap, baseline=3.0, goal=1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 94 % of the demo accounts get a meter: 5,320 accounts give the 5,000 meters.
    parser.add_argument("--scale", type=int, default=5_320, help="accounts of the demo city")
    parser.add_argument("--routes", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=60.0, help="solver seconds (a)")
    parser.add_argument("--instance-limit", type=float, default=60.0, help="seconds each (b)")
    parser.add_argument("--skip-city", action="store_true")
    parser.add_argument("--skip-instances", action="store_true")
    args = parser.parse_args()

    setup_django("caudal_routes_bench")
    ok = True
    if not args.skip_city:
        ok &= city(args)
    if not args.skip_instances:
        ok &= instances(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
