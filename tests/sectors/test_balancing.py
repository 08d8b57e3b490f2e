"""Automatic balanced sectors (sectors.balancing, sectors.balancing_api): N contiguous sectors of
whole blocks within ±10 % of the mean, barrier streets respected, impossible requests explained.

The town: a 6 x 5 grid of 80 x 50 m blocks with 12 m streets between them, dense in the
south-west (28 accounts) and thinning to empty parks in the north-east; a north-south avenue
("Av. Barrera") runs between columns 0 and 1.
"""

import json
import math

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, Polygon
from django.test import override_settings
from django.urls import path
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cadastre.models import StreetSegment
from core import roles
from sectors import services
from sectors.balancing import (
    BalancingError,
    BlockGraph,
    block_graph_gather,
    partition_blocks,
    sector_proposal,
)
from sectors.balancing_api import SectorBalanceApi
from tests.cadastre.factories_topology import CustomerFactory, ServiceAccountFactory
from tests.conftest import rolled_back_transaction
from tests.factories import (
    ORIGIN_X,
    ORIGIN_Y,
    BlockFactory,
    LocalityFactory,
    ParcelFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/sectors/balance/"

SRID = settings.CAUDAL_SRID
COLS, ROWS = 6, 5
BLOCK_W, BLOCK_H, STREET = 80.0, 50.0, 12.0
# Active accounts per block, row 0 (south) first.
ACCOUNTS = [
    [28, 24, 18, 12, 8, 6],
    [24, 20, 16, 10, 6, 4],
    [18, 16, 12, 8, 4, 2],
    [12, 10, 8, 6, 2, 0],
    [8, 6, 4, 2, 2, 0],
]
TOTAL = sum(map(sum, ACCOUNTS))  # 296
BARRIER_X = ORIGIN_X + (BLOCK_W + STREET) - STREET / 2  # column 0 holds 90 accounts


def rect(x0, y0, x1, y1) -> Polygon:
    return Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)), srid=SRID)


def block_origin(i: int, j: int) -> tuple[float, float]:
    return ORIGIN_X + i * (BLOCK_W + STREET), ORIGIN_Y + j * (BLOCK_H + STREET)


@pytest.fixture(scope="module")
def town(django_db_setup, django_db_blocker):
    """Built once for the module and rolled back after it; each test's own changes (sectors,
    users) are rolled back after the test."""
    with rolled_back_transaction(django_db_blocker):
        yield build_town()


def build_town() -> dict[tuple[int, int], object]:
    """Blocks keyed by (column, row), each with one parcel and its accounts; one inactive
    account on every block of column 0 (inactive contracts load no sector)."""
    locality = LocalityFactory()
    customer = CustomerFactory()
    blocks = {}
    for j in range(ROWS):
        for i in range(COLS):
            x, y = block_origin(i, j)
            block = BlockFactory(
                locality=locality, code=f"{j * COLS + i + 1:03d}", geom=rect(x, y, x + 80, y + 50)
            )
            parcel = ParcelFactory(
                block=block,
                cadastral_key=f"{locality.code}-{block.code}-001",
                geom=rect(x + 2, y + 2, x + 78, y + 48),
            )
            ServiceAccountFactory.create_batch(ACCOUNTS[j][i], parcel=parcel, customer=customer)
            if i == 0:
                ServiceAccountFactory(parcel=parcel, customer=customer, status="inactive")
            blocks[(i, j)] = block
    top = ORIGIN_Y + ROWS * (BLOCK_H + STREET)
    StreetSegment.objects.create(
        name="Av. Barrera",
        street_class="avenue",
        geom=LineString((BARRIER_X, ORIGIN_Y - 6), (BARRIER_X, top), srid=SRID),
    )
    return blocks


def cell_of(town) -> dict[int, tuple[int, int]]:
    return {block.pk: key for key, block in town.items()}


def grid_connected(cells: list[tuple[int, int]]) -> bool:
    """Whether grid cells are connected through shared sides (the town's street adjacency)."""
    cells = set(cells)
    start = next(iter(cells))
    seen, stack = {start}, [start]
    while stack:
        i, j = stack.pop()
        for nxt in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if nxt in cells and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen == cells


def town_area_lonlat() -> Polygon:
    """The town's envelope with a margin, in WGS 84 (as the map sends it)."""
    x1, y1 = block_origin(COLS, ROWS)
    area = rect(ORIGIN_X - 20, ORIGIN_Y - 20, x1, y1)
    return area.transform(4326, clone=True)


