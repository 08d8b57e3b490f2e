"""The macrometer and water-balance endpoints, the NRW map layer and the info panel's section."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import roles
from metering.models import MacrometerReading, WaterBalance
from metering.water_balance import water_balance_compute
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.factories import ParcelFactory, UserFactory
from tests.metering.balance_factories import (
    at,
    consumption,
    district,
    in_district,
    macrometer,
    registers,
)
from tests.metering.factories import month_period
from tests.sectors.factories import rect
from tests.tiles.vector_helpers import features, tile_of, tile_url

pytestmark = pytest.mark.django_db

MARCH = dt.date(2025, 3, 1)
READING = "/api/metering/macrometers/readings/"
FILE = "/api/metering/macrometers/readings/file/"
TELEMETRY = "/api/metering/macrometers/telemetry/"
BALANCE = "/api/metering/water-balance/"


@pytest.fixture
def planner(client):
    client.force_login(UserFactory(username="planeador", roles=[roles.PLANNER]))
    return client


@pytest.fixture
def d1():
    d = district("D1")
    macrometer("M1", dma_in=d)
    return d


def test_a_planner_types_a_reading_by_hand(planner, d1):
    body = {"macrometer": "M1", "read_at": "2025-03-01T00:00:00-06:00", "forward_m3": "12.5"}
    response = planner.post(READING, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["added"] == 1
    stored = MacrometerReading.objects.get()
    assert (stored.source, stored.forward_m3) == ("manual", Decimal("12.500"))


def test_a_refused_file_answers_every_problem_in_spanish(planner, d1):
    content = (
        b"macrometer,read_at,forward_m3\n"
        b"M1,2025-03-01T00:00:00-06:00,100\n"
        b"M1,2025-03-02T00:00:00-06:00,90\n"
        b"MX,2025-03-03T00:00:00-06:00,95\n"
    )
    response = planner.post(
        FILE,
        {"file": SimpleUploadedFile("scada.csv", content)},
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "macrometer_batch_invalid"
    assert body["detail"].startswith("No se guardaron las lecturas de macromedidores")
    assert len(body["errors"]) == 2
    assert body["errors"][0].startswith("Fila 3:")  # the register went down
    assert "no existe el macromedidor «MX»" in body["errors"][1]
    assert not MacrometerReading.objects.exists()


def test_the_same_file_uploaded_twice_is_stored_once(planner, d1):
    content = b"macrometer,read_at,forward_m3\nM1,2025-03-01T00:00:00-06:00,100\n"
    first = planner.post(FILE, {"file": SimpleUploadedFile("a.csv", content)})
    again = planner.post(FILE, {"file": SimpleUploadedFile("a.csv", content)})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["replay"] is True
    assert MacrometerReading.objects.count() == 1


def test_a_telemetry_push_retried_adds_nothing(planner, d1):
    body = json.dumps(
        {
            "readings": [
                {"macrometer": "M1", "read_at": "2025-03-01T00:00:00Z", "forward_m3": "1"},
                {"macrometer": "M1", "read_at": "2025-03-01T00:15:00Z", "forward_m3": "3"},
            ]
        }
    )
    first = planner.post(TELEMETRY, body, content_type="application/json")
    again = planner.post(TELEMETRY, body, content_type="application/json")
    assert first.status_code == 201 and first.json()["added"] == 2
    assert again.status_code == 200 and again.json()["replay"] is True
    assert list(MacrometerReading.objects.values_list("source", flat=True)) == ["telemetry"] * 2


def test_meter_readers_may_not_load_macrometer_readings(client, d1):
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    body = {"macrometer": "M1", "read_at": "2025-03-01T00:00:00-06:00", "forward_m3": "1"}
    assert client.post(READING, body, content_type="application/json").status_code == 403
    assert client.get(BALANCE, {"month": "2025-03"}).status_code == 403


def balanced_district():
    d = district("D1")
    registers(macrometer("M1", dma_in=d), (at(2025, 3, 1), 0), (at(2025, 4, 1), 1000))
    account = ServiceAccountFactory(billing_cycle="1")
    in_district(account, d)
    consumption(account, month_period(2025, 3), "650")
    return d, account


def test_a_planner_computes_a_month_and_a_manager_reads_it_and_the_history(planner, client):
    balanced_district()
    response = planner.post(
        BALANCE + "compute/", {"month": "2025-03"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    (row,) = response.json()
    assert (row["dma"], row["month"], row["non_revenue_pct"]) == ("D1", "2025-03", "35.00")
    assert row["nrw_class"] == "30_40"

    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    listed = client.get(BALANCE, {"month": "2025-03"}, HTTP_ACCEPT_LANGUAGE="es-mx").json()
    assert listed[0]["system_input_m3"] == "1000.000"
    assert listed[0]["nrw_class_label"] == "De 30 % a 40 %"
    history = client.get(BALANCE + "D1/").json()
    assert [h["month"] for h in history] == ["2025-03"]
    assert client.get(BALANCE + "NOPE/").status_code == 404
    refused = client.get(BALANCE, {"month": "marzo"})
    assert refused.status_code == 400 and refused.json()["field"] == "month"


def test_managers_read_but_do_not_recompute(client):
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    response = client.post(
        BALANCE + "compute/", {"month": "2025-03"}, content_type="application/json"
    )
    assert response.status_code == 403


def test_the_nrw_layer_colours_each_district_by_its_latest_measured_month(client):
    d, _account = balanced_district()
    water_balance_compute(month=MARCH)
    water_balance_compute(month=dt.date(2025, 4, 1))  # April: input not measured (no reading)
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    z, x, y = tile_of(d.geom.centroid, 14)
    got = features(client.get(tile_url("water_balance", z, x, y)), "water_balance")
    assert got[d.pk]["month"] == "2025-03"
    assert got[d.pk]["nrw_class"] == "30_40"
    assert got[d.pk]["nrw_pct"] == pytest.approx(35.0)
    filtered = client.get(tile_url("water_balance", z, x, y, "nrw_class=lt20"))
    assert features(filtered, "water_balance") == {}


def test_the_info_panel_shows_the_districts_balance_to_office_staff(client):
    from tests.factories import ORIGIN_X, ORIGIN_Y, square

    d, _account = balanced_district()
    water_balance_compute(month=MARCH)
    ParcelFactory(geom=square(ORIGIN_X + 100, ORIGIN_Y + 100, 20))
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    from django.contrib.gis.geos import Point

    p = Point(ORIGIN_X + 110, ORIGIN_Y + 110, srid=d.geom.srid).transform(4326, clone=True)
    body = client.get("/api/map/info/", {"lon": p.x, "lat": p.y}).json()
    sections = {s["key"]: s for s in body["sections"]}
    balance = sections["water_balance"]
    assert balance["fields"][0]["value"] == "D1 — District D1"
    (row,) = balance["tables"][0]["rows"]
    assert (row["month"], row["input_m3"], row["billed_m3"], row["nrw_pct"]) == (
        "2025-03",
        "1,000",
        "650",
        "35.0 %",
    )
    assert rect(0, 0, 500, 500).contains(
        Point(ORIGIN_X + 110, ORIGIN_Y + 110, srid=d.geom.srid)
    )  # the parcel is inside D1: the section is about D1 because of where it is
    assert WaterBalance.objects.count() == 1
