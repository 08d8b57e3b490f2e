"""Editing rules of sector layers: what is refused, with what error and where, and that a
refused edit writes nothing."""

import pghistory.models
import pytest
from django.contrib.gis.geos import LineString, MultiPolygon, Polygon
from django.db import connection

from sectors import services
from sectors.models import AccountSectors, AreaPiece, CommercialArea, Dma, SectorsError
from tests.factories import ORIGIN_X, ORIGIN_Y
from tests.sectors.factories import SRID, accounts_at, area, build_town, rect

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    return build_town()


def _snapshot():
    """Everything a refused edit must leave as it was."""
    return (
        sorted((a.level, a.code, a.parent_id, a.geom.ewkt) for a in CommercialArea.objects.all()),
        sorted((d.code, d.geom.ewkt) for d in Dma.objects.all()),
        AreaPiece.objects.count(),
        sorted(AccountSectors.objects.values_list("account_id", "zone_id", "sector_id", "book_id")),
        pghistory.models.Events.objects.count(),
    )


def _refused(expected, **kwargs):
    before = _snapshot()
    with pytest.raises(SectorsError) as caught:
        services.area_create(**kwargs) if "area" not in kwargs else services.area_update(**kwargs)
    assert caught.value.code == expected, caught.value.message
    assert _snapshot() == before
    return caught.value


def test_a_sector_overlapping_its_sibling_is_refused_and_nothing_is_written(town):
    accounts_at([(600, 100)])
    services.assign_all()
    error = _refused(
        "overlap",
        kind="sector",
        code="S3",
        name="Tercero",
        parent=town.z1,
        geom=rect(400, 0, 1000, 200),  # takes 100 m x 200 m of S1 and S2's bottom
    )
    assert "S1" in error.message and "S2" in error.message
    assert error.where.area == pytest.approx(600 * 200)
    assert error.where.srid == SRID


def test_an_overlap_thinner_than_the_tolerance_is_accepted(town):
    tol = services.overlap_tolerance()
    diff = services.area_update(
        kind="sector", area=town.s2, geom=rect(500 - tol / 3, 0, 1000, 1000)
    )
    assert diff.applied
    town.s2.refresh_from_db()
    assert town.s2.geom.extent[0] == pytest.approx(ORIGIN_X + 500 - tol / 3)


def test_a_dma_overlapping_another_dma_is_refused(town):
    error = _refused("overlap", kind="dma", code="D2", name="Norte", geom=rect(1400, 0, 2000, 1000))
    assert "D1" in error.message
    assert error.where.area == pytest.approx(100 * 1000)


def test_a_sector_reaching_outside_its_zone_is_refused(town):
    error = _refused(
        "outside_parent",
        kind="book",
        code="B3",
        name="Libro 3",
        parent=town.s2,
        geom=rect(600, 900, 800, 1100),
    )
    assert error.where.area == pytest.approx(200 * 100)
    assert "S2" in error.message


def test_shrinking_a_zone_under_its_sectors_is_refused(town):
    error = _refused("children_outside", kind="zone", area=town.z1, geom=rect(0, 0, 900, 1000))
    assert "S2" in error.message
    assert error.where.area == pytest.approx(100 * 1000)


def test_an_invalid_boundary_is_refused_with_the_point_where_it_breaks(town):
    x, y = ORIGIN_X + 3000, ORIGIN_Y
    bowtie = Polygon(((x, y), (x + 10, y + 10), (x + 10, y), (x, y + 10), (x, y)), srid=SRID)
    error = _refused("invalid_geometry", kind="zone", code="Z9", name="x", geom=bowtie)
    assert error.where.geom_type == "Point"
    assert error.where.coords == pytest.approx((x + 5, y + 5))


@pytest.mark.parametrize(
    ("geom", "code"),
    [
        (Polygon(((0, 0), (1, 0), (1, 1), (0, 0))), "missing_srid"),
        (LineString((0, 0), (1, 1), srid=SRID), "wrong_geometry_type"),
        (Polygon(srid=SRID), "empty_geometry"),
        (Polygon(((0, 0), (1, 0), (1, 1), (0, 0)), srid=999999), "unknown_srid"),
    ],
)
def test_bad_boundaries_are_refused_with_a_clear_code(town, geom, code):
    _refused(code, kind="zone", code="Z9", name="x", geom=geom)


def test_a_boundary_in_longitude_latitude_is_stored_in_the_installation_crs(town):
    far = rect(5000, 5000, 5100, 5100)
    lonlat = far.transform(4326, clone=True)
    services.area_create(kind="zone", code="Z9", name="Lejana", geom=lonlat)
    stored = CommercialArea.objects.get(code="Z9")
    assert stored.geom.srid == SRID and stored.geom.geom_type == "MultiPolygon"
    assert stored.geom.area == pytest.approx(100 * 100, rel=1e-6)


def test_parents_are_checked(town):
    _refused("missing_parent", kind="sector", code="S9", name="x", geom=rect(0, 0, 1, 1))
    _refused(
        "unknown_parent", kind="sector", code="S9", name="x", parent=987654, geom=rect(0, 0, 1, 1)
    )
    error = _refused(
        "wrong_parent_level",
        kind="book",
        code="B9",
        name="x",
        parent=town.z2,
        geom=rect(1100, 0, 1200, 10),
    )
    assert "Z2" in error.message
    _refused(
        "parent_not_allowed", kind="dma", code="D9", name="x", parent=town.z1, geom=rect(0, 0, 1, 1)
    )


def test_codes_are_checked(town):
    error = _refused(
        "duplicate_code", kind="zone", code="z1", name="x", geom=rect(3000, 0, 3100, 100)
    )
    assert "Z1" in error.message
    _refused("invalid_code", kind="zone", code="Zona uno", name="x", geom=rect(3000, 0, 3100, 100))
    _refused("invalid_name", kind="zone", code="Z7", name="  ", geom=rect(3000, 0, 3100, 100))


def test_an_area_with_children_cannot_be_deleted(town):
    before = _snapshot()
    with pytest.raises(SectorsError) as caught:
        services.area_delete(kind="sector", area=town.s1)
    assert caught.value.code == "has_children"
    assert _snapshot() == before


def test_deleting_a_book_leaves_its_accounts_in_the_sector(town):
    account = accounts_at([(100, 100)])[0]
    services.assign_all()
    diff = services.area_delete(kind="book", area=town.b1)
    row = AccountSectors.objects.get(account=account)
    assert (row.sector_id, row.book_id) == (town.s1.pk, None)
    assert diff.move_keys() == [(account.pk, "book", "B1", None)]
    assert not AreaPiece.objects.filter(kind="book", area_id=town.b1.pk).exists()
    connection.check_constraints()  # the deferred foreign keys hold


def test_moving_a_sector_to_another_zone_moves_its_accounts_zone(town):
    z3 = area("zone", "Z3", rect(0, 1000, 1000, 2000))
    account = accounts_at([(700, 1500)])[0]
    services.assign_all()
    s3 = area("sector", "S3", rect(500, 1000, 1000, 2000), parent=z3)
    assert AccountSectors.objects.get(account=account).sector_id == s3.pk
    with pytest.raises(SectorsError) as caught:  # S3 does not lie in Z1
        services.area_update(kind="sector", area=s3, parent=town.z1)
    assert caught.value.code == "outside_parent"


def test_multipolygon_areas_are_accepted(town):
    two = MultiPolygon(rect(3000, 0, 3100, 100), rect(3200, 0, 3300, 100), srid=SRID)
    services.area_create(kind="tariff_zone", code="T2", name="Dos partes", geom=two)
    assert AreaPiece.objects.filter(kind="tariff_zone").count() == 3