# --- the proposal -------------------------------------------------------------------------


def test_proposal_is_n_contiguous_sectors_of_whole_blocks_within_ten_percent(town):
    proposal = sector_proposal(area=town_area_lonlat(), n=4)

    assert len(proposal.sectors) == 4
    cells = cell_of(town)
    placed = [b for sector in proposal.sectors for b in sector.block_ids]
    assert sorted(placed) == sorted(cells), "every block in exactly one sector"
    mean = TOTAL / 4
    for sector in proposal.sectors:
        assert grid_connected([cells[b] for b in sector.block_ids]), sector.code
        expected = sum(ACCOUNTS[cells[b][1]][cells[b][0]] for b in sector.block_ids)
        assert sector.accounts == expected  # active accounts only
        assert abs(sector.accounts - mean) <= 0.10 * mean, (sector.code, sector.accounts)
        # The outline is exactly its blocks: whole blocks, nothing else.
        assert sector.geom.area == pytest.approx(len(sector.block_ids) * BLOCK_W * BLOCK_H)
        assert 0 < sector.compactness <= 1
    assert [s.code for s in proposal.sectors] == ["S01", "S02", "S03", "S04"]
    figures = proposal.figures
    assert figures.accounts_total == TOTAL
    assert figures.max_deviation_percent <= 10
    assert figures.accounts_min == min(s.accounts for s in proposal.sectors)
    assert proposal.current is None  # no sector drawn here yet


def test_proposal_is_deterministic(town):
    first = sector_proposal(block_ids=[b.pk for b in town.values()], n=6)
    second = sector_proposal(block_ids=[b.pk for b in town.values()], n=6)
    assert [s.block_ids for s in first.sectors] == [s.block_ids for s in second.sectors]


def test_blocks_facing_across_a_street_are_neighbours_and_diagonal_ones_only_corners(town):
    graph = block_graph_gather(block_ids=[b.pk for b in town.values()])
    cells = cell_of(town)
    index = {cells[block_id]: i for i, block_id in enumerate(graph.block_ids)}
    centre = index[(2, 2)]
    neighbours = {cells[graph.block_ids[v]] for v in graph.neighbours[centre]}
    assert neighbours == {(1, 2), (3, 2), (2, 1), (2, 3)}
    corners = {cells[graph.block_ids[v]] for v in graph.corners[centre]}
    assert corners == {(1, 1), (3, 1), (1, 3), (3, 3)}
    assert sum(len(n) for n in graph.neighbours) // 2 == (COLS - 1) * ROWS + COLS * (ROWS - 1)
    accounts = {cells[b]: a for b, a in zip(graph.block_ids, graph.accounts, strict=True)}
    assert accounts[(0, 0)] == 28  # the inactive account of column 0 is not counted


def test_barrier_street_is_never_crossed_by_a_sector(town):
    cells = cell_of(town)
    free = sector_proposal(area=town_area_lonlat(), n=3)
    assert any(len({cells[b][0] < 1 for b in s.block_ids}) == 2 for s in free.sectors), (
        "without the barrier some sector spans the avenue (else this test proves nothing)"
    )

    proposal = sector_proposal(area=town_area_lonlat(), n=3, barrier_streets=["av. barrera"])

    assert len(proposal.sectors) == 3
    for sector in proposal.sectors:
        sides = {cells[b][0] < 1 for b in sector.block_ids}
        assert len(sides) == 1, f"{sector.code} has blocks on both sides of the barrier"
        assert abs(sector.accounts - TOTAL / 3) <= 0.10 * TOTAL / 3
    barrier = StreetSegment.objects.get(name="Av. Barrera")
    assert proposal.barrier_segment_ids == [barrier.pk]
    by_id = sector_proposal(area=town_area_lonlat(), n=3, barrier_street_ids=[barrier.pk])
    assert [s.block_ids for s in by_id.sectors] == [s.block_ids for s in proposal.sectors]


@pytest.mark.parametrize(("target", "n"), [(74, 4), (100, 3), (296, 1), (10_000, 1)])
def test_target_per_sector_picks_n_as_the_rounded_total_over_the_target(town, target, n):
    proposal = sector_proposal(area=town_area_lonlat(), target=target)
    assert proposal.n == n
    assert len(proposal.sectors) == n


