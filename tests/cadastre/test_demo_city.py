"""The demo city's base map: valid, non-overlapping, nested, deterministic and idempotent.

The city is built once for the module inside a transaction that is rolled back at the end, so
the test database is left as it was.
"""

import re

import pytest
from django.conf import settings
from django.db import connection, transaction

from cadastre.models import (
    Block,
    Customer,
    Locality,
    Owner,
    Parcel,
    ServiceAccount,
    StreetSegment,
)
from cadastre.validators import validate_rfc
from core.demo import DemoContext, DemoError
from core.models import DemoStepRun
from core.services import demo_city_build
from metering.models import Meter
from tests.conftest import rolled_back_transaction

ACCOUNTS = 3000
SEED = 11
BASE_MAP = ("cadastre.base_map",)


def _ctx(accounts=ACCOUNTS, seed=SEED):
    return DemoContext(
        accounts=accounts,
        seed=seed,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )


def _scalar(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def _scalar_row(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def _digest():
    """One hash of every parcel's key, land use, address and exact geometry."""
    return _scalar(
        "SELECT md5(string_agg(cadastral_key || land_use || address || encode(ST_AsEWKB(geom), 'hex'),"
        " ',' ORDER BY cadastral_key)) FROM cadastre_parcel"
    )


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    with rolled_back_transaction(django_db_blocker):
        demo_city_build(ctx=_ctx(), log=lambda _msg: None)
        yield _digest()


pytestmark = pytest.mark.django_db


def test_builds_exactly_the_requested_number_of_parcels(city):
    assert Parcel.objects.count() == ACCOUNTS
    assert Locality.objects.count() >= 2
    assert Block.objects.count() > ACCOUNTS / 40
    assert StreetSegment.objects.count() > Block.objects.count()


@pytest.mark.parametrize(
    "table", ["cadastre_locality", "cadastre_block", "cadastre_parcel", "cadastre_streetsegment"]
)
def test_every_geometry_is_valid_simple_and_in_the_installation_crs(city, table):
    assert (
        _scalar(
            f"SELECT COUNT(*) FROM {table} WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)"
            " OR ST_SRID(geom) <> %s",
            [settings.CAUDAL_SRID],
        )
        == 0
    )


def test_parcels_do_not_overlap(city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_parcel a JOIN cadastre_parcel b"
            " ON a.id < b.id AND a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')"
        )
        == 0
    )


def test_each_parcel_lies_in_its_block(city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_parcel p JOIN cadastre_block b ON b.id = p.block_id"
            " WHERE NOT ST_CoveredBy(p.geom, b.geom)"
        )
        == 0
    )


def test_parcels_of_a_full_block_tile_it_without_gaps(city):
    # Only the last block taken may be cut short when the parcel count runs out.
    untiled = _scalar(
        "SELECT COUNT(*) FROM cadastre_block b JOIN ("
        "  SELECT block_id, SUM(ST_Area(geom)) AS area FROM cadastre_parcel GROUP BY block_id"
        ") s ON s.block_id = b.id WHERE abs(ST_Area(b.geom) - s.area) > 0.01"
    )
    assert untiled <= 1
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_block b WHERE NOT EXISTS"
            " (SELECT 1 FROM cadastre_parcel p WHERE p.block_id = b.id)"
        )
        == 0
    )


def test_blocks_do_not_touch_and_lie_in_their_locality(city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_block a JOIN cadastre_block b"
            " ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)"
        )
        == 0
    ), "blocks must be separated by streets"
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_block b JOIN cadastre_locality l ON l.id = b.locality_id"
            " WHERE NOT ST_CoveredBy(b.geom, l.geom)"
        )
        == 0
    )


def test_localities_do_not_overlap(city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_locality a JOIN cadastre_locality b"
            " ON a.id < b.id AND ST_Relate(a.geom, b.geom, '2********')"
        )
        == 0
    )


def test_streets_run_between_blocks_not_through_them(city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_streetsegment s JOIN cadastre_block b"
            " ON s.geom && b.geom AND ST_Intersects(s.geom, b.geom)"
        )
        == 0
    )


def test_parcels_have_plausible_keys_areas_addresses_and_land_uses(city):
    keys = Parcel.objects.values_list("cadastral_key", flat=True)
    assert all(re.fullmatch(r"\d{4}-\d{3}-\d{3}", key) for key in keys)
    residential = Parcel.objects.filter(land_use="residential")
    areas = [float(a) for a in residential.values_list("land_area_m2", flat=True)]
    assert min(areas) >= 100 and max(areas) <= 2500
    assert 150 <= sum(areas) / len(areas) <= 800
    uses = set(Parcel.objects.values_list("land_use", flat=True).distinct())
    assert {"residential", "commercial"} <= uses
    assert not Parcel.objects.filter(address="").exists()
    assert re.fullmatch(r"(Calle|Av\.) .+ \d+", Parcel.objects.first().address)


