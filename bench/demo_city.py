#!/usr/bin/env python
"""Demo city generation at scale (issue 2: 1,000,000 accounts' worth of parcels in <= 5 min).

Figures:
- ``demo_city_base_map_seconds``: the base map step (colonias, streets, blocks, parcels)
  against the issue's budget of 300 s.
- ``demo_city_vs_bulk_polygon_write``: the same step against the floor measured in this run:
  writing as many plain rectangles as there are parcels, blocks and street segments into
  indexed tables with one ``INSERT … SELECT`` each. The generator computes a warped lattice,
  colonias, keys, addresses and land use on top of that write; goal: at most 4x the floor.
The other steps (owners, customers, accounts, meters…) are timed and printed, with rows/s.

Usage: bench/demo_city.py [--scale ACCOUNTS] [--seed S]
"""

import argparse
import sys
import time

from _common import result, setup_django


def bulk_polygon_write_seconds(*, parcels: int, blocks: int, streets: int, srid: int) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        for table, rows in (
            ("bench_parcel", parcels),
            ("bench_block", blocks),
            ("bench_street", streets),
        ):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
            cur.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, key text UNIQUE, "
                f"geom geometry(Polygon, {srid}))"
            )
            cur.execute(f"CREATE INDEX ON {table} USING gist (geom)")
            cur.execute(
                f"INSERT INTO {table} (key, geom) SELECT g::text, ST_MakeEnvelope("
                f"(g %% 1000) * 12.0, (g / 1000) * 30.0, (g %% 1000) * 12.0 + 10, "
                f"(g / 1000) * 30.0 + 25, {srid}) FROM generate_series(1, %s) g",
                [rows],
            )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="accounts (parcels)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    setup_django("caudal_demo_city_bench")
    from django.conf import settings

    from core.demo import DemoContext
    from core.services import demo_city_build

    ctx = DemoContext(
        accounts=args.scale,
        seed=args.seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    # Empty the tables first (untimed) so the figure is the build alone.
    demo_city_build(
        ctx=DemoContext(accounts=1, seed=args.seed, srid=ctx.srid, center_lonlat=ctx.center_lonlat),
        replace=True,
        log=lambda _m: None,
    )
    started = time.perf_counter()
    runs = demo_city_build(ctx=ctx, replace=True, log=lambda _m: None)
    total = time.perf_counter() - started
    for run in runs:
        rows = sum(run.counts.values())
        print(
            f"step {run.step}: {run.counts} in {run.seconds:.1f} s = {rows / run.seconds:,.0f} rows/s"
        )
    base = next(run for run in runs if run.step == "cadastre.base_map")
    counts = base.counts
    rows = sum(counts.values())
    floor = bulk_polygon_write_seconds(
        parcels=counts["parcels"], blocks=counts["blocks"], streets=counts["streets"], srid=ctx.srid
    )
    print(
        f"demo city: {args.scale} accounts, every step in {total:.1f} s; base map "
        f"{base.seconds:.1f} s = {rows / base.seconds:,.0f} rows/s "
        f"(plain polygon write: {rows / floor:,.0f} rows/s)"
    )
    ok = result("demo_city_base_map_seconds", value=base.seconds, baseline=300.0, goal=1.0)
    ok &= result("demo_city_vs_bulk_polygon_write", value=base.seconds, baseline=floor, goal=4.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
