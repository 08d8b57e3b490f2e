"""The parcel editing API (/api/cadastre/edit/): what the map editor sends and gets back."""

import json
from decimal import Decimal

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString
from django.urls import reverse

from cadastre import edit_api
from cadastre.models import LandUse, Parcel, ParcelStatus
from core import roles
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

X0, Y0 = ORIGIN_X, ORIGIN_Y


def geojson_4326(geom) -> dict:
    return json.loads(geom.transform(4326, clone=True).json)


def storage(geojson: dict):
    geom = GEOSGeometry(json.dumps(geojson))
    geom.srid = 4326
    return geom.transform(square(0, 0, 1).srid, clone=True)


@pytest.fixture
def block():
    locality = LocalityFactory(code="0007")
    # A 100 m block; parcels A and B share an edge at x = 30.
    return BlockFactory(locality=locality, code="012", geom=square(X0, Y0, 100))


@pytest.fixture
def parcel_a(block):
    return ParcelFactory(
        block=block, cadastral_key="0007-012-001", geom=square(X0 + 10, Y0 + 10, 20)
    )


@pytest.fixture
def parcel_b(block):
    return ParcelFactory(
        block=block, cadastral_key="0007-012-002", geom=square(X0 + 30, Y0 + 10, 20)
    )


@pytest.fixture
def editor_client(client):
    client.force_login(UserFactory(username="editora", roles=[roles.CADASTRE_EDITOR]))
    return client


@pytest.fixture
def reader_client(client):
    client.force_login(UserFactory(username="lecturista", roles=[roles.METER_READER]))
    return client


def post(client, url, payload, **extra):
    return client.post(url, json.dumps(payload), content_type="application/json", **extra)


def bbox_of(geom, margin=0.0) -> str:
    g = geom.transform(4326, clone=True)
    min_x, min_y, max_x, max_y = g.extent
    return f"{min_x - margin},{min_y - margin},{max_x + margin},{max_y + margin}"


def test_create_draws_a_new_parcel_and_answers_its_feature_in_wgs84(editor_client, block, parcel_a):
    response = post(
        editor_client,
        reverse("cadastre:edit-parcels"),
        {
            "geometry": geojson_4326(square(X0 + 60, Y0 + 10, 20)),
            "land_use": "commercial",
            "address": "Av. Juárez 101",
            "built_area_m2": "120.50",
            "block_id": block.pk,
        },
    )
    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    lon, lat = feature["geometry"]["coordinates"][0][0]
    assert -102 < lon < -99 and 19 < lat < 22  # degrees, not metres
    created = Parcel.objects.get(pk=feature["properties"]["id"])
    assert created.land_use == LandUse.COMMERCIAL
    assert created.address == "Av. Juárez 101"
    assert created.built_area_m2 == Decimal("120.50")
    assert created.block_id == block.pk
    assert created.land_area_m2 == pytest.approx(Decimal("400.00"), abs=Decimal("0.5"))
    assert feature["properties"]["cadastral_key"] == created.cadastral_key