def test_stored_land_area_is_the_polygon_area_in_square_metres(city):
    assert _scalar("SELECT MAX(abs(land_area_m2 - ST_Area(geom))) FROM cadastre_parcel") < 0.006


# The digest is the parcels': rebuilding the base map (the step that draws them) is enough,
# and the whole city again would cost minutes of the suite for the same assertion.
def test_same_seed_gives_the_same_city(city):
    with transaction.atomic():
        demo_city_build(ctx=_ctx(), replace=True, only=BASE_MAP, log=lambda _m: None)
        assert _digest() == city
        transaction.set_rollback(True)


def test_another_seed_gives_another_city(city):
    with transaction.atomic():
        demo_city_build(ctx=_ctx(seed=SEED + 1), replace=True, only=BASE_MAP, log=lambda _m: None)
        assert Parcel.objects.count() == ACCOUNTS
        assert _digest() != city
        transaction.set_rollback(True)


def test_running_twice_adds_nothing(city):
    before = Parcel.objects.count(), Block.objects.count(), StreetSegment.objects.count()
    applied = demo_city_build(ctx=_ctx(), log=lambda _m: None)
    assert applied == []
    assert (Parcel.objects.count(), Block.objects.count(), StreetSegment.objects.count()) == before
    assert DemoStepRun.objects.filter(step="cadastre.base_map").count() == 1


def test_a_city_of_another_size_is_refused_without_replace(city):
    with pytest.raises(DemoError, match="--replace"):
        demo_city_build(ctx=_ctx(accounts=ACCOUNTS + 1), log=lambda _m: None)
    assert Parcel.objects.count() == ACCOUNTS


# --- Customer roll and meters -------------------------------------------------------------


def test_builds_exactly_the_requested_number_of_accounts_each_with_a_customer(city):
    assert ServiceAccount.objects.count() == ACCOUNTS
    assert not ServiceAccount.objects.filter(customer__isnull=True).exists()
    assert Customer.objects.count() == ACCOUNTS


def test_accounts_cover_every_use_type_and_condominiums_share_a_parcel(city):
    uses = set(ServiceAccount.objects.values_list("use_type", flat=True).distinct())
    assert {"domestic", "commercial", "public", "mixed"} <= uses
    multi = _scalar(
        "SELECT COUNT(*) FROM (SELECT parcel_id FROM cadastre_serviceaccount"
        " GROUP BY parcel_id HAVING COUNT(*) > 1) x"
    )
    assert multi > 0
    assert not ServiceAccount.objects.filter(parcel__land_use="vacant").exists()


def test_service_points_lie_on_the_parcel_or_just_outside_on_the_street(city):
    outside, farthest = _scalar_row(
        "SELECT COUNT(*) FILTER (WHERE NOT ST_Intersects(a.service_point, p.geom)),"
        " MAX(ST_Distance(a.service_point, p.geom))"
        " FROM cadastre_serviceaccount a JOIN cadastre_parcel p ON p.id = a.parcel_id"
    )
    assert outside > ACCOUNTS * 0.1, "some connections should be on the street side"
    assert farthest <= 1.5 + 1e-6


def test_ownership_shares_add_up_to_one_hundred_percent_per_parcel(city):
    assert (
        _scalar(
            "SELECT COUNT(*) FROM (SELECT parcel_id FROM cadastre_ownership GROUP BY parcel_id"
            " HAVING abs(SUM(share_percent) - 100) > 0.01) x"
        )
        == 0
    )
    assert (
        _scalar(
            "SELECT COUNT(*) FROM cadastre_parcel p WHERE NOT EXISTS"
            " (SELECT 1 FROM cadastre_ownership o WHERE o.parcel_id = p.id)"
        )
        == 0
    )


def test_every_demo_rfc_passes_python_stdnum_with_check_digits(city):
    rfcs = list(Owner.objects.exclude(rfc="").values_list("rfc", flat=True))
    rfcs += list(Customer.objects.exclude(rfc="").values_list("rfc", flat=True))
    assert len(rfcs) > 100
    for value in rfcs:
        validate_rfc(value)  # raises ValidationError on a bad one


def test_metered_accounts_have_one_installed_meter_and_some_are_flat_rate(city):
    metered = Meter.objects.filter(status="installed").count()
    assert 0.85 * ACCOUNTS < metered < ACCOUNTS
    assert (
        _scalar(
            "SELECT COUNT(*) FROM (SELECT account_id FROM metering_meter WHERE status = 'installed'"
            " GROUP BY account_id HAVING COUNT(*) > 1) x"
        )
        == 0
    )
