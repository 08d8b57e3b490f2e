"""The sectorization API: every role reads, planners preview and apply, one error shape."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from sectors.models import AccountSectors, CommercialArea
from tests.factories import UserFactory
from tests.sectors.factories import accounts_at, build_town, rect

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def town():
    from sectors import services

    town = build_town()
    town.accounts = accounts_at([(100, 100), (100, 400), (100, 600), (700, 100), (2500, 500)])
    services.assign_all()
    return town


def _client(role):
    client = Client()
    client.force_login(UserFactory(username=f"u_{role}", roles=[role]))
    return client


@pytest.fixture
def planner():
    return _client(roles.PLANNER)


@pytest.fixture
def reader():
    return _client(roles.METER_READER)


def _geojson(polygon):
    return json.loads(polygon.transform(4326, clone=True).json)


def _post(client, name, body):
    return client.post(reverse(name), data=json.dumps(body), content_type="application/json")


def test_every_role_reads_the_layers_with_their_account_counts(reader, town):
    response = reader.get(reverse("sectors:area-list", args=["book"]))
    assert response.status_code == 200
    features = {f["properties"]["code"]: f for f in response.json()["features"]}
    assert set(features) == {"B1", "B2"}
    assert features["B1"]["properties"]["accounts"] == 2
    assert features["B1"]["properties"]["parent_code"] == "S1"
    assert features["B1"]["geometry"]["type"] == "MultiPolygon"
    lon, lat = features["B1"]["geometry"]["coordinates"][0][0][0]
    assert -180 < lon < 180 and -90 < lat < 90
    sectors = reader.get(reverse("sectors:area-list", args=["sector"]), {"parent": town.z1.pk})
    assert [f["properties"]["code"] for f in sectors.json()["features"]] == ["S1", "S2"]


def test_a_bbox_narrows_the_list(reader, town):
    far = rect(1500, 0, 1600, 100).transform(4326, clone=True).extent
    response = reader.get(
        reverse("sectors:area-list", args=["zone"]), {"bbox": ",".join(map(str, far))}
    )
    assert [f["properties"]["code"] for f in response.json()["features"]] == ["Z2"]


def test_an_unknown_layer_is_a_clear_400(reader, town):
    response = reader.get(reverse("sectors:area-list", args=["rivers"]))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "rivers" in response.json()["message"]


def test_a_reader_cannot_preview_nor_apply(reader, town):
    body = {"action": "delete", "kind": "book", "id": town.b1.pk}
    assert _post(reader, "sectors:change-preview", body).status_code == 403
    assert _post(reader, "sectors:change-apply", body).status_code == 403
    assert CommercialArea.objects.filter(pk=town.b1.pk).exists()


def test_a_planner_previews_then_applies_with_the_token(planner, town):
    body = {
        "action": "update",
        "kind": "book",
        "id": town.b1.pk,
        "geometry": _geojson(rect(0, 0, 500, 300)),
    }
    preview = _post(planner, "sectors:change-preview", body)
    assert preview.status_code == 200, preview.content
    shown = preview.json()
    assert shown["applied"] is False
    assert shown["accounts_moved"] == 1
    move = shown["moves"]["features"][0]
    assert move["properties"]["from"]["code"] == "B1" and move["properties"]["to"] is None
    assert move["geometry"]["type"] == "Point"
    assert shown["counts"] == [
        {
            "kind": "book",
            "id": town.b1.pk,
            "code": "B1",
            "name": town.b1.name,
            "before": 2,
            "after": 1,
            "gained": 0,
            "lost": 1,
        }
    ]
    assert AccountSectors.objects.get(account=town.accounts[1]).book_id == town.b1.pk
    applied = _post(planner, "sectors:change-apply", {**body, "token": shown["token"]})
    assert applied.status_code == 200, applied.content
    assert applied.json()["applied"] is True
    assert applied.json()["moves"] == shown["moves"]
    assert AccountSectors.objects.get(account=town.accounts[1]).book_id is None


def test_a_refused_change_answers_code_message_and_where(planner, town):
    body = {
        "action": "create",
        "kind": "sector",
        "parent_id": town.z1.pk,
        "code": "S3",
        "name": "Tercero",
        "geometry": _geojson(rect(400, 0, 600, 200)),
    }
    response = _post(planner, "sectors:change-apply", body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "overlap"
    assert "S1" in error["message"] and "S2" in error["message"]
    assert error["where"]["type"] in ("Polygon", "MultiPolygon")
    assert not CommercialArea.objects.filter(code="S3").exists()


def test_a_stale_token_is_refused(planner, town):
    body = {
        "action": "update",
        "kind": "book",
        "id": town.b1.pk,
        "geometry": _geojson(rect(0, 0, 500, 300)),
        "token": "0" * 32,
    }
    response = _post(planner, "sectors:change-apply", body)
    assert response.status_code == 400
    assert response.json()["code"] == "stale_preview"


def test_bad_geojson_is_refused_before_any_service_runs(planner, town):
    body = {
        "action": "create",
        "kind": "zone",
        "code": "Z3",
        "name": "x",
        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
    }
    response = _post(planner, "sectors:change-preview", body)
    assert response.status_code == 400
    assert "Polygon" in response.json()["message"]


def test_a_planner_applies_a_proposal(planner, town):
    body = {
        "kind": "book",
        "parent_id": town.s1.pk,
        "areas": [
            {"code": "B1", "name": "Uno", "geometry": _geojson(rect(0, 0, 500, 650))},
            {"code": "B2", "name": "Dos", "geometry": _geojson(rect(0, 650, 500, 1000))},
        ],
    }
    preview = _post(planner, "sectors:proposal-preview", body).json()
    assert preview["accounts_moved"] == 1
    applied = _post(planner, "sectors:proposal-apply", {**body, "token": preview["token"]})
    assert applied.status_code == 200, applied.content
    assert AccountSectors.objects.get(account=town.accounts[2]).book_id == town.b1.pk


def test_gaps_are_served_as_geojson_with_their_accounts(reader, town):
    response = reader.get(reverse("sectors:gaps"), {"kind": "book", "parent": town.s2.pk})
    features = response.json()["features"]
    assert len(features) == 1
    assert features[0]["properties"]["area_m2"] == pytest.approx(500 * 1000, rel=1e-6)
    assert features[0]["properties"]["accounts"] == 1
    assert reader.get(reverse("sectors:gaps"), {"kind": "book"}).status_code == 400


def test_unassigned_accounts_are_listed(reader, town):
    response = reader.get(reverse("sectors:unassigned"), {"kind": "zone"})
    body = response.json()
    assert body["counts"]["zone"] == 1 and body["counts"]["book"] == 2
    assert [r["number"] for r in body["results"]] == [town.accounts[4].number]


def test_one_accounts_areas(reader, town):
    body = reader.get(reverse("sectors:account-sectors", args=[town.accounts[0].pk])).json()
    assert body["book"]["code"] == "B1" and body["zone"]["code"] == "Z1"
    assert body["tariff_zone"]["code"] == "T1"


def test_the_openapi_schema_of_the_sectors_endpoints_is_valid_and_warning_free():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    import sectors.urls

    # The balancing endpoint is tested with its module (tests/sectors/test_balancing.py).
    mine = [p for p in sectors.urls.urlpatterns if p.name != "balance"]
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/sectors/", include((mine, "sectors")))])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert "/api/sectors/changes/apply/" in schema["paths"]
    # Names given with extend_schema_serializer(component_name=…) are kept as given; other
    # nested serializers are named after their view (core.schema.CaudalAutoSchema).
    components = set(schema["components"]["schemas"])
    assert {"SectorChangeInput", "SectorProposalInput"} <= components
    assert not [name for name in components if name.startswith("_")]
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache
