import pytest
from django.urls import reverse

from core import roles
from tests.factories import LocalityFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_locality_overview_is_geojson_in_wgs84_for_signed_in_staff(client):
    LocalityFactory(code="0001", name="Centro")
    client.force_login(UserFactory(roles=[roles.PLANNER]))
    response = client.get(reverse("cadastre:locality-overview"))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    feature = body["features"][0]
    assert feature["properties"]["name"] == "Centro"
    assert feature["geometry"]["type"] == "MultiPolygon"
    lon, lat = feature["geometry"]["coordinates"][0][0][0]
    # The factory's square lies in UTM 14N near (300 km E, 2,270 km N): central Mexico.
    assert -102 < lon < -99 and 19 < lat < 22
    assert len(str(lon).split(".")[1]) <= 6


def test_locality_overview_is_refused_to_anonymous_visitors(client):
    response = client.get(reverse("cadastre:locality-overview"))
    assert response.status_code in (401, 403)


def test_openapi_schema_lists_the_cadastre_api(client):
    client.force_login(UserFactory(roles=[roles.AUDITOR]))
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/cadastre/localities/" in response.json()["paths"]
