"""The demo city at the issue's scale: 1,000,000 accounts' worth of parcels (``make test-slow``).

Same invariants as test_demo_city.py, checked in SQL over the whole city. Timing lives in
bench/demo_city.py, not here.
"""

import pytest
from django.conf import settings
from django.db import connection

from core.demo import DemoContext
from core.services import demo_city_build
from tests.conftest import rolled_back_transaction

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

ACCOUNTS = 1_000_000


def _scalar(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def big_city(django_db_setup, django_db_blocker):
    with rolled_back_transaction(django_db_blocker):
        ctx = DemoContext(
            accounts=ACCOUNTS,
            seed=7,
            srid=settings.CAUDAL_SRID,
            center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
        )
        demo_city_build(ctx=ctx, log=lambda _m: None)
        yield


def test_a_million_parcels_all_valid(big_city):
    assert _scalar("SELECT COUNT(*) FROM cadastre_parcel") == ACCOUNTS
    assert _scalar("SELECT COUNT(*) FROM cadastre_parcel WHERE NOT ST_IsValid(geom)") == 0
    assert _scalar("SELECT COUNT(*) FROM cadastre_block WHERE NOT ST_IsValid(geom)") == 0


def test_a_million_parcels_inside_their_blocks(big_city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_parcel p JOIN cadastre_block b ON b.id = p.block_id"
            " WHERE NOT ST_CoveredBy(p.geom, b.geom)"
        )
        == 0
    )


def test_a_million_parcels_without_overlaps(big_city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_parcel a JOIN cadastre_parcel b"
            " ON a.id < b.id AND a.block_id = b.block_id AND a.geom && b.geom"
            " AND ST_Relate(a.geom, b.geom, '2********')"
        )
        == 0
    )
    # Parcels of different blocks are separated by streets, so blocks must not meet.
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_block a JOIN cadastre_block b"
            " ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)"
        )
        == 0
    )


def test_keys_are_unique_and_every_block_has_parcels(big_city):
    assert _scalar("SELECT COUNT(DISTINCT cadastral_key) FROM cadastre_parcel") == ACCOUNTS
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_block b WHERE NOT EXISTS"
            " (SELECT 1 FROM cadastre_parcel p WHERE p.block_id = b.id)"
        )
        == 0
    )
