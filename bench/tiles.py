#!/usr/bin/env python
"""Vector tiles (issue 4): our endpoint, uncached and cached, against the bare ``ST_AsMVT``.

Set-up (untimed): the demo city's cadastre at ``--scale`` accounts (one parcel each) in this
benchmark's own database (kept between runs; rebuilt when the scale or seed differs), a user
with a role that reads the cadastre, and a fixed tile set: for each zoom 12..18, up to
``--tiles`` tiles around the demo centre (``CAUDAL_DEMO_CENTER``) in a fixed spiral order,
taking those where the parcel layer has features. One untimed pass renders every registered
layer's tiles of that set (within its zoom range): it warms PostgreSQL's buffers and gives
every tile's size. The cadastre's layers (``TIMED_LAYERS``: a fixed set, whatever other apps
register) are timed on the tiles where they have features.

Timed, ``--rounds`` times per (layer, tile), interleaved so the three see the same conditions:
- (a) uncached: the layer's tables' generations bumped (``tiles.invalidation.generation_bump``),
  then ``GET /tiles/<layer>/<z>/<x>/<y>.mvt`` through Django's test client (the whole middleware
  stack, session and permission check, in process: no HTTP);
- (b) cached: the same request again (permission, one generation query, one Redis GET);
- (c) raw: the very SQL the endpoint runs for that tile, on a bare psycopg cursor.

Figures (totals over every timed request: the time to serve the whole set):
- ``tiles_uncached_vs_raw``: (a) against (c); goal at most 1.5.
- ``tiles_cached_vs_raw``: (b) against (c); goal at most 0.2.
- ``tiles_largest_kb``: the largest tile of any registered layer in the set against 500 KB;
  goal 1.0.
Per layer and zoom it prints p50/p95 of (a), (b), (c) in milliseconds and the largest tile;
and, for information, the cached tile through the view function alone (RequestFactory, the
user loaded as the auth middleware does), which shows what Django's stack adds to (b).

DEBUG is off (as in production: no query log). Cache entries live 10 minutes here, so the
benchmark leaves no lasting load in a shared Redis.

Usage: bench/tiles.py [--scale ACCOUNTS] [--seed S] [--tiles N] [--rounds R]
"""

import argparse
import math
import statistics
import sys
import time

from _common import result, setup_django

ZOOMS = range(12, 19)
TIMED_LAYERS = ("localities", "blocks", "streets", "parcels", "accounts")
MAX_SPIRAL_RADIUS = 8


