"""Heat-map tiles and legends (tiles.heat, tiles.heat_views) on the real PostGIS and Redis:
sums, hexagon assignment, weights, open orders only, validation, permissions, legend, cache."""

import math

import mapbox_vector_tile
import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import roles
from gis_core.layers import POINT, Layer
from orders.models import WorkOrder, WorkOrderKind, WorkOrderStatus
from tests.cadastre.factories_topology import ServiceAccountFactory
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory
from tests.tiles.vector_helpers import MVT, tile_of
from tiles import heat

pytestmark = pytest.mark.django_db

Z = 14
SRID = settings.CAUDAL_SRID


@pytest.fixture(autouse=True)
def no_cache(settings):
    """Tests see the database, not a tile cached by an earlier test (the cache test turns it
    back on)."""
    settings.CAUDAL_HEAT_CACHE_SECONDS = 0


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    return client


def _tile_centre(z, x, y) -> tuple[float, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(c), ST_Y(c) FROM ST_Transform(ST_Centroid(ST_TileEnvelope(%s, %s, %s)),"
            " %s) c",
            [z, x, y, SRID],
        )
        return cursor.fetchone()


def _home_tile(z=Z):
    return tile_of(Point(ORIGIN_X, ORIGIN_Y, srid=SRID), z)


# Clusters of accounts 300 m apart (more than a z14 hexagon's 230 m width), each within 4 m of
# its centre, around the centre of the tile holding the test origin: far (> 600 m) from its
# edges, so every hexagon they fall in lies wholly inside the tile.
CLUSTERS = {(-300, 0): 1, (0, 0): 2, (300, 0): 4, (0, 300): 8, (0, -300): 16}


def _insert_accounts(points: list[tuple[float, float]], prefix="H") -> None:
    """Service accounts at ``points`` (storage CRS), written in one INSERT … SELECT."""
    template = ServiceAccountFactory(number=f"{prefix}-TEMPLATE")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO cadastre_serviceaccount (number, customer_id, parcel_id, service_point,
                   use_type, water, sewer, sanitation, status, billing_cycle)
               SELECT %s || lpad(n::text, 6, '0'), %s, %s,
                      ST_SetSRID(ST_MakePoint(x, y), %s), 'domestic', true, true, true, 'active',
                      '1'
               FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, n)""",
            [
                f"{prefix}-",
                template.customer_id,
                template.parcel_id,
                SRID,
                [p[0] for p in points],
                [p[1] for p in points],
            ],
        )
        # The template itself is not one of the points.
        cursor.execute("DELETE FROM cadastre_serviceaccount WHERE id = %s", [template.pk])


def _cluster_points(cx, cy):
    points = []
    for (dx, dy), n in CLUSTERS.items():
        for k in range(n):
            angle = 2 * math.pi * k / n
            points.append((cx + dx + 4 * math.cos(angle), cy + dy + 4 * math.sin(angle)))
    return points


@pytest.fixture
def clustered():
    """31 accounts in five clusters near the home tile's centre, and 5 far away (30 km)."""
    z, x, y = _home_tile()
    cx, cy = _tile_centre(z, x, y)
    points = _cluster_points(cx, cy)
    far = [(cx + 30_000 + 10 * k, cy + 30_000) for k in range(5)]
    _insert_accounts(points + far)
    return (z, x, y), (cx, cy), len(points)


def _decode(response) -> list[dict]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == MVT
    decoded = mapbox_vector_tile.decode(response.content)
    if not decoded:
        return []
    assert set(decoded) == {"heat"}
    return decoded["heat"]["features"]


def _url(layer, weight, z, x, y):
    return reverse("heat:tile", kwargs={"layer": layer, "weight": weight, "z": z, "x": x, "y": y})


# --- content ----------------------------------------------------------------------------------


def test_heat_tile_values_sum_to_the_points_in_its_area(manager, clustered):
    (z, x, y), _centre, n = clustered
    cells = _decode(manager.get(_url("accounts", "count", z, x, y)))
    assert sum(f["properties"]["value"] for f in cells) == n == 31
    assert sum(f["properties"]["count"] for f in cells) == n
    assert {f["geometry"]["type"] for f in cells} == {"Polygon"}
    # Each 4 m cluster falls in one hexagon (or two, if it sits on an edge): 5 to 10 cells.
    assert 5 <= len(cells) <= 10


def test_heat_tile_at_a_city_zoom_also_sums_every_point_of_its_area(manager, clustered):
    _tile, (cx, cy), n = clustered
    z, x, y = tile_of(Point(cx, cy, srid=SRID), 12)
    cells = _decode(manager.get(_url("accounts", "count", z, x, y)))
    assert sum(f["properties"]["count"] for f in cells) == n  # the far points are 30 km away


def test_tile_far_from_every_point_is_empty(manager, clustered):
    z, x, y = clustered[0]
    response = manager.get(_url("accounts", "count", z, x + 3, y))
    assert response.status_code == 200
    assert response.content == b""


def test_each_point_counts_once_in_the_hexagon_that_contains_it():
    """The arithmetic cell assignment agrees with PostGIS's own hexagons (ST_Hexagon), for
    2,000 scattered points on both sides of the grid's origin rows and columns."""
    source = (
        "SELECT g AS id, ST_SetSRID(ST_MakePoint("
        f" {ORIGIN_X} + 2000 * (abs(sin(g * 12.9898)) - 0.5),"
        f" {ORIGIN_Y} + 2000 * (abs(sin(g * 78.233)) - 0.5)), {SRID}) AS geom"
        " FROM generate_series(1, 2000) g"
    )
    layer = Layer(
        name="scattered",
        label="scattered",
        group="tests",
        geometry_type=POINT,
        source=source,
        tables=(),
        heat_weights={"count": "1"},
    )
    size = 37.5
    cells = heat.cells_query(layer, "count", f"ST_MakeEnvelope(0, 0, 1e8, 1e8, {SRID})")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH cells AS ({cells}), pts AS ({source})
                SELECT COUNT(*), SUM(c.count),
                       COUNT(*) FILTER (WHERE c.count <> (
                           SELECT COUNT(*) FROM pts
                           WHERE ST_Intersects(pts.geom, ST_Hexagon(%(size)s, c.i, c.j,
                                 ST_SetSRID(ST_MakePoint(0, 0), {SRID})))))
                FROM cells c""",
            {"size": size},
        )
        n_cells, total, wrong = cursor.fetchone()
    assert total == 2000
    assert n_cells > 100  # points spread over many cells, not one
    assert wrong == 0


def test_a_weight_is_summed_per_hexagon():
    source = (
        f"SELECT g AS id, ST_SetSRID(ST_MakePoint({ORIGIN_X} + g, {ORIGIN_Y}), {SRID}) AS geom,"
        " g AS amount FROM generate_series(1, 10) g"
    )
    layer = Layer(
        name="weighted",
        label="weighted",
        group="tests",
        geometry_type=POINT,
        source=source,
        tables=(),
        heat_weights={"count": "1", "amount": "amount * 2"},
    )
    cells = heat.cells_query(layer, "amount", f"ST_MakeEnvelope(0, 0, 1e8, 1e8, {SRID})")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT SUM(value), SUM(count) FROM ({cells}) c", {"size": 1000.0})
        assert cursor.fetchone() == (110.0, 10)


def test_open_orders_heat_map_counts_open_orders_only(manager):
    z, x, y = _home_tile()
    cx, cy = _tile_centre(z, x, y)
    creator = UserFactory(username="capturista")
    statuses = [WorkOrderStatus.CREATED] * 3 + [
        WorkOrderStatus.ASSIGNED,
        WorkOrderStatus.IN_PROGRESS,
        WorkOrderStatus.DONE,
        WorkOrderStatus.FAILED,
    ]
    from django.utils import timezone

    from orders.models import Crew, ResultCode

    crew = Crew.objects.create(code="H1", name="H1", base=Point(cx, cy, srid=SRID))
    finished = (WorkOrderStatus.DONE, WorkOrderStatus.FAILED)
    now = timezone.now()
    WorkOrder.objects.bulk_create(
        WorkOrder(
            number=f"OT-H-{k}",
            kind_id=WorkOrderKind.INSPECTION,
            status=status,
            reason="revisión",
            location=Point(cx + 20 * k, cy, srid=SRID),
            created_by=creator,
            created_at=now,
            crew=None if status == WorkOrderStatus.CREATED else crew,
            finished_at=now if status in finished else None,
            result=ResultCode.objects.get(code="done") if status in finished else None,
        )
        for k, status in enumerate(statuses)
    )
    cells = _decode(manager.get(_url("open_orders", "count", z, x, y)))
    assert sum(f["properties"]["count"] for f in cells) == 5


# --- validation and permissions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "weight", "code"),
    [
        ("nonexistent", "count", "unknown_layer"),
        ("parcels", "count", "unknown_layer"),  # a polygon layer has no heat map
        ("accounts", "debt", "unknown_weight"),
    ],
)
def test_unknown_layer_or_weight_is_404_with_a_spanish_message(manager, layer, weight, code):
    z, x, y = _home_tile()
    response = manager.get(_url(layer, weight, z, x, y))
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == code
    assert "mapa de calor" in body["detail"] or "peso" in body["detail"]


def test_zoom_beyond_22_is_400(manager):
    response = manager.get(_url("accounts", "count", 23, 0, 0))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_zoom"


def test_tile_outside_its_zoom_is_400_with_a_spanish_message(manager):
    response = manager.get(_url("accounts", "count", 3, 8, 0))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_tile"
    assert "no existe" in response.json()["detail"]


def test_user_without_the_layers_permission_is_refused(client):
    client.force_login(UserFactory(username="sin-rol"))
    response = client.get(_url("accounts", "count", *_home_tile()))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_anonymous_request_is_refused(client):
    response = client.get(_url("open_orders", "count", *_home_tile()))
    assert response.status_code == 403


# --- legend -----------------------------------------------------------------------------------


def _legend(client, z, bbox, layer="accounts", weight="count"):
    url = reverse("heat:legend", kwargs={"layer": layer, "weight": weight})
    return client.get(url, {"z": z, "bbox": ",".join(f"{v:.6f}" for v in bbox)})


def _lonlat_bbox(cx, cy, half_m):
    corners = [
        Point(cx - half_m, cy - half_m, srid=SRID).transform(4326, clone=True),
        Point(cx + half_m, cy + half_m, srid=SRID).transform(4326, clone=True),
    ]
    return corners[0].x, corners[0].y, corners[1].x, corners[1].y


def test_legend_breaks_are_quantiles_of_the_visible_cells_and_increase(manager, clustered):
    _tile, (cx, cy), _n = clustered
    response = _legend(manager, Z, _lonlat_bbox(cx, cy, 800))
    assert response.status_code == 200
    legend = response.json()
    breaks = legend["breaks"]
    assert breaks == sorted(breaks) and len(set(breaks)) == len(breaks)
    assert 2 <= len(breaks) <= 5
    assert breaks[-1] == legend["max"] == max(legend["max"], 16)
    assert legend["min"] >= 1
    assert len(legend["colors"]) == len(breaks)
    assert legend["colors"][-1] == heat.LEGEND_COLOURS[-1]  # the most is the darkest
    assert [c["to"] for c in legend["classes"]] == breaks
    assert legend["classes"][0]["from"] == legend["min"]
    assert legend["title"] == "Cuentas de servicio: número por hexágono"
    assert legend["cells"] >= 5


def test_legend_of_an_empty_area_has_no_classes(manager):
    response = _legend(manager, Z, (-99.0, 19.0, -98.99, 19.01))
    assert response.status_code == 200
    assert response.json()["breaks"] == [] and response.json()["cells"] == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"z": "x", "bbox": "-100.9,20.5,-100.8,20.6"}, "bad_zoom"),
        ({"z": "14"}, "bad_bbox"),
        ({"z": "14", "bbox": "-100.8,20.5,-100.9,20.6"}, "bad_bbox"),
        ({"z": "18", "bbox": "-101.5,20.0,-100.0,21.0"}, "bbox_too_large"),
    ],
)
def test_bad_legend_request_is_400_with_a_reason(manager, query, code):
    url = reverse("heat:legend", kwargs={"layer": "accounts", "weight": "count"})
    response = manager.get(url, query)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert response.json()["detail"]


# --- cache ------------------------------------------------------------------------------------


def test_cached_tile_is_served_without_aggregating_and_refreshed_after_a_write(
    manager, clustered, settings
):
    settings.CAUDAL_HEAT_CACHE_SECONDS = 300
    (z, x, y), (cx, cy), n = clustered
    url = _url("accounts", "count", z, x, y)
    first = manager.get(url)
    with CaptureQueriesContext(connection) as queries:
        second = manager.get(url)
    assert second.content == first.content
    assert not [q for q in queries if "ST_AsMVT" in q["sql"]]
    _insert_accounts([(cx + 1, cy + 1)], prefix="NEW")  # bumps the table's generation
    cells = _decode(manager.get(url))
    assert sum(f["properties"]["count"] for f in cells) == n + 1
