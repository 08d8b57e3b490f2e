"""The meter readers' field app in Chromium, on a phone-sized screen: install online, capture
readings with photos offline, send them when the network returns — each reading exactly once."""

import datetime as dt
import io
import json
import os

import pytest
from django.core.signals import request_started
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core import roles
from metering import services
from metering.models import Reading
from sectors.assignment import assign_accounts
from tests.cadastre.factories_census import MeterFactory
from tests.factories import UserFactory
from tests.sectors.factories import accounts_at, build_town

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def route():
    """Book B1 with three meters, assigned to the reader today, in an open period."""
    today = timezone.localdate()
    town = build_town()
    period = services.reading_period_create(
        cycle="1",
        code="P-HOY",
        starts_on=today - dt.timedelta(days=5),
        ends_on=today + dt.timedelta(days=5),
    )
    accounts = accounts_at([(100, 100), (200, 100), (300, 100)])
    assign_accounts(account_ids=[a.pk for a in accounts])
    meters = [MeterFactory(account=a) for a in accounts]
    reader = UserFactory(username="lectora", roles=[roles.METER_READER])
    services.reading_assignment_set(period=period, book=town.b1, reader=reader, scheduled_on=today)
    return {"reader": reader, "meters": meters}


@pytest.fixture
def phone(chromium, route):
    """A phone's screen, Spanish, GPS allowed and standing at the first meter."""
    at = route["meters"][0].account.service_point.transform(4326, clone=True)
    context = chromium.new_context(
        locale="es-MX",
        timezone_id="America/Mexico_City",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": at.y, "longitude": at.x, "accuracy": 6},
        service_workers="allow",
    )
    yield context
    context.close()


def camera_jpeg(size=(2400, 1800)) -> dict:
    """What a phone camera gives: a large JPEG (the app shrinks it to 1600 px)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 110, 160)).save(buffer, "JPEG", quality=80)
    return {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def open_app(page, live_server):
    page.goto(f"{live_server.url}/login/?next={reverse('field:app')}")
    page.fill("#id_username", "lectora")
    page.fill("#id_password", PASSWORD)
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url(f"**{reverse('field:app')}")
    page.wait_for_selector("#view-list[data-loaded='network']", timeout=20_000)
    # Installed and in control: from now on the shell and its assets come from its cache.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)


def stand_at(context, meter):
    at = meter.account.service_point.transform(4326, clone=True)
    context.set_geolocation({"latitude": at.y, "longitude": at.x, "accuracy": 6})


def capture(page, stop_index, value, observation=""):
    page.locator("#stops li.stop button").nth(stop_index).click()
    dialog = page.locator("#capture")
    dialog.wait_for(state="visible")
    page.wait_for_selector("#capture-gps.fix")
    if observation:
        page.select_option("#capture-observation", observation)
    page.fill("#capture-value", value)
    page.set_input_files("#capture-photo", files=[camera_jpeg()])
    page.wait_for_selector("#capture-photo-preview:not([hidden])")
    screenshot(page, f"capture-{stop_index}")
    page.click("#capture-save")
    dialog.wait_for(state="hidden")


def queue(page) -> list[dict]:
    """The phone's queue as IndexedDB holds it (without the photo blobs)."""
    return page.evaluate(
        """async () => {
            const db = await idb.openDB("caudal-field");
            const items = await db.getAll("queue");
            return items.map((i) => ({client_id: i.client_id, state: i.state,
                                      meter_id: i.meter_id, value: i.value,
                                      captured_at: i.captured_at, photo: i.photo ? i.photo.size : 0,
                                      photo_type: i.photo ? i.photo.type : ""}));
        }"""
    )


class ServerHits:
    """Requests that reached the live server: none may while the phone is offline."""

    def __init__(self):
        self.paths = []

    def __call__(self, sender, environ=None, **kwargs):
        self.paths.append((environ or {}).get("PATH_INFO", "?"))


@pytest.fixture
def server_hits():
    hits = ServerHits()
    request_started.connect(hits, weak=False)
    yield hits
    request_started.disconnect(hits)


def screenshot(page, name):
    """``CAUDAL_FIELD_SCREENSHOTS=/tmp/field`` keeps pictures of the phone screen."""
    if folder := os.environ.get("CAUDAL_FIELD_SCREENSHOTS"):
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def status(page) -> dict:
    bar = page.locator("#field-status")
    return {k: int(bar.get_attribute(f"data-{k}")) for k in ("pending", "synced", "rejected")}


def test_offline_captures_with_photos_arrive_exactly_once(phone, live_server, route, server_hits):
    page = phone.new_page()
    open_app(page, live_server)
    assert page.get_by_role("heading", level=1).inner_text() == "Lecturas de hoy"
    stops = page.locator("#stops li.stop")
    assert stops.count() == 3
    assert stops.first.locator(".badge").inner_text() == "Sin leer"
    meters = route["meters"]

    # --- Offline: the readings go to the phone's queue ---------------------------------------
    phone.set_offline(True)
    page.wait_for_selector("#field-network.off")
    server_hits.paths.clear()
    capture(page, 0, "1234")
    stand_at(phone, meters[1])
    capture(page, 1, "87", observation="leak")
    page.wait_for_function("document.querySelector('#field-status').dataset.pending === '2'")
    assert status(page) == {"pending": 2, "synced": 0, "rejected": 0}
    assert stops.nth(0).locator(".badge").inner_text() == "Pendiente"
    assert stops.nth(1).locator(".badge").inner_text() == "Pendiente"
    assert "Sin red" in page.locator("#field-message").inner_text()
    screenshot(page, "offline-list")
    items = queue(page)
    assert len(items) == 2
    assert {i["meter_id"] for i in items} == {meters[0].pk, meters[1].pk}
    assert all(i["photo"] > 0 and i["photo_type"] == "image/jpeg" for i in items)
    # Device time with the device's UTC offset (Mexico City: -06:00).
    assert all(i["captured_at"].endswith("-06:00") for i in items)
    assert Reading.objects.count() == 0

    # A reload without network: the service worker serves the app, IndexedDB the work and queue.
    page.reload()
    page.wait_for_selector("#view-list[data-loaded='copy']", timeout=20_000)
    assert page.locator("#stops li.stop").count() == 3
    page.wait_for_function("document.querySelector('#field-status').dataset.pending === '2'")
    assert "copia" in page.locator("#work-note").inner_text()
    page.click("#tab-queue")
    assert page.locator("#queue-list li.captured.pending").count() == 2
    assert Reading.objects.count() == 0
    assert server_hits.paths == []  # really offline, service worker included

    # --- Online again: both are sent, and acknowledged ---------------------------------------
    phone.set_offline(False)
    page.wait_for_function(
        "document.querySelector('#field-status').dataset.synced === '2'", timeout=30_000
    )
    assert status(page) == {"pending": 0, "synced": 2, "rejected": 0}
    assert page.locator("#queue-list li.captured.synced").count() == 2
    screenshot(page, "synced-queue")
    page.click("#tab-map")
    page.wait_for_selector("#field-map .stop-marker.synced")
    assert page.locator("#field-map .stop-marker").count() == 3
    screenshot(page, "map")
    ids = {i["client_id"] for i in queue(page)}
    stored = list(Reading.objects.filter(client_id__in=ids).order_by("meter_id"))
    assert len(stored) == 2
    assert Reading.objects.count() == 2
    assert [(r.meter_id, str(r.value)) for r in stored] == [
        (meters[0].pk, "1234.000"),
        (meters[1].pk, "87.000"),
    ]
    assert stored[1].observation_id == "leak"
    assert {r.reader_id for r in stored} == {route["reader"].pk}
    for r, meter in zip(stored, meters, strict=False):
        assert r.photo, r.client_id
        with Image.open(r.photo.path) as photo:
            assert max(photo.size) == 1600  # shrunk on the phone
        assert r.position is not None
        assert r.position.distance(meter.account.service_point) < 1
        assert "gps_far" not in r.flags
    photos = {r.pk: r.photo.name for r in stored}

    # --- A replay (the acks were lost): nothing new on the server ----------------------------
    page.evaluate(
        """async () => {
            const db = await idb.openDB("caudal-field");
            for (const item of await db.getAll("queue")) {
                Object.assign(item, {state: "pending", reading_acked: false, photo_acked: false,
                                     synced_at: null});
                await db.put("queue", item);
            }
            await window.caudalField.reloadItems();
        }"""
    )
    assert status(page)["pending"] == 2
    page.click("#sync-now")
    page.wait_for_function(
        "document.querySelector('#field-status').dataset.synced === '2'", timeout=30_000
    )
    assert Reading.objects.count() == 2
    assert {r.pk: r.photo.name for r in Reading.objects.all()} == photos


def test_expected_values_are_never_shown_to_the_reader(phone, live_server, route):
    meter = route["meters"][0]
    earlier = (timezone.localtime() - dt.timedelta(days=1)).isoformat()
    services.sync_readings(
        user=route["reader"],
        batch={
            "readings": [
                {
                    "client_id": "0b5e8f6c-4c1a-4d8e-9a57-4f7e3a3b9d01",
                    "meter_id": meter.pk,
                    "value": "424242",
                    "captured_at": earlier,
                }
            ]
        },
    )
    page = phone.new_page()
    open_app(page, live_server)
    # Read before (on another phone, say): the stop says so, and nothing more.
    assert page.locator("#stops li.stop .badge").first.inner_text() == "Ya leído"
    page.locator("#stops li.stop button").first.click()
    page.wait_for_selector("#capture[open]")
    assert "424242" not in page.content()
    work = page.evaluate(
        "async () => (await (await idb.openDB('caudal-field')).getAll('work'))[0].data"
    )
    assert "424242" not in json.dumps(work)


def test_other_roles_get_a_spanish_refusal(chromium, live_server):
    UserFactory(username="cajero", roles=[roles.CASHIER])
    context = chromium.new_context(locale="es-MX", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/?next={reverse('field:app')}")
    page.fill("#id_username", "cajero")
    page.fill("#id_password", PASSWORD)
    with page.expect_response(lambda r: r.url.endswith(reverse("field:app"))) as answer:
        page.click("form[action^='/login/'] button[type=submit]")
    assert answer.value.status == 403
    assert "para lecturistas" in page.get_by_role("alert").inner_text()
    context.close()


def test_service_worker_sync_sends_the_queue_left_by_a_closed_app(phone, live_server, route):
    page = phone.new_page()
    open_app(page, live_server)
    phone.set_offline(True)
    page.wait_for_selector("#field-network.off")
    stand_at(phone, route["meters"][2])
    capture(page, 2, "55")
    [item] = queue(page)
    page.close()  # the reader pockets the phone before the network returns
    phone.set_offline(False)

    # What the worker runs on Background Sync's "sync" event, with no page open.
    [worker] = phone.service_workers
    result = worker.evaluate("FieldQueue.syncFromWorker()")
    assert result["outcome"] == "done"
    stored = Reading.objects.get(client_id=item["client_id"])
    assert stored.meter_id == route["meters"][2].pk
    assert stored.photo
    assert Reading.objects.count() == 1
