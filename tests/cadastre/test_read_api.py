"""The cadastre REST API: GeoJSON of the base map, bbox and attribute filters, pagination,
permissions by role, and writes to the customer roll through the services."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cadastre.models import Customer, LandUse, Owner, Ownership, ServiceAccount
from core import roles
from tests.cadastre.factories_search import (
    CustomerFactory,
    OwnerFactory,
    OwnershipFactory,
    ServiceAccountFactory,
)
from tests.factories import (
    ORIGIN_X,
    ORIGIN_Y,
    BlockFactory,
    LocalityFactory,
    ParcelFactory,
    UserFactory,
    square,
)

pytestmark = pytest.mark.django_db

VALID_RFC = "GODE561231GR8"


@pytest.fixture
def reader(client):
    client.force_login(UserFactory(username="lectora", roles=[roles.METER_READER]))
    return client


@pytest.fixture
def editor(client):
    client.force_login(UserFactory(username="editora", roles=[roles.CADASTRE_EDITOR]))
    return client


@pytest.fixture
def two_places():
    """Two parcels 5 km apart, in two localities and blocks, with one account each."""
    near_locality = LocalityFactory(code="0001")
    far_locality = LocalityFactory(code="0002")
    near = ParcelFactory(
        cadastral_key="0001-001-001",
        land_use=LandUse.COMMERCIAL,
        block=BlockFactory(locality=near_locality),
    )
    far_block = BlockFactory(
        locality=far_locality, geom=square(ORIGIN_X + 5000, ORIGIN_Y + 5000, 100)
    )
    far = ParcelFactory(
        cadastral_key="0002-001-001",
        block=far_block,
        geom=square(ORIGIN_X + 5020, ORIGIN_Y + 5020, 10),
    )
    near_account = ServiceAccountFactory(parcel=near)
    far_account = ServiceAccountFactory(
        parcel=far,
        service_point=Point(ORIGIN_X + 5025, ORIGIN_Y + 5018, srid=settings.CAUDAL_SRID),
        status="suspended",
    )
    return {"near": near, "far": far, "near_account": near_account, "far_account": far_account}


def _bbox_around(geom, margin_m=50):
    """A lon/lat box around a stored geometry, as the map would send it."""
    box = geom.buffer(margin_m).transform(4326, clone=True).extent
    return ",".join(f"{v:.6f}" for v in box)


def _decimals(number) -> int:
    text = repr(number)
    return len(text.split(".")[1]) if "." in text else 0


# --- GeoJSON of the base map ----------------------------------------------------------------


def test_parcels_are_a_geojson_feature_collection_in_wgs84_with_six_decimals(reader, two_places):
    response = reader.get(reverse("cadastre:parcel-list"))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 2
    feature = body["features"][0]
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"]["cadastral_key"] == "0001-001-001"
    assert feature["properties"]["locality_code"] == "0001"
    for lon, lat in feature["geometry"]["coordinates"][0]:
        assert -102 < lon < -99 and 19 < lat < 22
        assert _decimals(lon) <= 6 and _decimals(lat) <= 6


def test_bbox_returns_only_the_features_in_the_box(reader, two_places):
    bbox = _bbox_around(two_places["far"].geom)
    response = reader.get(reverse("cadastre:parcel-list"), {"in_bbox": bbox})
    assert [f["properties"]["cadastral_key"] for f in response.json()["features"]] == [
        "0002-001-001"
    ]
    accounts = reader.get(reverse("cadastre:account-list"), {"in_bbox": bbox}).json()
    assert [f["id"] for f in accounts["features"]] == [two_places["far_account"].pk]


def test_bbox_transforms_the_envelope_never_the_indexed_column(reader, two_places):
    bbox = _bbox_around(two_places["near"].geom)
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(reverse("cadastre:parcel-list"), {"in_bbox": bbox})
    assert response.status_code == 200
    filtered = [q["sql"] for q in queries.captured_queries if "ST_Intersects" in q["sql"]]
    assert filtered, "the bbox filter did not reach the SQL"
    for sql in filtered:
        where = sql.split(" WHERE ", 1)[1]
        assert '"cadastre_parcel"."geom"' in where
        # Output may transform (SELECT list); the filter compares the stored column as is.
        assert "ST_Transform" not in where
    # The planner can answer it from the GiST index on the stored column: the filter alone, on
    # the parcels alone (the joined query's plan also depends on the other tables' statistics,
    # which earlier tests' demo cities leave behind).
    predicate = re.search(r'ST_Intersects\("cadastre_parcel"\."geom", [^)]*\)', where).group(0)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f'EXPLAIN SELECT 1 FROM "cadastre_parcel" WHERE {predicate}')
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert re.search(r"Index Scan (using|on) cadastre_parcel_geom_\w*id", plan), plan


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "-100,21,-101,22", "-100,95,-99,96"])
def test_bad_bbox_is_refused_in_spanish(reader, two_places, bbox):
    response = reader.get(reverse("cadastre:parcel-list"), {"in_bbox": bbox})
    assert response.status_code == 400
    assert "caja" in response.json()["in_bbox"][0]


def test_geo_lists_are_paginated(reader, two_places):
    response = reader.get(reverse("cadastre:parcel-list"), {"page_size": 1})
    body = response.json()
    assert body["count"] == 2
    assert len(body["features"]) == 1
    assert body["next"] and "page=2" in body["next"]
    second = reader.get(body["next"]).json()
    assert second["features"][0]["properties"]["cadastral_key"] == "0002-001-001"


def test_parcel_attribute_filters(reader, two_places):
    url = reverse("cadastre:parcel-list")
    by_use = reader.get(url, {"land_use": LandUse.COMMERCIAL}).json()
    assert [f["id"] for f in by_use["features"]] == [two_places["near"].pk]
    by_locality = reader.get(url, {"locality": "0002"}).json()
    assert [f["id"] for f in by_locality["features"]] == [two_places["far"].pk]
    by_block = reader.get(url, {"block": two_places["far"].block_id}).json()
    assert [f["id"] for f in by_block["features"]] == [two_places["far"].pk]


def test_blocks_streets_and_localities_are_geojson_in_wgs84(reader, two_places):
    blocks = reader.get(reverse("cadastre:block-list"), {"locality": "0002"}).json()
    assert blocks["type"] == "FeatureCollection"
    assert [f["properties"]["locality_code"] for f in blocks["features"]] == ["0002"]
    lon, lat = blocks["features"][0]["geometry"]["coordinates"][0][0]
    assert -102 < lon < -99 and 19 < lat < 22
    assert reader.get(reverse("cadastre:street-list")).json()["type"] == "FeatureCollection"
    locality = reader.get(
        reverse("cadastre:locality-detail", args=[two_places["far"].block.locality_id])
    ).json()
    assert locality["geometry"]["type"] == "MultiPolygon"
    overview = reader.get(reverse("cadastre:locality-overview"), {"code": "0002"}).json()
    assert [f["properties"]["code"] for f in overview["features"]] == ["0002"]


def test_accounts_are_geojson_points_in_wgs84_filtered_by_status(reader, two_places):
    response = reader.get(reverse("cadastre:account-list"), {"status": "suspended"})
    body = response.json()
    assert [f["id"] for f in body["features"]] == [two_places["far_account"].pk]
    geometry = body["features"][0]["geometry"]
    assert geometry["type"] == "Point"
    lon, lat = geometry["coordinates"]
    expected = two_places["far_account"].service_point.transform(4326, clone=True)
    assert lon == pytest.approx(expected.x, abs=1e-6)
    assert lat == pytest.approx(expected.y, abs=1e-6)


def test_owners_customers_and_ownerships_are_plain_json_with_limit_offset(reader, two_places):
    OwnershipFactory(parcel=two_places["near"], share_percent=60)
    OwnershipFactory(parcel=two_places["near"], share_percent=40)
    owners = reader.get(reverse("cadastre:owner-list"), {"limit": 1}).json()
    assert owners["count"] == 2 and len(owners["results"]) == 1
    assert "offset=1" in owners["next"]
    assert owners["results"][0]["ownerships"][0]["cadastral_key"] == "0001-001-001"
    customers = reader.get(reverse("cadastre:customer-list")).json()
    assert customers["count"] == 2
    shares = reader.get(
        reverse("cadastre:ownership-list"), {"parcel": two_places["near"].pk}
    ).json()
    assert sorted(Decimal(r["share_percent"]) for r in shares["results"]) == [40, 60]


# --- Permissions ------------------------------------------------------------------------------


def test_anonymous_visitors_read_nothing(client, two_places):
    assert client.get(reverse("cadastre:parcel-list")).status_code in (401, 403)
    assert client.get(reverse("cadastre:owner-list")).status_code in (401, 403)


def test_meter_reader_reads_but_may_not_write(reader, two_places):
    assert reader.get(reverse("cadastre:customer-list")).status_code == 200
    assert reader.get(reverse("cadastre:owner-list")).status_code == 200
    assert (
        reader.post(
            reverse("cadastre:customer-list"), {"name": "Ana"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        reader.post(
            reverse("cadastre:owner-list"), {"name": "Ana"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        reader.patch(
            reverse("cadastre:account-detail", args=[two_places["near_account"].pk]),
            {"status": "cut"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert Customer.objects.count() == 2


def test_base_map_is_read_only_here(editor, two_places):
    response = editor.post(reverse("cadastre:parcel-list"), {}, content_type="application/json")
    assert response.status_code == 405


# --- Writes by a cadastre editor --------------------------------------------------------------


def test_editor_creates_a_customer(editor):
    response = editor.post(
        reverse("cadastre:customer-list"),
        {
            "name": "Rosa",
            "first_surname": "Méndez",
            "second_surname": "Ortiz",
            "rfc": "gode-561231-gr8",
            "email": "rosa@example.mx",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    assert customer.full_name == "Rosa Méndez Ortiz"
    assert customer.rfc == VALID_RFC


def test_editor_creates_an_owner_with_shares(editor, two_places):
    OwnershipFactory(parcel=two_places["near"], share_percent=50)
    response = editor.post(
        reverse("cadastre:owner-list"),
        {
            "kind": "company",
            "name": "Inmobiliaria del Bajío S.A. de C.V.",
            "ownerships": [
                {"parcel": two_places["near"].pk, "share_percent": "50"},
                {"parcel": two_places["far"].pk, "share_percent": "100", "since": "2020-01-15"},
            ],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    owner = Owner.objects.get(pk=response.json()["id"])
    shares = {o.parcel_id: o.share_percent for o in owner.ownerships.all()}
    assert shares == {two_places["near"].pk: 50, two_places["far"].pk: 100}
    assert len(response.json()["ownerships"]) == 2


def test_editor_opens_an_account_with_a_point_in_wgs84(editor, two_places):
    customer = CustomerFactory()
    near = two_places["near"]
    point = Point(ORIGIN_X + 24, ORIGIN_Y + 19, srid=settings.CAUDAL_SRID).transform(
        4326, clone=True
    )
    response = editor.post(
        reverse("cadastre:account-list"),
        {
            "number": "000900001",
            "customer": customer.pk,
            "parcel": near.pk,
            "service_point": {"type": "Point", "coordinates": [point.x, point.y]},
            "use_type": "commercial",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    account = ServiceAccount.objects.get(number="000900001")
    assert account.service_point.srid == settings.CAUDAL_SRID
    assert account.service_point.x == pytest.approx(ORIGIN_X + 24, abs=0.01)
    assert account.service_point.y == pytest.approx(ORIGIN_Y + 19, abs=0.01)
    assert response.json()["geometry"]["type"] == "Point"


def test_editor_opens_an_account_with_a_point_in_the_storage_crs(editor, two_places):
    response = editor.post(
        reverse("cadastre:account-list"),
        {
            "number": "000900002",
            "customer": CustomerFactory().pk,
            "parcel": two_places["near"].pk,
            "service_point": f"SRID={settings.CAUDAL_SRID};POINT({ORIGIN_X + 26} {ORIGIN_Y + 18})",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert ServiceAccount.objects.get(number="000900002").service_point.x == ORIGIN_X + 26


def test_service_point_far_from_its_parcel_is_refused(editor, two_places):
    response = editor.post(
        reverse("cadastre:account-list"),
        {
            "number": "000900003",
            "customer": CustomerFactory().pk,
            "parcel": two_places["near"].pk,
            # Latitude and longitude swapped: a point in Antarctica.
            "service_point": {"type": "Point", "coordinates": [20.53, -100.81]},
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "service_point" in response.json()
    assert not ServiceAccount.objects.filter(number="000900003").exists()


def test_editor_changes_an_account_status(editor, two_places):
    account = two_places["near_account"]
    response = editor.patch(
        reverse("cadastre:account-detail", args=[account.pk]),
        {"status": "cut"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.status == "cut"


def test_invalid_rfc_is_refused_with_a_spanish_message(editor):
    response = editor.post(
        reverse("cadastre:customer-list"),
        {"name": "Rosa", "rfc": "GODE561231GR9"},
        content_type="application/json",
    )
    assert response.status_code == 400
    message = response.json()["rfc"][0]
    assert "GODE561231GR9 no es un RFC válido" in message
    assert "dígito verificador" in message
    assert not Customer.objects.exists()


def test_shares_over_100_percent_are_refused_in_spanish_and_nothing_is_written(editor, two_places):
    OwnershipFactory(parcel=two_places["near"], share_percent=70)
    response = editor.post(
        reverse("cadastre:owner-list"),
        {
            "name": "Pedro",
            "first_surname": "Salas",
            "ownerships": [{"parcel": two_places["near"].pk, "share_percent": "40"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    message = response.json()["ownerships.0.share_percent"][0]
    assert "0001-001-001" in message and "110" in message and "100 %" in message
    assert "participaciones" in message
    assert not Owner.objects.filter(name="Pedro").exists()
    assert Ownership.objects.filter(parcel=two_places["near"]).count() == 1


def test_adding_or_raising_a_share_past_100_percent_is_refused(editor, two_places):
    first = OwnershipFactory(parcel=two_places["near"], share_percent=60)
    owner = OwnerFactory()
    url = reverse("cadastre:ownership-list")
    payload = {"owner": owner.pk, "parcel": two_places["near"].pk, "share_percent": "50"}
    response = editor.post(url, payload, content_type="application/json")
    assert response.status_code == 400
    assert "participaciones" in response.json()["share_percent"][0]
    payload["share_percent"] = "40"
    assert editor.post(url, payload, content_type="application/json").status_code == 201
    raise_first = editor.patch(
        reverse("cadastre:ownership-detail", args=[first.pk]),
        {"share_percent": "61"},
        content_type="application/json",
    )
    assert raise_first.status_code == 400
    first.refresh_from_db()
    assert first.share_percent == 60


def test_editor_removes_a_share(editor, two_places):
    share = OwnershipFactory(parcel=two_places["near"])
    response = editor.delete(reverse("cadastre:ownership-detail", args=[share.pk]))
    assert response.status_code == 204
    assert not Ownership.objects.filter(pk=share.pk).exists()


# --- OpenAPI ------------------------------------------------------------------------------------


def test_openapi_schema_describes_every_cadastre_endpoint(reader):
    response = reader.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/cadastre/parcels/",
        "/api/cadastre/blocks/",
        "/api/cadastre/streets/",
        "/api/cadastre/localities/",
        "/api/cadastre/accounts/",
        "/api/cadastre/owners/",
        "/api/cadastre/customers/",
        "/api/cadastre/ownerships/",
        "/api/cadastre/search/",
    ):
        assert path in paths
    parameters = {p["name"] for p in paths["/api/cadastre/parcels/"]["get"]["parameters"]}
    assert {"in_bbox", "land_use", "locality", "page", "page_size"} <= parameters
    assert "post" in paths["/api/cadastre/owners/"]
    assert "post" not in paths["/api/cadastre/parcels/"]


def test_openapi_schema_of_the_cadastre_endpoints_is_valid_and_warning_free():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    import cadastre.urls

    mine = [p for p in cadastre.urls.urlpatterns if not str(p.pattern).startswith("edit")]
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/cadastre/", include((mine, "cadastre")))])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache
