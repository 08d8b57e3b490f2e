"""The field app's API and pages (metering/field_api.py, metering/field_views.py) against the real
PostGIS: today's work of the signed-in reader only, nothing that tells the expected value, other
roles refused, a replayed sync applied once, photos attached once."""

import datetime as dt
import io
import json
import re
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.urls import include, path, reverse
from django.utils import timezone
from PIL import Image

from core import roles
from metering import services
from metering.models import Reading
from sectors.assignment import assign_accounts
from tests.cadastre.factories_census import MeterFactory
from tests.factories import UserFactory
from tests.sectors.factories import accounts_at, build_town

pytestmark = [pytest.mark.django_db]

# Keys a stop may have: where, which meter, which account. Nothing about past readings.
STOP_KEYS = {
    "sequence",
    "meter_id",
    "serial",
    "dials",
    "account",
    "address",
    "lon",
    "lat",
    "visited",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def reader_user(username="lectora"):
    return UserFactory(username=username, roles=[roles.METER_READER])


@pytest.fixture
def route():
    """Books B1 (3 meters) and B2 (1 meter) of an open period; B1 is the reader's today, B2
    another reader's today; a third book is the reader's tomorrow."""
    today = timezone.localdate()
    town = build_town()
    period = services.reading_period_create(
        cycle="1",
        code="P-HOY",
        starts_on=today - dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=5),
    )
    b1_accounts = accounts_at([(300, 100), (100, 100), (200, 100)])
    b2_accounts = accounts_at([(100, 700)])
    assign_accounts(account_ids=[a.pk for a in b1_accounts + b2_accounts])
    b1_meters = [MeterFactory(account=a) for a in b1_accounts]
    b2_meters = [MeterFactory(account=a) for a in b2_accounts]
    reader = reader_user()
    other = reader_user("otro")
    services.reading_assignment_set(period=period, book=town.b1, reader=reader, scheduled_on=today)
    services.reading_assignment_set(period=period, book=town.b2, reader=other, scheduled_on=today)
    return {
        "today": today,
        "period": period,
        "town": town,
        "reader": reader,
        "other": other,
        "b1_meters": b1_meters,
        "b2_meters": b2_meters,
    }


def signed_in(client, user):
    client.force_login(user)
    return client


def reading(meter, value="1500", **extra):
    return {
        "client_id": str(uuid.uuid4()),
        "meter_id": meter.pk,
        "value": value,
        "observation": None,
        "photo": False,
        "position": None,
        "accuracy_m": None,
        "captured_at": timezone.localtime().isoformat(),
        **extra,
    }


def sync(client, readings, device="tel-1"):
    return client.post(
        reverse("field:api-sync"),
        data=json.dumps({"device_id": device, "readings": readings}),
        content_type="application/json",
    )


def jpeg_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 180)).save(buffer, "JPEG")
    return buffer.getvalue()


# --- Today's work ----------------------------------------------------------------------------


def test_work_lists_only_todays_books_of_the_signed_in_reader(client, route):
    response = signed_in(client, route["reader"]).get(reverse("field:api-work"))
    assert response.status_code == 200
    data = response.json()
    assert data["date"] == route["today"].isoformat()
    assert [r["book"] for r in data["routes"]] == ["B1"]
    stops = data["routes"][0]["stops"]
    # Route order: the account numbers (numbered along the street).
    walk = sorted(route["b1_meters"], key=lambda m: m.account.number)
    assert [s["meter_id"] for s in stops] == [m.pk for m in walk]
    assert [s["sequence"] for s in stops] == [1, 2, 3]
    meter = route["b1_meters"][0]
    stop = next(s for s in stops if s["meter_id"] == meter.pk)
    assert stop["serial"] == meter.serial
    assert stop["account"] == meter.account.number
    assert stop["address"] == meter.account.parcel.address
    # WGS 84 degrees of the meter (no location stored: the account's service point).
    point = meter.account.service_point.transform(4326, clone=True)
    assert stop["lon"] == pytest.approx(point.x, abs=1e-6)
    assert stop["lat"] == pytest.approx(point.y, abs=1e-6)


def test_a_meter_box_location_is_where_the_stop_is(client, route):
    meter = route["b1_meters"][1]
    meter.location = Point(meter.account.service_point.x + 7, meter.account.service_point.y)
    meter.location.srid = meter.account.service_point.srid
    meter.save()
    data = signed_in(client, route["reader"]).get(reverse("field:api-work")).json()
    stop = next(s for s in data["routes"][0]["stops"] if s["meter_id"] == meter.pk)
    box = meter.location.transform(4326, clone=True)
    assert (stop["lon"], stop["lat"]) == (
        pytest.approx(box.x, abs=1e-6),
        pytest.approx(box.y, abs=1e-6),
    )