def test_current_sectors_are_summarised_beside_the_proposal(town):
    x1, y1 = block_origin(COLS, ROWS)
    outline = rect(ORIGIN_X - 6, ORIGIN_Y - 6, x1 - 6, y1 - 6)
    services.area_create(kind="zone", code="Z9", name="Zona 9", geom=outline)
    zone = services.CommercialArea.objects.get(code="Z9")
    half = rect(ORIGIN_X - 6, ORIGIN_Y - 6, BARRIER_X, y1 - 6)
    other = rect(BARRIER_X, ORIGIN_Y - 6, x1 - 6, y1 - 6)
    services.area_create(kind="sector", code="S91", name="Poniente", geom=half, parent=zone)
    services.area_create(kind="sector", code="S92", name="Oriente", geom=other, parent=zone)

    proposal = sector_proposal(area=town_area_lonlat(), n=2)

    current = proposal.current
    assert current is not None
    assert current.sectors == 2
    assert (current.accounts_min, current.accounts_max) == (90, 206)
    assert current.max_deviation_percent == pytest.approx((206 - 148) / 148 * 100, abs=0.01)
    assert current.compactness_mean == pytest.approx(
        (4 * math.pi * half.area / half.length**2 + 4 * math.pi * other.area / other.length**2) / 2,
        abs=0.001,
    )
    assert proposal.figures.max_deviation_percent < current.max_deviation_percent


def test_the_proposal_is_adopted_through_the_sectors_apply_path(town):
    x1, y1 = block_origin(COLS, ROWS)
    services.area_create(
        kind="zone", code="Z9", name="Zona 9", geom=rect(ORIGIN_X - 6, ORIGIN_Y - 6, x1, y1)
    )
    zone = services.CommercialArea.objects.get(code="Z9")
    proposal = sector_proposal(area=town_area_lonlat(), n=3, code_prefix="Z9S")

    services.apply_proposal(
        level="sector", parent=zone, proposal=[s.as_proposal_item() for s in proposal.sectors]
    )

    again = sector_proposal(area=town_area_lonlat(), n=3)
    assert again.current is not None, "the applied sectors are now the current ones"
    # The engine assigns accounts by service point: the sectors hold exactly their blocks'.
    current = again.current
    assert current.sectors == 3
    assert current.accounts_min == proposal.figures.accounts_min
    assert current.accounts_max == proposal.figures.accounts_max
    assert current.max_deviation_percent == proposal.figures.max_deviation_percent


# --- impossible requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"n": 0}, "n_too_small"),
        ({"target": 0}, "target_too_small"),
        ({}, "n_or_target"),
        ({"n": 2, "target": 100}, "n_or_target"),
        ({"n": 29}, "too_many_sectors"),  # 28 blocks have accounts
        ({"n": 20}, "block_too_large"),  # mean 14.8: the 28-account block cannot fit
        ({"n": 2, "barrier_streets": ["Av. Barrera"]}, "piece_unbalanceable"),  # 90 < 133.2
        ({"n": 2, "barrier_streets": ["Calle Inexistente"]}, "unknown_barrier"),
        ({"n": 2, "barrier_street_ids": [987654]}, "unknown_barrier"),
    ],
)
def test_impossible_requests_say_why(town, kwargs, code):
    with pytest.raises(BalancingError) as raised:
        sector_proposal(area=town_area_lonlat(), **kwargs)
    assert raised.value.code == code
    assert raised.value.message


def test_an_area_without_blocks_or_without_accounts_is_refused(town):
    far = rect(ORIGIN_X + 5000, ORIGIN_Y + 5000, ORIGIN_X + 6000, ORIGIN_Y + 6000)
    with pytest.raises(BalancingError) as raised:
        sector_proposal(area=far, n=2)
    assert raised.value.code == "empty_area"

    parks = [town[(5, 3)].pk, town[(5, 4)].pk]  # no accounts
    with pytest.raises(BalancingError) as raised:
        sector_proposal(block_ids=parks, n=1)
    assert raised.value.code == "no_accounts"

    with pytest.raises(BalancingError) as raised:
        sector_proposal(block_ids=[-1], n=1)
    assert raised.value.code == "unknown_blocks"


def test_an_invalid_or_wrong_area_is_refused_with_the_reason(town):
    bowtie = Polygon(((0, 0), (1, 1), (1, 0), (0, 1), (0, 0)), srid=4326)
    with translation.override("es-mx"), pytest.raises(BalancingError) as raised:
        sector_proposal(area=bowtie, n=2)
    assert raised.value.code == "invalid_area"
    assert "el contorno se cruza a sí mismo" in raised.value.message

    with pytest.raises(BalancingError) as raised:
        sector_proposal(area=LineString((0, 0), (1, 1), srid=4326), n=2)
    assert raised.value.code == "invalid_area"


def test_a_block_reached_only_across_a_crossing_joins_a_sector_through_it(town):
    # Without (4, 4) and (5, 3), the north-east park (5, 4) faces no block of the area; it
    # meets (4, 3) only at the crossing.
    ids = [b.pk for key, b in town.items() if key not in ((4, 4), (5, 3))]
    proposal = sector_proposal(block_ids=ids, n=2)
    holder = next(s for s in proposal.sectors if town[(5, 4)].pk in s.block_ids)
    assert town[(4, 3)].pk in holder.block_ids


def test_a_crossing_on_a_barrier_street_joins_nothing(town):
    # Without (0, 3) and (1, 4), block (0, 4) meets the rest only at the crossing with
    # (1, 3), on Av. Barrera.
    ids = [b.pk for key, b in town.items() if key not in ((0, 3), (1, 4))]
    free = sector_proposal(block_ids=ids, n=2)
    holder = next(s for s in free.sectors if town[(0, 4)].pk in s.block_ids)
    assert town[(1, 3)].pk in holder.block_ids

    with pytest.raises(BalancingError) as raised:
        sector_proposal(block_ids=ids, n=2, barrier_streets=["Av. Barrera"])
    assert raised.value.code == "piece_unbalanceable"


def test_blocks_cut_off_without_accounts_are_named(town):
    # Without (4, 3) either, nothing is within a street's width of the park.
    ids = [b.pk for key, b in town.items() if key not in ((4, 4), (5, 3), (4, 3))]
    with pytest.raises(BalancingError) as raised:
        sector_proposal(block_ids=ids, n=2)
    assert raised.value.code == "isolated_blocks"
    assert raised.value.block_ids == [town[(5, 4)].pk]
    assert town[(5, 4)].locality.code + "-" + town[(5, 4)].code in raised.value.message


def test_the_reason_is_given_in_spanish(town):
    with translation.override("es-mx"), pytest.raises(BalancingError) as raised:
        sector_proposal(area=town_area_lonlat(), n=20)
    block = town[(0, 0)]
    assert raised.value.message.startswith(
        f"La manzana {block.locality.code}-{block.code} tiene 28 cuentas"
    )


# --- the API --------------------------------------------------------------------------------


def test_api_returns_the_proposal_as_lonlat_geojson_with_its_summary(client, town):
    client.force_login(UserFactory(username="planeadora", roles=[roles.PLANNER]))
    area = json.loads(town_area_lonlat().json)

    response = client.post(
        URL,
        {"area": area, "n": 3, "barrier_streets": ["Av. Barrera"]},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == 3
    cells = cell_of(town)
    seen = []
    for feature in body["features"]:
        geometry = feature["geometry"]
        assert geometry["type"] == "MultiPolygon"
        lon, lat = geometry["coordinates"][0][0][0]
        assert -106 < lon < -96 and 14 < lat < 24  # WGS 84 around the test origin (UTM 14N)
        props = feature["properties"]
        assert props["code"] == feature["id"]
        assert props["blocks"] == len(props["block_ids"])
        assert props["accounts"] == sum(
            ACCOUNTS[cells[b][1]][cells[b][0]] for b in props["block_ids"]
        )
        assert abs(props["deviation_percent"]) <= 10
        seen += props["block_ids"]
    assert sorted(seen) == sorted(cells)
    summary = body["summary"]
    assert summary["n"] == 3
    assert summary["accounts_total"] == TOTAL
    assert summary["within_tolerance"] is True
    assert summary["max_deviation_percent"] <= 10
    assert 0 < summary["compactness_mean"] <= 1
    assert summary["barrier_street_ids"] == [StreetSegment.objects.get(name="Av. Barrera").pk]
    assert body["current"] is None


def test_api_explains_a_refused_request_in_the_users_language(client, town):
    client.force_login(UserFactory(username="planeador", roles=[roles.PLANNER]))
    response = client.post(
        URL,
        {"block_ids": [b.pk for b in town.values()], "n": 0},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "n_too_small"
    assert response.json()["detail"] == "El número de sectores debe ser 1 o más."


@pytest.mark.parametrize("role", [roles.METER_READER, roles.CADASTRE_EDITOR, None])
def test_api_is_for_planners_only(client, town, role):
    if role is not None:
        client.force_login(UserFactory(username=f"u_{role}", roles=[role]))
    response = client.post(
        URL, {"block_ids": [b.pk for b in town.values()], "n": 2}, content_type="application/json"
    )
    assert response.status_code == 403


def test_openapi_schema_of_the_endpoint_is_valid_and_warning_free():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=[path("balance/", SectorBalanceApi.as_view())]).get_schema(
        request=None, public=True
    )
    validate_schema(schema)
    assert "/balance/" in schema["paths"]
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache


# --- the partition on its own (no database) ---------------------------------------------------


def grid_graph(nx: int, ny: int, weights: list[int], cut_after_column: int | None = None):
    ids, edges = [], []
    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            ids.append(k + 1)
            if i + 1 < nx and i != cut_after_column:
                edges.append((k + 1, k + 2))
            if j + 1 < ny:
                edges.append((k + 1, k + 1 + nx))
    return BlockGraph.from_edges(
        block_ids=ids,
        labels=[f"{k:04d}" for k in ids],
        accounts=weights,
        x=[(k % nx) * 100.0 for k in range(nx * ny)],
        y=[(k // nx) * 70.0 for k in range(nx * ny)],
        edges=edges,
    )


def assert_valid_partition(graph: BlockGraph, parts: list[list[int]], n: int) -> None:
    assert len(parts) == n
    assert sorted(v for part in parts for v in part) == list(range(len(graph)))
    mean = sum(graph.accounts) / n
    for part in parts:
        members = set(part)
        seen, stack = {part[0]}, [part[0]]
        while stack:
            v = stack.pop()
            for u in graph.neighbours[v]:
                if u in members and u not in seen:
                    seen.add(u)
                    stack.append(u)
        assert seen == members, "part not contiguous"
        assert abs(sum(graph.accounts[v] for v in part) - mean) <= 0.10 * mean + 1e-9


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_partition_of_a_grid_is_balanced_contiguous_and_complete(data):
    nx = data.draw(st.integers(3, 14), label="nx")
    ny = data.draw(st.integers(3, 14), label="ny")
    weights = data.draw(
        st.lists(st.integers(0, 12), min_size=nx * ny, max_size=nx * ny), label="weights"
    )
    total = sum(weights)
    # Sectors of at least ~8 of the heaviest blocks: always feasible on a grid, and the
    # algorithm must find one.
    n = data.draw(st.integers(1, max(1, total // 100)), label="n")
    if total == 0:
        return
    graph = grid_graph(nx, ny, weights)
    assert_valid_partition(graph, partition_blocks(graph, n=n), n)


def test_partition_of_a_large_uneven_grid_at_scale():
    # ~200 sectors of ~500 accounts over 5,600 blocks, density rising towards one corner.
    nx = ny = 75
    weights = [
        4 + (i * 7 + j * 13) % 11 + (25 * (i + j)) // (nx + ny)
        for j in range(ny)
        for i in range(nx)
    ]
    graph = grid_graph(nx, ny, weights)
    n = round(sum(weights) / 500)
    assert_valid_partition(graph, partition_blocks(graph, n=n), n)


def test_partition_shares_sectors_among_pieces_cut_apart():
    # Two 3 x 4 pieces (columns 0-2 and 3-5 unconnected) of 12 x 10 and 12 x 30 accounts.
    weights = [10, 10, 10, 30, 30, 30] * 4
    graph = grid_graph(6, 4, weights, cut_after_column=2)
    parts = partition_blocks(graph, n=4)
    assert_valid_partition(graph, parts, 4)
    left = [p for p in parts if all(v % 6 < 3 for v in p)]
    assert len(left) == 1  # 120 accounts: one sector of the mean 120; the right piece holds 3

    with pytest.raises(BalancingError) as raised:
        partition_blocks(graph, n=3)  # mean 160: the left piece (120) is below 144
    assert raised.value.code == "piece_unbalanceable"


@override_settings(LANGUAGE_CODE="en")
def test_partition_refuses_a_block_heavier_than_a_sector_may_be():
    graph = grid_graph(3, 3, [1, 1, 1, 1, 50, 1, 1, 1, 1])
    with translation.override("en"), pytest.raises(BalancingError) as raised:
        partition_blocks(graph, n=2)
    assert raised.value.code == "block_too_large"
    assert raised.value.block_ids == [5]
    assert "0005 has 50 accounts" in raised.value.message
