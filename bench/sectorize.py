#!/usr/bin/env python
"""Sectorization (issue 5): a full reassignment of every account against the raw spatial join
of the same service points and polygons, in the same run.

Set-up (untimed, kept for the next run): the demo city at ``--scale`` accounts with its sector
layers (the cadastre, customer-roll and sectorization demo steps), in this benchmark's own
database. A database that already holds that city (as recorded by core's DemoStepRun) is
reused: at a million accounts building it takes minutes.

Figures:
- ``sectorize_full_vs_raw_join``: ``assign_all()`` over an empty assignment table — every
  account computed, compared, inserted with its history event, foreign keys checked — against
  one ``CREATE TEMP TABLE … AS SELECT`` joining every service point to the zone, sector, book,
  DMA and tariff-zone polygons (``LEFT JOIN … ON ST_Intersects``, GiST-driven). Goal: at most
  2x. The full reassignment runs in a transaction that is rolled back (the city keeps its
  assignment and history stays small).
- informative: the same raw join over the engine's subdivided pieces (every kind probed for
  every point); a pass with nothing to change; and the preview and apply of one boundary
  change (the books of one sector merged into one, ~400 accounts moving), rolled back.

Usage: bench/sectorize.py [--scale ACCOUNTS] [--seed S]
"""

import argparse
import sys
import time

from _common import result, setup_django

NEEDED_STEPS = ("cadastre.base_map", "cadastre.customer_roll", "sectors.sectorization")

RAW_JOIN_SQL = """
    CREATE TEMP TABLE bench_raw_join AS
    SELECT a.id, z.id AS zone_id, s.id AS sector_id, b.id AS book_id, d.id AS dma_id,
           t.id AS tariff_zone_id
      FROM cadastre_serviceaccount a
      LEFT JOIN sectors_commercialarea z
             ON z.level = 'zone' AND ST_Intersects(z.geom, a.service_point)
      LEFT JOIN sectors_commercialarea s
             ON s.level = 'sector' AND ST_Intersects(s.geom, a.service_point)
      LEFT JOIN sectors_commercialarea b
             ON b.level = 'book' AND ST_Intersects(b.geom, a.service_point)
      LEFT JOIN sectors_dma d ON ST_Intersects(d.geom, a.service_point)
      LEFT JOIN sectors_tariffzone t ON ST_Intersects(t.geom, a.service_point)
"""

# The same join over the engine's pieces, one kind at a time (each kind has its own partial
# GiST index), every kind probed for every point.
RAW_PIECES_SQL = "CREATE TEMP TABLE bench_raw_pieces AS " + " UNION ALL ".join(
    f"""SELECT a.id, p.kind, p.area_id
          FROM cadastre_serviceaccount a
          JOIN sectors_areapiece p ON p.kind = '{kind}' AND ST_Intersects(p.geom, a.service_point)"""
    for kind in ("zone", "sector", "book", "dma", "tariff_zone")
)


def ensure_city(ctx, log) -> None:
    """Build the steps sectorization needs (only those: other apps' steps are theirs to
    bench), reusing them when this database already holds the same city."""
    from core.services import demo_city_build

    demo_city_build(ctx=ctx, only=NEEDED_STEPS, replace_other=True, log=log)


def timed_sql(sql: str, drop: str) -> float:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # as the engine: no JIT for one-shot statements
        started = time.perf_counter()
        cursor.execute(sql)
        elapsed = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {drop}")
    return elapsed


def full_reassignment_seconds() -> tuple[float, object]:
    """assign_all() over an emptied assignment table, deferred foreign keys checked, rolled
    back."""
    from django.db import connection, transaction

    from sectors.assignment import assign_all

    with transaction.atomic():
        with connection.cursor() as cursor:
            # TRUNCATE fires no row triggers: emptying the table writes no history.
            cursor.execute("TRUNCATE sectors_accountsectors")
        started = time.perf_counter()
        outcome = assign_all()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, outcome