def test_another_day_or_another_readers_book_is_not_todays_work(client, route):
    tomorrow = route["today"] + dt.timedelta(days=1)
    services.reading_assignment_set(
        period=route["period"], book=route["town"].b1, reader=route["reader"], scheduled_on=tomorrow
    )
    data = signed_in(client, route["reader"]).get(reverse("field:api-work")).json()
    assert data["routes"] == []
    other = signed_in(client, route["other"]).get(reverse("field:api-work")).json()
    assert [r["book"] for r in other["routes"]] == ["B2"]
    assert [s["meter_id"] for s in other["routes"][0]["stops"]] == [route["b2_meters"][0].pk]


def test_work_never_contains_previous_readings_or_expected_values(client, route):
    meter = route["b1_meters"][0]
    earlier = timezone.localtime() - dt.timedelta(days=2)
    result = services.sync_readings(
        user=route["reader"],
        batch={"readings": [reading(meter, value="987654", captured_at=earlier.isoformat())]},
    )
    assert result.results[0].status == "accepted"

    response = signed_in(client, route["reader"]).get(reverse("field:api-work"))
    for stop in response.json()["routes"][0]["stops"]:
        assert set(stop) == STOP_KEYS
        # That the meter was read this period is said; what was read is not.
        assert stop["visited"] is (stop["meter_id"] == meter.pk)
    assert "987654" not in response.content.decode()
    routes = json.dumps(response.json()["routes"])
    for word in ("previous", "consumption", "expected", "average", "last", "value", "flags"):
        assert word not in routes


def test_work_carries_the_observation_catalog_in_spanish(client, route):
    client.cookies["django_language"] = "es-mx"
    data = signed_in(client, route["reader"]).get(reverse("field:api-work")).json()
    catalog = {o["code"]: o for o in data["observations"]}
    assert {"no_access", "dog", "broken_meter", "leak", "tampered", "illegible"} <= set(catalog)
    assert catalog["no_access"]["value_allowed"] is False
    assert catalog["leak"]["value_allowed"] is True
    assert catalog["dog"]["label"] == "Perro"


@pytest.mark.parametrize(
    "role", [roles.BILLING_CLERK, roles.FIELD_CREW, roles.ADMIN, roles.PLANNER, roles.MANAGER]
)
def test_other_roles_are_refused_by_the_api_with_a_translated_message(client, route, role):
    client.force_login(UserFactory(username=f"u-{role}", roles=[role]))
    response = client.get(reverse("field:api-work"), HTTP_ACCEPT_LANGUAGE="es-MX")
    assert response.status_code == 403
    assert "lecturistas" in response.json()["detail"]
    refused = sync(client, [reading(route["b1_meters"][0])])
    assert refused.status_code == 403
    assert Reading.objects.count() == 0


def test_anonymous_users_are_sent_to_sign_in(client):
    page = client.get(reverse("field:app"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("login"))
    assert client.get(reverse("field:api-work")).status_code == 403


def test_app_page_refuses_other_roles_in_spanish(client):
    client.force_login(UserFactory(username="cobro", roles=[roles.BILLING_CLERK]))
    response = client.get(reverse("field:app"), HTTP_ACCEPT_LANGUAGE="es-MX")
    assert response.status_code == 403
    assert "La aplicación de campo es para lecturistas" in response.content.decode()


def test_app_page_gives_the_reader_the_app_urls(client, route):
    response = signed_in(client, route["reader"]).get(reverse("field:app"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{reverse("field:manifest")}"' in html
    found = re.search(r'<script id="field-config"[^>]*>(.*?)</script>', html, re.S)
    config = json.loads(found.group(1))
    assert config["user"]["id"] == route["reader"].pk
    assert config["urls"]["sync"] == reverse("field:api-sync")
    assert config["urls"]["scope"] == reverse("field:app")
    assert config["photoMaxSide"] == 1600


# --- Sync ------------------------------------------------------------------------------------


def test_replayed_sync_batch_is_applied_once(client, route):
    signed_in(client, route["reader"])
    batch = [reading(m, value=str(100 + i)) for i, m in enumerate(route["b1_meters"][:2])]
    first = sync(client, batch)
    assert first.status_code == 200
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "accepted"]
    ids = [r["reading_id"] for r in first.json()["results"]]

    again = sync(client, batch)
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert [r["reading_id"] for r in again.json()["results"]] == ids
    assert again.json()["accepted"] == 0
    stored = Reading.objects.filter(client_id__in=[b["client_id"] for b in batch])
    assert stored.count() == 2
    assert {r.reader_id for r in stored} == {route["reader"].pk}
    assert {r.device_id for r in stored} == {"tel-1"}


def test_a_bad_reading_is_rejected_alone_with_the_reason(client, route):
    signed_in(client, route["reader"])
    good = reading(route["b1_meters"][0])
    bad = reading(route["b1_meters"][1], value="1234567")  # more digits than 6 dials
    response = sync(client, [good, bad], device="tel-2")
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["code"] == "value_too_large"
    assert results[1]["message"]
    assert Reading.objects.filter(client_id=good["client_id"]).exists()
    assert not Reading.objects.filter(client_id=bad["client_id"]).exists()


def test_a_malformed_batch_is_refused_whole(client, route):
    signed_in(client, route["reader"])
    response = client.post(
        reverse("field:api-sync"),
        data=json.dumps({"readings": []}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "batch_empty"


def test_two_devices_reading_one_meter_are_both_kept_and_flagged_conflict(client, route):
    meter = route["b1_meters"][0]
    first = reading(meter, value="200")
    second = reading(meter, value="201")
    a = sync(signed_in(client, route["reader"]), [first], device="tel-a").json()["results"][0]
    b = sync(signed_in(client, route["other"]), [second], device="tel-b").json()["results"][0]
    assert (a["status"], b["status"]) == ("accepted", "accepted")
    assert "conflict" in b["flags"]
    stored = Reading.objects.filter(meter=meter).order_by("pk")
    assert [str(r.value) for r in stored] == ["200.000", "201.000"]
    assert all("conflict" in r.flags for r in stored)
    # The first device learns of the conflict when it syncs again (a replay).
    again = sync(signed_in(client, route["reader"]), [first], device="tel-a").json()
    assert again["results"][0]["status"] == "duplicate"
    assert "conflict" in again["results"][0]["flags"]


def test_sync_answer_hides_flags_that_would_tell_the_expected_value(client, route):
    meter = route["b1_meters"][0]
    earlier = (timezone.localtime() - dt.timedelta(hours=3)).isoformat()
    signed_in(client, route["reader"])
    sync(client, [reading(meter, value="5000", captured_at=earlier)])
    response = sync(client, [reading(meter, value="100")])
    result = response.json()["results"][0]
    stored = Reading.objects.get(client_id=response.json()["results"][0]["client_id"])
    assert "below_previous" in stored.flags  # the office sees it…
    assert "below_previous" not in result["flags"]  # …the reader does not
    assert "5000" not in response.content.decode()


# --- Photos ----------------------------------------------------------------------------------


def test_photo_of_a_synced_reading_is_attached_once(client, route):
    signed_in(client, route["reader"])
    item = reading(route["b1_meters"][0], photo=True)
    sync(client, [item])
    url = reverse("field:api-photo")
    photo = io.BytesIO(jpeg_bytes())
    photo.name = "foto.jpg"
    first = client.post(url, {"client_id": item["client_id"], "photo": photo})
    assert first.status_code == 200, first.content
    stored = Reading.objects.get(client_id=item["client_id"])
    assert stored.photo.name.endswith(".jpeg")
    name = stored.photo.name

    photo = io.BytesIO(jpeg_bytes((10, 10)))
    photo.name = "otra.jpg"
    second = client.post(url, {"client_id": item["client_id"], "photo": photo})
    assert second.status_code == 200
    assert second.json()["reading_id"] == first.json()["reading_id"]
    stored.refresh_from_db()
    assert stored.photo.name == name


def test_photo_before_its_reading_is_not_found_and_not_an_image_is_refused(client, route):
    signed_in(client, route["reader"])
    photo = io.BytesIO(jpeg_bytes())
    photo.name = "foto.jpg"
    early = client.post(
        reverse("field:api-photo"), {"client_id": str(uuid.uuid4()), "photo": photo}
    )
    assert early.status_code == 404
    item = reading(route["b1_meters"][0], photo=True)
    sync(client, [item])
    text = io.BytesIO(b"not a picture")
    text.name = "foto.jpg"
    refused = client.post(
        reverse("field:api-photo"), {"client_id": item["client_id"], "photo": text}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "photo_invalid"


# --- Installability -------------------------------------------------------------------------


def test_manifest_makes_the_app_installable(client):
    response = client.get(reverse("field:manifest"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["start_url"] == reverse("field:app")
    assert manifest["scope"] == reverse("field:app")
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        from django.contrib.staticfiles import finders

        found = finders.find(icon["src"].removeprefix("/static/"))
        assert found, icon["src"]
        with Image.open(found) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]


def test_service_worker_is_served_at_the_app_scope(client):
    response = client.get(reverse("field:service-worker"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == reverse("field:app")
    body = response.content.decode()
    assert "importScripts(" in body
    assert "/static/js/field-sw.js" in body
    config = json.loads(body.split("self.FIELD_SW = ", 1)[1].split(";\n", 1)[0])
    # Both pages are shells (cached on install if the user may open them, see field-sw.js);
    # the static files are precached for everyone.
    assert config["shells"] == [reverse("field:app"), reverse("field:orders")]
    assert "/static/vendor/leaflet/leaflet.js" in config["precache"]
    assert "/static/js/field-orders.js" in config["precache"]
    # Same files, same worker: browsers reinstall only when something changed.
    assert client.get(reverse("field:service-worker")).content == response.content


def test_openapi_schema_of_the_field_api_is_valid_and_warning_free():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("field/", include("metering.field_urls"))])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert {"/field/api/work/", "/field/api/sync/", "/field/api/photo/"} <= set(schema["paths"])
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache
