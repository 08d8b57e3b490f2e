"""The demo city's sector layers: they tile the city, books hold ~300-500 accounts of whole
blocks, and every account is assigned once per level.

The city is built once for the module inside a transaction rolled back at the end.
"""

import pytest
from django.conf import settings
from django.db import connection

from core.demo import DemoContext, ordered_steps
from sectors.selectors import coverage_gaps, unassigned_counts
from tests.conftest import rolled_back_transaction

ACCOUNTS = 6000
SEED = 5

pytestmark = pytest.mark.django_db


def _ctx():
    return DemoContext(
        accounts=ACCOUNTS,
        seed=SEED,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )


def _rows(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


NEEDED = ("cadastre.base_map", "cadastre.customer_roll", "sectors.sectorization")


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """Only the steps sectorization builds on (the other apps' steps are theirs to test)."""
    with rolled_back_transaction(django_db_blocker):
        steps = {step.name: step for step in ordered_steps()}
        assert set(steps["sectors.sectorization"].after) <= set(NEEDED)
        counts = {}
        for name in NEEDED:
            counts = steps[name].run(_ctx())
        yield counts


def test_every_layer_is_drawn(city):
    assert city["zones"] >= 2
    assert city["sectors"] == _scalar("SELECT count(*) FROM cadastre_locality")
    assert city["books"] >= ACCOUNTS / 500
    assert city["dmas"] >= 2 and city["tariff_zones"] >= 2


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ("sectors_commercialarea", "level = 'zone'"),
        ("sectors_commercialarea", "level = 'sector'"),
        ("sectors_commercialarea", "level = 'book'"),
        ("sectors_dma", "TRUE"),
        ("sectors_tariffzone", "TRUE"),
    ],
)
def test_each_layer_tiles_the_city_without_overlaps(city, table, where):
    city_area = _scalar("SELECT ST_Area(ST_Union(geom)) FROM cadastre_locality")
    total, union, overlap = (
        _scalar(f"SELECT sum(ST_Area(geom)) FROM {table} WHERE {where}"),
        _scalar(f"SELECT ST_Area(ST_Union(geom)) FROM {table} WHERE {where}"),
        _scalar(
            f"""SELECT COALESCE(max(ST_Area(ST_Intersection(a.geom, b.geom))), 0)
                  FROM {table} a JOIN {table} b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)
                 WHERE {where.replace("level", "a.level")} AND {where.replace("level", "b.level")}"""
        ),
    )
    assert union == pytest.approx(city_area, rel=1e-6)
    assert total == pytest.approx(city_area, rel=1e-6)
    assert overlap < 0.01  # m²: floating-point noise of the books' differences at most


def test_children_lie_inside_their_parents(city):
    assert (
        _scalar(
            """SELECT count(*) FROM sectors_commercialarea c
                 JOIN sectors_commercialarea p ON p.id = c.parent_id
                WHERE ST_Area(ST_Difference(c.geom, p.geom)) > 0.01"""
        )
        == 0
    )


def test_books_are_runs_of_whole_blocks_of_about_400_accounts(city):
    rows = _rows(
        """SELECT count(*), max(t.total) FROM sectors_accountsectors s
             JOIN (SELECT sector_id, count(*) AS total FROM sectors_accountsectors
                    GROUP BY sector_id) t USING (sector_id)
            GROUP BY s.book_id"""
    )
    # A colonia cut by the city's edge may hold fewer than 300 accounts, and one of 500 to 600
    # cannot be cut into books of 300 to 500: those are the exceptions.
    assert max(n for n, _total in rows) <= 600
    full = [n for n, total in rows if total >= 600]
    assert full and all(250 <= n <= 550 for n in full)
    # Every block's accounts are in one book.
    assert (
        _scalar(
            """SELECT count(*) FROM (
                 SELECT p.block_id FROM sectors_accountsectors s
                   JOIN cadastre_serviceaccount a ON a.id = s.account_id
                   JOIN cadastre_parcel p ON p.id = a.parcel_id
                  GROUP BY p.block_id HAVING count(DISTINCT s.book_id) > 1) x"""
        )
        == 0
    )


def test_every_account_is_assigned_at_every_level(city):
    assert city["accounts_assigned"] == ACCOUNTS
    counts = unassigned_counts()
    assert counts == {
        "accounts": ACCOUNTS,
        "zone": 0,
        "sector": 0,
        "book": 0,
        "dma": 0,
        "tariff_zone": 0,
    }
    # The sector of an account is the colonia of its parcel.
    assert (
        _scalar(
            """SELECT count(*) FROM sectors_accountsectors s
                 JOIN cadastre_serviceaccount a ON a.id = s.account_id
                 JOIN cadastre_parcel p ON p.id = a.parcel_id
                 JOIN cadastre_block b ON b.id = p.block_id
                 JOIN cadastre_locality l ON l.id = b.locality_id
                 JOIN sectors_commercialarea c ON c.id = s.sector_id
                WHERE c.code <> 'S' || l.code"""
        )
        == 0
    )


def test_the_demo_city_has_no_gaps(city):
    assert coverage_gaps(kind="zone") == []
    assert coverage_gaps(kind="book", parent_id=None) == []
