"""Parcel editing services (cadastre.services) and their topology rules, on the real PostGIS.

Coordinates are metres in the storage SRID, relative to (300 000, 2 270 000) in UTM 14N.
The block is 100 m by 60 m; the neighbour "0012-045-001" is the 20 m square at its corner.
"""

import threading
from decimal import Decimal

import pghistory.models
import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from django.db import connection
from django.utils import translation

from cadastre import services
from cadastre.errors import CadastreError
from cadastre.models import (
    LandUse,
    LineageOperation,
    Ownership,
    Parcel,
    ParcelLineage,
    ParcelStatus,
    ServiceAccount,
)
from gis_core.srid import WGS84, storage_srid
from tests.cadastre.factories_topology import OwnerFactory, ServiceAccountFactory
from tests.factories import BlockFactory, LocalityFactory, ParcelFactory, UserFactory

pytestmark = pytest.mark.django_db

X0, Y0 = 300_000.0, 2_270_000.0


def rect(x0, y0, x1, y1, srid=None) -> Polygon:
    return poly((x0, y0), (x1, y0), (x1, y1), (x0, y1), srid=srid)


def poly(*points, srid=None) -> Polygon:
    ring = [(X0 + x, Y0 + y) for x, y in points]
    return Polygon([*ring, ring[0]], srid=srid or settings.CAUDAL_SRID)


def pt(x, y) -> Point:
    return Point(X0 + x, Y0 + y, srid=settings.CAUDAL_SRID)


def line(*points) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in points], srid=settings.CAUDAL_SRID)


def local(geom):
    """Vertices of a stored polygon's shell relative to the origin, rounded to the mm."""
    return [(round(x - X0, 3), round(y - Y0, 3)) for x, y in geom.exterior_ring.coords]


def snapshot():
    """Everything a rejected edit must leave untouched."""
    return (
        sorted(
            Parcel.objects.values_list(
                "pk", "cadastral_key", "status", "land_use", "address", "built_area_m2"
            )
        ),
        sorted((p.pk, p.geom.ewkt) for p in Parcel.objects.all()),
        sorted(ParcelLineage.objects.values_list("parent_id", "child_id", "operation")),
        sorted(ServiceAccount.objects.values_list("pk", "parcel_id")),
        pghistory.models.Events.objects.count(),
    )


def rejected(code, call):
    """Run ``call``, assert it raises ``CadastreError(code)`` and wrote nothing; return it."""
    before = snapshot()
    with pytest.raises(CadastreError) as info:
        call()
    assert info.value.code == code, info.value.message
    assert snapshot() == before
    return info.value


@pytest.fixture
def block():
    locality = LocalityFactory(code="0012")
    return BlockFactory(locality=locality, code="045", geom=rect(0, 0, 100, 60))


@pytest.fixture
def neighbour(block):
    return ParcelFactory(block=block, cadastral_key="0012-045-001", geom=rect(0, 0, 20, 20))


def create(block, geom, **kwargs):
    return services.parcel_create(
        block=block, geom=geom, land_use=kwargs.pop("land_use", LandUse.RESIDENTIAL), **kwargs
    )


# --- create: numbering, snapping, tolerances ------------------------------------------------


def test_create_takes_the_next_number_after_retired_keys(block, neighbour):
    ParcelFactory(
        block=block,
        cadastral_key="0012-045-007",
        status=ParcelStatus.RETIRED,
        geom=rect(60, 0, 80, 20),
    )
    parcel = create(block, rect(20, 0, 40, 20), address="Calle Hidalgo 14")
    assert parcel.cadastral_key == "0012-045-008"
    assert parcel.status == ParcelStatus.ACTIVE
    assert parcel.land_area_m2 == Decimal("400.00")
    assert parcel.geom.srid == storage_srid()
    assert parcel.address == "Calle Hidalgo 14"


def test_create_keeps_an_explicit_key(block):
    parcel = create(block, rect(20, 0, 40, 20), cadastral_key="0012-045-050")
    assert parcel.cadastral_key == "0012-045-050"


def test_vertices_02m_from_the_neighbour_snap_onto_its_vertex_and_its_edge(block, neighbour):
    # (20.2, 0) and (20.2, 20) are 0.2 m from the neighbour's corners, (20.2, 10) is 0.2 m
    # from the middle of its east edge (no vertex there).
    geom = poly((20.2, 0), (40, 0), (40, 20), (20.2, 20), (20.2, 10))
    parcel = create(block, geom)
    assert local(parcel.geom) == [(20, 0), (40, 0), (40, 20), (20, 20), (20, 10), (20, 0)]
    assert not parcel.geom.overlaps(neighbour.geom)
    assert parcel.geom.touches(neighbour.geom)


def test_a_neighbour_vertex_on_the_new_edge_is_inserted_into_it(block, neighbour):
    # The new parcel spans the neighbour's whole north edge and beyond: the neighbour's corner
    # (20, 20) lies on the new south edge and becomes a vertex of it.
    parcel = create(block, rect(0, 20, 40, 40))
    assert (20, 20) in local(parcel.geom)


def test_outline_that_collapses_when_snapped_is_rejected_as_invalid(block, neighbour):
    # A 10 cm triangle next to the neighbour's corner: every vertex snaps onto that corner.
    speck = poly((20.1, 0.05), (20.2, 0.05), (20.2, 0.15))
    error = rejected("invalid_geometry", lambda: create(block, speck))
    assert error.where is not None


def test_overlap_of_1cm_is_tolerated(block, neighbour, settings):
    # Snapping off, so the 1 cm strip reaches the overlap rule instead of being snapped away.
    settings.CAUDAL_TOPOLOGY = {**settings.CAUDAL_TOPOLOGY, "SNAP_TOLERANCE_M": 0}
    parcel = create(block, rect(19.99, 0, 40, 20))
    assert parcel.geom.intersection(neighbour.geom).area == pytest.approx(0.2, abs=1e-6)


def test_overlap_of_1m_is_rejected_with_the_overlap_as_where(block, neighbour):
    error = rejected("overlap", lambda: create(block, rect(19, 0, 40, 20)))
    assert error.where.srid == storage_srid()
    assert error.where.area == pytest.approx(20.0)
    assert error.where.sym_difference(rect(19, 0, 20, 20)).area < 1e-6
    assert "0012-045-001" in error.message


def test_overlapping_a_retired_parcel_is_allowed(block):
    ParcelFactory(
        block=block, cadastral_key="0012-045-001", status="retired", geom=rect(0, 0, 20, 20)
    )
    assert create(block, rect(0, 0, 20, 20)).cadastral_key == "0012-045-002"


def test_part_outside_the_block_is_rejected_with_that_part_as_where(block):
    error = rejected("outside_block", lambda: create(block, rect(90, 0, 110, 20)))
    assert error.where.sym_difference(rect(100, 0, 110, 20)).area < 1e-6
    assert "0012-045" in error.message


def test_bow_tie_is_rejected_with_the_reason_and_its_location(block):
    bow_tie = poly((30, 30), (50, 50), (50, 30), (30, 50))
    error = rejected("invalid_geometry", lambda: create(block, bow_tie))
    assert "Self-intersection" in error.message
    assert error.where.geom_type == "Point"
    assert error.where.srid == storage_srid()
    assert error.where.distance(pt(40, 40)) < 1e-6


def test_input_in_wgs84_is_stored_in_the_storage_srid_and_finds_its_block(block, neighbour):
    wanted = rect(20, 0, 40, 20)
    parcel = services.parcel_create(
        block=None, geom=wanted.transform(WGS84, clone=True), land_use=LandUse.COMMERCIAL
    )
    assert parcel.block == block
    assert parcel.geom.srid == storage_srid()
    for (x, y), (wx, wy) in zip(local(parcel.geom), local(wanted), strict=True):
        assert abs(x - wx) < 0.001 and abs(y - wy) < 0.001


def test_one_part_multipolygon_is_accepted_as_its_polygon(block):
    parcel = create(block, MultiPolygon(rect(20, 0, 40, 20), srid=settings.CAUDAL_SRID))
    assert parcel.geom.geom_type == "Polygon"


def test_parcel_in_no_block_is_rejected(block):
    rejected("outside_block", lambda: create(None, rect(200, 0, 220, 20)))