def boundary_change_seconds() -> tuple[float, float, int]:
    """Preview and apply (with the preview's token) of merging the books of the sector with
    the most books into its first book; rolled back."""
    from django.db import connection, transaction

    from sectors.models import CommercialArea
    from sectors.services import apply_proposal, preview_proposal

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT parent_id FROM sectors_commercialarea WHERE level = 'book'
                GROUP BY parent_id ORDER BY count(*) DESC, parent_id LIMIT 1"""
        )
        sector = CommercialArea.objects.get(pk=cursor.fetchone()[0])
    first = sector.children.order_by("code").first()
    proposal = [{"code": first.code, "name": first.name, "geom": sector.geom}]
    with transaction.atomic():
        started = time.perf_counter()
        preview = preview_proposal(level="book", parent=sector, proposal=proposal)
        preview_s = time.perf_counter() - started
        started = time.perf_counter()
        applied = apply_proposal(
            level="book", parent=sector, proposal=proposal, token=preview.token
        )
        apply_s = time.perf_counter() - started
        assert applied.move_keys() == preview.move_keys()
        transaction.set_rollback(True)
    return preview_s, apply_s, preview.accounts_moved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="accounts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    setup_django("caudal_sectorize_bench")
    from django.conf import settings
    from django.db import connection

    from core.demo import DemoContext
    from sectors.assignment import assign_all

    ctx = DemoContext(
        accounts=args.scale,
        seed=args.seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    ensure_city(ctx, log=print)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cadastre_serviceaccount")
        accounts = cursor.fetchone()[0]
        cursor.execute(
            "SELECT (SELECT count(*) FROM sectors_commercialarea),"
            " (SELECT count(*) FROM sectors_dma) + (SELECT count(*) FROM sectors_tariffzone),"
            " (SELECT count(*) FROM sectors_areapiece)"
        )
        commercial, flat, pieces = cursor.fetchone()
        # Warm the caches both contenders read.
        cursor.execute("SELECT count(service_point) FROM cadastre_serviceaccount")
        cursor.execute("SELECT count(*) FROM sectors_accountsectors")
    print(
        f"{accounts:,} accounts; {commercial:,} zones/sectors/books, {flat} DMAs and tariff "
        f"zones, cut into {pieces:,} pieces"
    )

    raw = [timed_sql(RAW_JOIN_SQL, "bench_raw_join")]
    print(f"raw join: {raw[0]:.2f} s", flush=True)
    ours, outcome = full_reassignment_seconds()
    print(
        f"full reassignment: {ours:.2f} s ({outcome.inserted:,} rows written with history, "
        f"{accounts / ours:,.0f} accounts/s)",
        flush=True,
    )
    raw.append(timed_sql(RAW_JOIN_SQL, "bench_raw_join"))
    print(f"raw join again: {raw[1]:.2f} s", flush=True)
    baseline = min(raw)
    raw_pieces = timed_sql(RAW_PIECES_SQL, "bench_raw_pieces")
    print(f"raw join over the engine's pieces: {raw_pieces:.2f} s", flush=True)
    started = time.perf_counter()
    idle = assign_all()
    idle_s = time.perf_counter() - started
    print(
        f"pass with nothing to change: {idle_s:.2f} s ({idle.inserted + idle.updated} written)",
        flush=True,
    )
    preview_s, apply_s, moved = boundary_change_seconds()
    print(
        f"boundary change ({moved} accounts moving): preview {preview_s:.2f} s, "
        f"apply with token {apply_s:.2f} s",
        flush=True,
    )
    print(
        f"full reassignment / raw join over the pieces: {ours / raw_pieces:.2f}; "
        f"raw join over the pieces / raw join: {raw_pieces / baseline:.2f}"
    )
    ok = result("sectorize_full_vs_raw_join", value=ours, baseline=baseline, goal=2.0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