def test_overlapping_create_is_refused_with_code_spanish_message_and_where_in_4326(
    editor_client, block, parcel_a
):
    before = list(Parcel.objects.order_by("pk").values_list("pk", "geom", "status"))
    # Overlaps parcel A (x 10..30) on x 25..30.
    payload = {
        "geometry": geojson_4326(square(X0 + 25, Y0 + 10, 20)),
        "land_use": "residential",
        "address": "Calle 5 de Mayo 3",
        "block_id": block.pk,
    }
    response = post(editor_client, reverse("cadastre:edit-parcels"), payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"]
    assert "predio" in body["message"].lower()  # Spanish by default
    english = post(
        editor_client, reverse("cadastre:edit-parcels"), payload, HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert english["code"] == body["code"]
    assert english["message"] != body["message"]
    where = body["where"]
    assert where["type"] in ("Polygon", "MultiPolygon", "GeometryCollection")
    lon, lat = GEOSGeometry(json.dumps(where)).centroid.coords
    assert -102 < lon < -99 and 19 < lat < 22
    # The red area is the overlap with parcel A.
    assert storage(where).intersection(parcel_a.geom).area > 1.0
    assert list(Parcel.objects.order_by("pk").values_list("pk", "geom", "status")) == before


def test_reshape_replaces_the_outline(editor_client, parcel_a):
    response = post(
        editor_client,
        reverse("cadastre:edit-parcel-reshape", args=[parcel_a.pk]),
        {"geometry": geojson_4326(square(X0 + 10, Y0 + 10, 18))},
    )
    assert response.status_code == 200, response.content
    assert response.json()["type"] == "Feature"
    parcel_a.refresh_from_db()
    assert parcel_a.land_area_m2 == pytest.approx(Decimal("324.00"), abs=Decimal("0.5"))


def test_split_answers_the_children_as_a_feature_collection(editor_client, parcel_a):
    line = LineString((X0 + 20, Y0 + 5), (X0 + 20, Y0 + 35), srid=parcel_a.geom.srid)
    response = post(
        editor_client,
        reverse("cadastre:edit-parcel-split", args=[parcel_a.pk]),
        {"line": geojson_4326(line)},
    )
    assert response.status_code == 200, response.content
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    ids = [f["properties"]["id"] for f in collection["features"]]
    assert len(ids) == 2
    children = Parcel.objects.filter(pk__in=ids, status=ParcelStatus.ACTIVE)
    assert sum(c.land_area_m2 for c in children) == pytest.approx(Decimal("400"), abs=Decimal("1"))
    parcel_a.refresh_from_db()
    assert parcel_a.status == ParcelStatus.RETIRED


def test_merge_answers_the_merged_parcel(editor_client, parcel_a, parcel_b):
    response = post(
        editor_client,
        reverse("cadastre:edit-parcel-merge"),
        {"parcel_ids": [parcel_a.pk, parcel_b.pk]},
    )
    assert response.status_code == 200, response.content
    merged = Parcel.objects.get(pk=response.json()["properties"]["id"])
    assert merged.status == ParcelStatus.ACTIVE
    assert merged.land_area_m2 == pytest.approx(Decimal("800"), abs=Decimal("1"))
    assert set(
        Parcel.objects.filter(pk__in=[parcel_a.pk, parcel_b.pk]).values_list("status", flat=True)
    ) == {ParcelStatus.RETIRED}


def test_merge_of_unknown_parcels_says_which_ids_are_missing(editor_client, parcel_a):
    response = post(
        editor_client, reverse("cadastre:edit-parcel-merge"), {"parcel_ids": [parcel_a.pk, 999999]}
    )
    assert response.status_code == 400
    assert "999999" in response.json()["message"]
    parcel_a.refresh_from_db()
    assert parcel_a.status == ParcelStatus.ACTIVE


def test_attributes_patch_changes_only_what_is_sent(editor_client, parcel_a):
    response = editor_client.patch(
        reverse("cadastre:edit-parcel-attributes", args=[parcel_a.pk]),
        json.dumps({"land_use": "mixed", "built_area_m2": "85.00"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["properties"]["land_use"] == "mixed"
    assert response.json()["properties"]["land_use_label"] == "Mixto"
    parcel_a.refresh_from_db()
    assert parcel_a.land_use == LandUse.MIXED
    assert parcel_a.built_area_m2 == Decimal("85.00")
    assert parcel_a.address == "Calle Hidalgo 12"


def test_bbox_returns_only_active_parcels_in_the_box(editor_client, block, parcel_a, parcel_b):
    far_block = BlockFactory(locality=block.locality, code="013", geom=square(X0 + 2000, Y0, 100))
    far = ParcelFactory(
        block=far_block, cadastral_key="0007-013-001", geom=square(X0 + 2010, Y0 + 10, 20)
    )
    retired = ParcelFactory(
        block=block,
        cadastral_key="0007-012-009",
        geom=square(X0 + 60, Y0 + 60, 20),
        status=ParcelStatus.RETIRED,
    )
    response = editor_client.get(
        reverse("cadastre:edit-parcels"), {"bbox": bbox_of(block.geom, 0.0001)}
    )
    assert response.status_code == 200
    body = response.json()
    ids = {f["properties"]["id"] for f in body["features"]}
    assert ids == {parcel_a.pk, parcel_b.pk}
    assert far.pk not in ids and retired.pk not in ids
    assert body["truncated"] is False

    blocks = editor_client.get(reverse("cadastre:edit-blocks"), {"bbox": bbox_of(block.geom)})
    assert [f["properties"]["id"] for f in blocks.json()["features"]] == [block.pk]


def test_bbox_answer_says_when_it_was_capped(editor_client, block, parcel_a, parcel_b, monkeypatch):
    monkeypatch.setattr(edit_api, "BBOX_MAX_FEATURES", 1)
    body = editor_client.get(
        reverse("cadastre:edit-parcels"), {"bbox": bbox_of(block.geom, 0.0001)}
    ).json()
    assert body["truncated"] is True
    assert body["limit"] == 1
    assert len(body["features"]) == 1


def test_bad_bbox_is_refused_with_a_message(editor_client):
    response = editor_client.get(reverse("cadastre:edit-parcels"), {"bbox": "a,b"})
    assert response.status_code == 400
    assert "bbox" in response.json()["message"]


def test_wrong_geometry_type_is_refused_with_a_translated_message(editor_client, block):
    response = post(
        editor_client,
        reverse("cadastre:edit-parcels"),
        {"geometry": {"type": "Point", "coordinates": [-100.9, 20.5]}, "land_use": "residential"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "geometría" in body["message"] and "Polygon" in body["message"]
    assert body["where"] is None


def test_malformed_geojson_is_refused_and_nothing_is_written(editor_client, parcel_a):
    count = Parcel.objects.count()
    response = post(
        editor_client,
        reverse("cadastre:edit-parcel-reshape", args=[parcel_a.pk]),
        {"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1]]]}},
    )
    assert response.status_code == 400
    assert response.json()["message"]
    assert Parcel.objects.count() == count
    assert Parcel.objects.get(pk=parcel_a.pk).geom.equals(parcel_a.geom)


def test_meter_reader_may_read_but_not_write(reader_client, block, parcel_a):
    bbox = {"bbox": bbox_of(block.geom, 0.0001)}
    assert reader_client.get(reverse("cadastre:edit-parcels"), bbox).status_code == 200
    assert reader_client.get(reverse("cadastre:edit-blocks"), bbox).status_code == 200
    create = post(
        reader_client,
        reverse("cadastre:edit-parcels"),
        {"geometry": geojson_4326(square(X0 + 60, Y0 + 10, 20)), "land_use": "residential"},
    )
    assert create.status_code == 403
    patch = reader_client.patch(
        reverse("cadastre:edit-parcel-attributes", args=[parcel_a.pk]),
        json.dumps({"land_use": "mixed"}),
        content_type="application/json",
    )
    assert patch.status_code == 403
    merge = post(reader_client, reverse("cadastre:edit-parcel-merge"), {"parcel_ids": [1, 2]})
    assert merge.status_code == 403
    parcel_a.refresh_from_db()
    assert parcel_a.land_use == LandUse.RESIDENTIAL


def test_anonymous_users_get_nothing(client, block):
    response = client.get(reverse("cadastre:edit-parcels"), {"bbox": bbox_of(block.geom)})
    assert response.status_code == 403


def test_editor_page_needs_view_permission_and_shows_tools_only_to_editors(
    client, editor_client, parcel_a
):
    url = reverse("cadastre-pages:editor")
    assert editor_client.get(url).status_code == 200
    assert b'id="tool-split"' in editor_client.get(url).content
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(username="lectora", roles=[roles.METER_READER]))
    page = client.get(url)
    assert page.status_code == 200
    assert b'id="tool-split"' not in page.content
    client.force_login(UserFactory(username="nadie"))
    assert client.get(url).status_code == 403