def test_parcel_straddling_two_blocks_is_rejected(block):
    BlockFactory(locality=block.locality, code="046", geom=rect(110, 0, 210, 60))
    error = rejected("straddles_blocks", lambda: create(None, rect(90, 0, 130, 20)))
    assert "0012-045" in error.message and "0012-046" in error.message


@pytest.mark.parametrize(
    ("geom", "code"),
    [
        (Polygon(((0, 0), (10, 0), (10, 10), (0, 0))), "missing_srid"),
        (Polygon(srid=32614), "empty_geometry"),
        (Point(X0, Y0, srid=32614), "wrong_geometry_type"),
        ("POLYGON((0 0, 1 0, 1 1, 0 0))", "wrong_geometry_type"),
        (
            MultiPolygon(rect(20, 0, 30, 10), rect(40, 0, 50, 10), srid=32614),
            "wrong_geometry_type",
        ),
    ],
)
def test_geometry_that_is_not_one_polygon_with_an_srid_is_rejected(block, geom, code):
    rejected(code, lambda: create(block, geom))


def test_too_many_vertices_are_rejected(block, settings):
    settings.CAUDAL_IMPORT_LIMITS = {**settings.CAUDAL_IMPORT_LIMITS, "MAX_VERTICES_PER_FEATURE": 4}
    rejected("too_many_vertices", lambda: create(block, rect(20, 0, 40, 20)))


@pytest.mark.parametrize("key", ["12-45-7", "0012-045-0071", "0012_045_007"])
def test_malformed_cadastral_key_is_rejected(block, key):
    rejected("invalid_cadastral_key", lambda: create(block, rect(20, 0, 40, 20), cadastral_key=key))


def test_key_of_a_retired_parcel_cannot_be_reused(block):
    ParcelFactory(
        block=block, cadastral_key="0012-045-003", status="retired", geom=rect(60, 0, 80, 20)
    )
    error = rejected(
        "duplicate_cadastral_key",
        lambda: create(block, rect(20, 0, 40, 20), cadastral_key="0012-045-003"),
    )
    assert "0012-045-003" in error.message


def test_invalid_land_use_is_rejected(block):
    rejected("invalid_land_use", lambda: create(block, rect(20, 0, 40, 20), land_use="castle"))


# --- reshape and attributes -----------------------------------------------------------------


def test_reshape_replaces_the_outline_and_ignores_the_parcel_itself(block, neighbour):
    parcel = services.parcel_reshape(parcel=neighbour, geom=rect(0, 0, 25.1, 20))
    # The east edge is 0.1 m from nothing but the parcel's own old outline: not snapped back.
    assert parcel.land_area_m2 == Decimal("502.00")
    assert parcel.cadastral_key == "0012-045-001"


def test_reshape_onto_a_neighbour_is_rejected(block, neighbour):
    other = ParcelFactory(block=block, cadastral_key="0012-045-002", geom=rect(20, 0, 40, 20))
    rejected("overlap", lambda: services.parcel_reshape(parcel=other, geom=rect(10, 0, 40, 20)))


def test_update_attributes_changes_only_what_is_given(block, neighbour):
    parcel = services.parcel_update_attributes(
        parcel=neighbour, land_use=LandUse.COMMERCIAL, built_area_m2=Decimal("120.5")
    )
    assert parcel.land_use == LandUse.COMMERCIAL
    assert parcel.built_area_m2 == Decimal("120.50")
    assert parcel.address == neighbour.address


def test_negative_built_area_is_rejected(neighbour):
    rejected(
        "invalid_built_area",
        lambda: services.parcel_update_attributes(parcel=neighbour, built_area_m2=Decimal(-1)),
    )


@pytest.mark.parametrize(
    "edit",
    [
        lambda p, q: services.parcel_reshape(parcel=p, geom=rect(0, 0, 20, 20)),
        lambda p, q: services.parcel_split(parcel=p, line=line((10, -5), (10, 25))),
        lambda p, q: services.parcel_merge(parcels=[p, q]),
        lambda p, q: services.parcel_update_attributes(parcel=p, address="Calle Juárez 1"),
    ],
    ids=["reshape", "split", "merge", "attributes"],
)
def test_a_retired_parcel_cannot_be_edited(block, edit):
    retired = ParcelFactory(
        block=block, cadastral_key="0012-045-001", status="retired", geom=rect(0, 0, 20, 20)
    )
    active = ParcelFactory(block=block, cadastral_key="0012-045-002", geom=rect(20, 0, 40, 20))
    error = rejected("retired_parcel", lambda: edit(retired, active))
    assert "0012-045-001" in error.message


