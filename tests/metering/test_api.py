"""The metering API: who may do what, and what each role sees."""

import io
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import roles
from metering.models import IngestBatch, Reading, ReadingStatus
from tests.factories import UserFactory
from tests.metering.factories import history, item, local, meter, reader, sync

pytestmark = [pytest.mark.django_db]

SYNC = "/api/metering/sync/"
REVIEW = "/api/metering/review/"


@pytest.fixture
def clerk(db):
    return UserFactory(username="cajera", roles=[roles.BILLING_CLERK])


def jpeg(name="foto.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 80, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_a_reader_syncs_and_the_answer_carries_no_expected_values(client, periods, lector):
    m = meter()
    history(lector, m, [100, 110, 120, 130])
    client.force_login(lector)
    body = {"device_id": "tablet-9", "readings": [item(m, 300, local(2025, 5, 10))]}

    response = client.post(SYNC, body, content_type="application/json")

    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["results"][0]["flags"] == ["high_consumption"]
    # Ids are random or sequence numbers: they may contain "130" by chance; the rest may not.
    result = {k: v for k, v in answer["results"][0].items() if k not in ("client_id", "reading_id")}
    text = json.dumps({**answer, "results": [result]})
    assert set(answer["results"][0]) == {*result, "client_id", "reading_id"}
    for word in ("consumption", "previous", "average", "expected", "130", "170"):
        assert word not in text.replace("high_consumption", "")


def test_readers_are_kept_out_of_every_office_endpoint(client, periods, lector):
    client.force_login(lector)
    for url in (REVIEW, "/api/metering/readings/", "/api/metering/rules/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/api/metering/files/", {}).status_code == 403


def test_a_reader_who_is_also_a_clerk_still_never_sees_expected_values(client, periods):
    both = UserFactory(username="ambos", roles=[roles.METER_READER, roles.BILLING_CLERK])
    client.force_login(both)
    assert client.get(REVIEW).status_code == 403
    assert client.get("/api/metering/readings/").status_code == 403


def test_the_clerk_sees_the_queue_with_expected_values_and_decides(client, periods, lector, clerk):
    m = meter()
    history(lector, m, [100, 110, 120, 130])
    sync(lector, item(m, 300, local(2025, 5, 10)))
    client.force_login(clerk)

    queue = client.get(REVIEW, {"flag": "high_consumption"}).json()
    assert queue["count"] == 1
    entry = queue["results"][0]
    assert entry["expected"]["previous_value"] == "130.000"
    assert entry["consumption"] == "170.000"

    decided = client.post(f"{REVIEW}{entry['id']}/", {"action": "accept", "note": "fuga"})
    assert decided.status_code == 200
    assert decided.json()["status"] == ReadingStatus.ACCEPTED
    again = client.post(f"{REVIEW}{entry['id']}/", {"action": "accept"})
    assert again.status_code == 409
    assert again.json()["code"] == "transition_not_allowed"


def test_an_unknown_flag_filter_is_a_clear_error(client, periods, clerk):
    client.force_login(clerk)
    response = client.get(REVIEW, {"flag": "ghost"})
    assert response.status_code == 400
    assert "ghost" in response.json()["detail"]


def test_a_malformed_batch_answers_400_and_writes_nothing(client, periods, lector):
    client.force_login(lector)
    response = client.post(SYNC, {"readings": []}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "batch_empty"
    assert not Reading.objects.exists()


def test_the_photo_is_uploaded_once_by_the_reader_who_synced(
    client, periods, lector, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    m = meter()
    cid = str(uuid.uuid4())
    sync(lector, item(m, 100, local(2025, 3, 10), client_id=cid, photo=True))
    client.force_login(lector)

    first = client.post("/api/metering/readings/photo/", {"client_id": cid, "photo": jpeg()})
    second = client.post("/api/metering/readings/photo/", {"client_id": cid, "photo": jpeg()})

    assert (first.status_code, second.status_code) == (200, 200)
    reading = Reading.objects.get(client_id=cid)
    assert reading.photo.name.endswith(f"{cid}.jpeg")
    client.force_login(reader("otro"))
    other = client.post("/api/metering/readings/photo/", {"client_id": cid, "photo": jpeg()})
    assert (other.status_code, other.json()["code"]) == (400, "not_your_reading")


def test_a_file_that_is_not_an_image_is_refused(client, periods, lector):
    m = meter()
    cid = str(uuid.uuid4())
    sync(lector, item(m, 100, local(2025, 3, 10), client_id=cid))
    client.force_login(lector)
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = client.post("/api/metering/readings/photo/", {"client_id": cid, "photo": fake})
    assert (response.status_code, response.json()["code"]) == (400, "photo_invalid")


def test_the_clerk_loads_a_file_and_a_replay_answers_200(client, periods, clerk):
    meter(serial="A-1")
    data = f"serie,lectura,fecha\nA-1,5,{local(2025, 2, 3).isoformat()}\n".encode()
    client.force_login(clerk)

    def upload():
        f = SimpleUploadedFile("feb.csv", data, content_type="text/csv")
        return client.post("/api/metering/files/", {"period": "2025-02", "file": f})

    first, second = upload(), upload()
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["accepted"] == 1 and second.json()["replay"] is True
    assert IngestBatch.objects.count() == 1


def test_the_observation_catalog_is_translated(client, periods, lector):
    client.force_login(lector)
    response = client.get("/api/metering/observations/", HTTP_ACCEPT_LANGUAGE="es-mx")
    labels = {o["code"]: o["label"] for o in response.json()}
    assert labels["no_access"] == "Sin acceso"
    assert labels["dog"] == "Perro"


def test_a_readings_photo_is_served_to_office_staff_only(client, periods, lector):
    m = meter()
    cid = str(uuid.uuid4())
    sync(lector, item(m, 100, local(2025, 1, 10), client_id=cid, photo=True))
    client.force_login(lector)
    client.post("/api/metering/readings/photo/", {"client_id": cid, "photo": jpeg()})
    reading = Reading.objects.get(client_id=cid)
    clerk = UserFactory(username="oficina", roles=[roles.BILLING_CLERK])
    client.force_login(clerk)
    (row,) = client.get("/api/metering/readings/", {"meter_id": m.pk}).json()["results"]
    assert row["photo"] == f"/api/metering/readings/{reading.pk}/photo.jpg"
    served = client.get(row["photo"])
    assert served.status_code == 200 and b"".join(served.streaming_content)[:2] == b"\xff\xd8"
    client.force_login(lector)  # readers take photos; they do not browse them
    assert client.get(row["photo"]).status_code == 403