def tile_of_lonlat(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def spiral(cx: int, cy: int, radius: int):
    """Tiles in square rings around (cx, cy), nearest ring first, each ring in a fixed order."""
    yield cx, cy
    for r in range(1, radius + 1):
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                if max(abs(dx), abs(dy)) == r:
                    yield cx + dx, cy + dy


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# What the tiles read: the base map and the accounts (and the steps these build on).
NEEDED_STEPS = ("cadastre.base_map", "cadastre.customer_roll")


def build_city(scale: int, seed: int) -> None:
    """The demo city's cadastre at ``scale`` (kept between runs; replaced when another scale
    or seed was built). Only the steps the tiles read run, with the steps they build on:
    other apps' steps (readings, billing…) would cost minutes at a million accounts."""
    from django.conf import settings

    from core.demo import DemoContext
    from core.services import demo_city_build

    ctx = DemoContext(
        accounts=scale,
        seed=seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    demo_city_build(ctx=ctx, only=NEEDED_STEPS, replace_other=True, log=print)


def bench_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    from core import roles

    user, _created = get_user_model().objects.get_or_create(username="tiles_bench")
    user.groups.add(Group.objects.get(name=roles.METER_READER))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client, user


def choose_tiles(per_zoom: int) -> dict[int, list[tuple[int, int]]]:
    from django.conf import settings

    from gis_core.layers import registry
    from tiles.selectors import vector_tile_render

    parcels = registry.get("parcels")
    lon, lat = settings.CAUDAL_DEMO_CENTER
    chosen = {}
    for z in ZOOMS:
        cx, cy = tile_of_lonlat(lon, lat, z)
        chosen[z] = []
        for x, y in spiral(cx, cy, MAX_SPIRAL_RADIUS):
            if vector_tile_render(layer=parcels, z=z, x=x, y=y, filters={}):
                chosen[z].append((x, y))
                if len(chosen[z]) == per_zoom:
                    break
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="accounts (= parcels)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tiles", type=int, default=20, help="tiles per zoom")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    setup_django("caudal_tiles_bench")
    import psycopg
    from django.conf import settings
    from django.db import connection

    settings.DEBUG = False
    settings.CAUDAL_TILE_CACHE_SECONDS = 600

    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    from gis_core.layers import registry
    from tiles.invalidation import generation_bump
    from tiles.selectors import vector_tile_query, vector_tile_render
    from tiles.views import vector_tile

    build_city(args.scale, args.seed)
    client, user = bench_client()
    factory = RequestFactory(HTTP_HOST="localhost")
    tiles = choose_tiles(args.tiles)
    print("tiles per zoom: " + ", ".join(f"z{z} {len(t)}" for z, t in tiles.items()))

    work = [
        (layer, z, x, y)
        for layer in registry.all()
        for z in ZOOMS
        if layer.min_zoom <= z <= layer.max_zoom
        for x, y in tiles[z]
    ]
    sizes = {}
    for layer, z, x, y in work:  # warm-up, and every tile's size (all layers)
        sizes[(layer.name, z, x, y)] = len(
            vector_tile_render(layer=layer, z=z, x=x, y=y, filters={})
        )
    # Timed: the cadastre's layers, where the tile holds features. A fixed set, so the figure
    # does not move when another app registers a layer; and a tile without features would
    # only measure Django's request overhead against an empty query.
    work = [
        (layer, z, x, y)
        for layer, z, x, y in work
        if layer.name in TIMED_LAYERS and sizes[(layer.name, z, x, y)]
    ]

    connection.ensure_connection()
    raw_cursor = psycopg.ClientCursor(connection.connection)  # Django's binding, no wrappers
    timings = {}  # (layer, z) -> {"uncached": [...], "cached": [...], "raw": [...]}
    for _round in range(args.rounds):
        for layer, z, x, y in work:
            url = f"/tiles/{layer.name}/{z}/{x}/{y}.mvt"
            sql, params = vector_tile_query(layer=layer, z=z, x=x, y=y, filters={})
            slot = timings.setdefault(
                (layer.name, z), {"uncached": [], "cached": [], "view": [], "raw": []}
            )

            generation_bump(tables=layer.tables)
            started = time.perf_counter()
            response = client.get(url)
            slot["uncached"].append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            # Not byte-equal to the warm-up render: a parallel plan aggregates in any order.
            assert response.content, url

            started = time.perf_counter()
            again = client.get(url)
            slot["cached"].append(time.perf_counter() - started)
            assert again.content == response.content, url

            # Informative: the view alone, the user loaded as the auth middleware would, but no
            # session, middleware or test-client machinery.
            started = time.perf_counter()
            request = factory.get(url)
            request.user = get_user_model().objects.get(pk=user.pk)
            alone = vector_tile(request, layer=layer.name, z=z, x=x, y=y)
            slot["view"].append(time.perf_counter() - started)
            assert alone.content == response.content, url

            started = time.perf_counter()
            raw_cursor.execute(sql, params)
            raw = raw_cursor.fetchone()[0]
            slot["raw"].append(time.perf_counter() - started)
            assert bool(raw) == bool(response.content), url

    print(
        f"{'layer':<12} {'z':>2} {'n':>3}  {'uncached p50/p95':>17}  {'cached p50/p95':>15}"
        f"  {'raw p50/p95':>15}  {'max KB':>7}   (ms)"
    )
    for (name, z), slot in timings.items():
        largest = max(size for key, size in sizes.items() if key[:2] == (name, z))
        row = [f"{name:<12} {z:>2} {len(slot['raw']):>3}"]
        for kind, width in (("uncached", 17), ("cached", 15), ("raw", 15)):
            p50 = percentile(slot[kind], 0.5) * 1000
            p95 = percentile(slot[kind], 0.95) * 1000
            row.append(f"{f'{p50:.2f}/{p95:.2f}':>{width}}")
        row.append(f"{largest / 1024:>7.1f}")
        print("  ".join(row))

    total = {
        kind: sum(sum(slot[kind]) for slot in timings.values())
        for kind in ("uncached", "cached", "view", "raw")
    }
    (name, z, x, y), largest = max(sizes.items(), key=lambda item: item[1])
    cached = [t for slot in timings.values() for t in slot["cached"]]
    print(
        f"{len(work) * args.rounds} timed requests of each kind; totals: uncached "
        f"{total['uncached']:.2f} s, cached {total['cached']:.2f} s, raw {total['raw']:.2f} s; "
        f"median cached request {statistics.median(cached) * 1000:.2f} ms"
    )
    view = [t for slot in timings.values() for t in slot["view"]]
    print(
        f"cached tile, view alone (no session or middleware): total {total['view']:.2f} s "
        f"= {total['view'] / total['raw']:.3f} of raw; median {statistics.median(view) * 1000:.2f} ms"
    )
    print(f"largest tile: {name} {z}/{x}/{y} = {largest / 1024:.1f} KB")
    ok = result("tiles_uncached_vs_raw", value=total["uncached"], baseline=total["raw"], goal=1.5)
    ok &= result("tiles_cached_vs_raw", value=total["cached"], baseline=total["raw"], goal=0.2)
    ok &= result("tiles_largest_kb", value=largest / 1024, baseline=500, goal=1.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