# --- split ----------------------------------------------------------------------------------


@pytest.fixture
def parent(block):
    ParcelFactory(
        block=block, cadastral_key="0012-045-005", status="retired", geom=rect(60, 0, 80, 20)
    )
    return ParcelFactory(
        block=block,
        cadastral_key="0012-045-001",
        land_use=LandUse.MIXED,
        address="Av. Juárez 100",
        geom=rect(0, 0, 20, 20),
    )


def test_split_makes_two_children_retires_the_parent_and_writes_lineage(parent):
    editor = UserFactory()
    children = services.parcel_split(parcel=parent, line=line((8, -5), (8, 25)), user=editor)
    assert [c.cadastral_key for c in children] == ["0012-045-006", "0012-045-007"]
    assert sorted(c.land_area_m2 for c in children) == [Decimal("160.00"), Decimal("240.00")]
    assert sum(c.geom.area for c in children) == pytest.approx(parent.geom.area, abs=1e-6)
    for child in children:
        assert (child.block_id, child.land_use, child.address) == (
            parent.block_id,
            LandUse.MIXED,
            "Av. Juárez 100",
        )
        assert child.status == ParcelStatus.ACTIVE
    parent.refresh_from_db()
    assert parent.status == ParcelStatus.RETIRED
    links = ParcelLineage.objects.filter(parent=parent)
    assert sorted(links.values_list("child_id", flat=True)) == sorted(c.pk for c in children)
    assert set(links.values_list("operation", "created_by")) == {
        (LineageOperation.SPLIT, editor.pk)
    }


def test_split_moves_each_account_to_the_child_of_its_service_point(parent):
    inside_west = ServiceAccountFactory(parcel=parent, service_point=pt(3, 10))
    inside_east = ServiceAccountFactory(parcel=parent, service_point=pt(15, 10))
    street_east = ServiceAccountFactory(parcel=parent, service_point=pt(15, -1.5))
    street_west = ServiceAccountFactory(parcel=parent, service_point=pt(-0.5, 4))
    west, east = sorted(
        services.parcel_split(parcel=parent, line=line((8, -5), (8, 25))),
        key=lambda c: c.geom.centroid.x,
    )
    moved = dict(ServiceAccount.objects.values_list("pk", "parcel_id"))
    assert moved[inside_west.pk] == west.pk
    assert moved[inside_east.pk] == east.pk
    assert moved[street_east.pk] == east.pk
    assert moved[street_west.pk] == west.pk


def test_split_of_a_u_shaped_parcel_across_both_arms_gives_three_children(block):
    u_shape = poly((0, 0), (30, 0), (30, 20), (20, 20), (20, 10), (10, 10), (10, 20), (0, 20))
    parent = ParcelFactory(block=block, cadastral_key="0012-045-001", geom=u_shape)
    children = services.parcel_split(parcel=parent, line=line((-5, 15), (35, 15)))
    assert [c.cadastral_key for c in children] == ["0012-045-002", "0012-045-003", "0012-045-004"]
    assert sorted(c.land_area_m2 for c in children) == [
        Decimal("50.00"),
        Decimal("50.00"),
        Decimal("400.00"),
    ]
    assert ParcelLineage.objects.filter(parent=parent).count() == 3


def test_split_cutting_off_a_sliver_is_rejected(parent, settings):
    # Snapping off: with it, the line would be pulled onto the parcel's edge instead.
    settings.CAUDAL_TOPOLOGY = {**settings.CAUDAL_TOPOLOGY, "SNAP_TOLERANCE_M": 0}
    error = rejected(
        "split_sliver",
        lambda: services.parcel_split(parcel=parent, line=line((-5, 0.02), (25, 0.02))),
    )
    assert error.where.area == pytest.approx(0.4)


def test_split_line_in_wgs84_is_accepted(parent):
    blade = line((8, -5), (8, 25)).transform(WGS84, clone=True)
    assert len(services.parcel_split(parcel=parent, line=blade)) == 2


def test_split_line_that_stops_inside_the_parcel_is_rejected(parent):
    ServiceAccountFactory(parcel=parent, service_point=pt(3, 10))
    error = rejected(
        "split_line_does_not_cross",
        lambda: services.parcel_split(parcel=parent, line=line((8, -5), (8, 10))),
    )
    assert "0012-045-001" in error.message


def test_split_line_missing_the_parcel_is_rejected(parent):
    rejected(
        "split_line_does_not_cross",
        lambda: services.parcel_split(parcel=parent, line=line((30, -5), (30, 25))),
    )


def test_split_line_near_a_corner_snaps_to_it_instead_of_cutting_a_sliver(parent):
    # Meant as the diagonal from corner to corner, drawn 0.1 m off at both ends.
    children = services.parcel_split(parcel=parent, line=line((-5, -5.1), (25, 25.1)))
    assert sorted(c.land_area_m2 for c in children) == [Decimal("200.00"), Decimal("200.00")]


def test_split_then_merge_restores_the_area_and_keeps_lineage(parent):
    ServiceAccountFactory(parcel=parent, service_point=pt(3, 10))
    children = services.parcel_split(parcel=parent, line=line((8, -5), (8, 25)))
    merged = services.parcel_merge(parcels=children)
    assert merged.geom.area == pytest.approx(parent.geom.area, abs=0.01)
    assert merged.geom.sym_difference(parent.geom).area < 0.01
    assert merged.land_use == LandUse.MIXED
    assert merged.cadastral_key == "0012-045-008"
    assert ParcelLineage.objects.filter(parent=parent, operation="split").count() == 2
    assert sorted(
        ParcelLineage.objects.filter(child=merged, operation="merge").values_list(
            "parent_id", flat=True
        )
    ) == sorted(c.pk for c in children)
    assert set(Parcel.objects.filter(pk__in=[c.pk for c in children]).values_list("status")) == {
        (ParcelStatus.RETIRED,)
    }
    assert ServiceAccount.objects.get().parcel == merged


# --- merge ----------------------------------------------------------------------------------


def test_merge_closes_a_gap_thinner_than_the_snap_tolerance(block):
    west = ParcelFactory(block=block, cadastral_key="0012-045-001", geom=rect(0, 0, 20, 20))
    east = ParcelFactory(block=block, cadastral_key="0012-045-002", geom=rect(20.02, 0, 40, 20))
    account = ServiceAccountFactory(parcel=east)
    merged = services.parcel_merge(parcels=[east, west])
    assert merged.geom.num_interior_rings == 0
    assert merged.geom.area == pytest.approx(800, abs=0.01)
    account.refresh_from_db()
    assert account.parcel == merged


@pytest.mark.parametrize(
    "second", [rect(30, 0, 50, 20), rect(20, 20, 40, 40)], ids=["apart", "corner"]
)
def test_merge_of_parcels_that_share_no_edge_is_rejected(block, neighbour, second):
    other = ParcelFactory(block=block, cadastral_key="0012-045-002", geom=second)
    rejected("not_adjacent", lambda: services.parcel_merge(parcels=[neighbour, other]))


def test_merge_across_blocks_is_rejected(block, neighbour):
    other_block = BlockFactory(locality=block.locality, code="046", geom=rect(-100, 0, 0, 60))
    other = ParcelFactory(block=other_block, cadastral_key="0012-046-001", geom=rect(-20, 0, 0, 20))
    rejected("different_blocks", lambda: services.parcel_merge(parcels=[neighbour, other]))


def test_merge_of_one_parcel_is_rejected(neighbour):
    rejected("too_few_parcels", lambda: services.parcel_merge(parcels=[neighbour, neighbour]))


# --- ownership follows the land ---------------------------------------------------------------


def _owners(parcel):
    return set(parcel.ownerships.values_list("owner_id", "share_percent"))


def test_split_children_keep_the_parents_owners_and_shares(parent):
    first, second = OwnerFactory(), OwnerFactory()
    Ownership.objects.create(owner=first, parcel=parent, share_percent=Decimal("60"))
    Ownership.objects.create(owner=second, parcel=parent, share_percent=Decimal("40"))
    children = services.parcel_split(parcel=parent, line=line((8, -5), (8, 25)))
    for child in children:
        assert _owners(child) == {(first.pk, Decimal("60")), (second.pk, Decimal("40"))}


def test_merge_of_parcels_with_the_same_owner_gives_the_merged_parcel_to_that_owner(block):
    owner = OwnerFactory()
    west = ParcelFactory(block=block, cadastral_key="0012-045-001", geom=rect(0, 0, 20, 20))
    east = ParcelFactory(block=block, cadastral_key="0012-045-002", geom=rect(20, 0, 40, 20))
    for parcel in (west, east):
        Ownership.objects.create(owner=owner, parcel=parcel, share_percent=Decimal("100"))
    merged = services.parcel_merge(parcels=[west, east])
    assert _owners(merged) == {(owner.pk, Decimal("100"))}


def test_merge_of_parcels_with_different_owners_is_rejected(block):
    west = ParcelFactory(block=block, cadastral_key="0012-045-001", geom=rect(0, 0, 20, 20))
    east = ParcelFactory(block=block, cadastral_key="0012-045-002", geom=rect(20, 0, 40, 20))
    Ownership.objects.create(owner=OwnerFactory(), parcel=west, share_percent=Decimal("100"))
    Ownership.objects.create(owner=OwnerFactory(), parcel=east, share_percent=Decimal("100"))
    error = rejected("different_owners", lambda: services.parcel_merge(parcels=[west, east]))
    assert error.where is not None


# --- history and language -------------------------------------------------------------------


def test_history_events_carry_the_user_and_the_service(parent):
    editor = UserFactory()
    children = services.parcel_split(parcel=parent, line=line((8, -5), (8, 25)), user=editor)
    update = pghistory.models.Events.objects.tracks(parent).filter(pgh_label="update").get()
    assert update.pgh_data["status"] == ParcelStatus.RETIRED
    assert update.pgh_context["user"] == editor.pk
    assert update.pgh_context["service"] == "parcel_split"
    insert = pghistory.models.Events.objects.tracks(children[0]).filter(pgh_label="insert").get()
    assert insert.pgh_context["user"] == editor.pk
    link = pghistory.models.Events.objects.tracks(ParcelLineage.objects.first()).get()
    assert link.pgh_context["service"] == "parcel_split"


def test_a_service_called_without_user_keeps_the_user_of_the_enclosing_request(neighbour):
    editor = UserFactory()
    with pghistory.context(user=editor.pk, url="/api/cadastre/edit/"):
        services.parcel_update_attributes(parcel=neighbour, address="Calle Juárez 1")
    update = pghistory.models.Events.objects.tracks(neighbour).filter(pgh_label="update").get()
    assert update.pgh_context["user"] == editor.pk
    assert update.pgh_context["service"] == "parcel_update_attributes"


def test_messages_are_spanish_by_default_and_english_on_request(block, neighbour):
    with translation.override("es-mx"):
        spanish = rejected("overlap", lambda: create(block, rect(19, 0, 40, 20)))
    assert "se superpone" in spanish.message
    assert "0012-045-001" in spanish.message
    with translation.override("en"):
        english = rejected("overlap", lambda: create(block, rect(19, 0, 40, 20)))
    assert "overlaps" in english.message


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_editors_drawing_overlapping_parcels_at_once_cannot_both_win(block):
    """Both wait on the block, then run one after the other: the second sees the first."""
    results = []
    start = threading.Barrier(3)

    def draw(geom):
        try:
            start.wait()
            results.append(create(block, geom).cadastral_key)
        except CadastreError as error:
            results.append(error.code)
        finally:
            connection.close()

    from django.db import transaction

    threads = [
        threading.Thread(target=draw, args=(rect(0, 0, 30, 20),)),
        threading.Thread(target=draw, args=(rect(10, 0, 40, 20),)),
    ]
    with transaction.atomic():
        # Hold the block so both editors are inside their services before either can proceed.
        list(type(block).objects.select_for_update().filter(pk=block.pk))
        for thread in threads:
            thread.start()
        start.wait()
        threading.Event().wait(0.5)
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["0012-045-001", "overlap"]
    assert Parcel.objects.count() == 1
