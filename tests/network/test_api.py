"""The network API: every office role reads, planners record outages and import; one error shape."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core import roles
from network.models import Junction, OutageAccount
from tests.factories import UserFactory
from tests.network.factories import connected_account, pipe, pt, sewer, valve
from tests.network.test_epanet import INP

pytestmark = pytest.mark.django_db


def _client(role):
    client = Client()
    client.force_login(UserFactory(username=f"u_{role}", roles=[role]))
    return client


def _lonlat(x, y):
    p = pt(x, y).transform(4326, clone=True)
    return {"lon": p.x, "lat": p.y}


@pytest.fixture
def line():
    p1 = pipe("P1", (0, 0), (100, 0))
    p2 = pipe("P2", (100, 0), (200, 0))
    valve("V50", 50, 0)
    valve("V150", 150, 0)
    return [connected_account(p1, 80, 0), connected_account(p2, 120, 0)], p2


def test_customer_service_traces_a_break_and_sees_the_accounts(line):
    accounts, p2 = line
    response = _client(roles.CUSTOMER_SERVICE).post(
        reverse("network:trace"), _lonlat(130, 2), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pipe"] == p2.pk
    assert body["accounts"] == sorted(a.pk for a in accounts)
    assert len(body["valves"]) == 2
    assert body["geometry"]["type"] == "MultiLineString"


def test_trace_far_from_pipes_answers_the_error_shape(line):
    response = _client(roles.PLANNER).post(
        reverse("network:trace"), _lonlat(130, 900), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "no_pipe_near"


def test_planner_records_an_outage_and_customer_service_cannot(line):
    accounts, _p2 = line
    denied = _client(roles.CUSTOMER_SERVICE).post(
        reverse("network:outages"), _lonlat(130, 0), content_type="application/json"
    )
    assert denied.status_code == 403
    response = _client(roles.PLANNER).post(
        reverse("network:outages"), _lonlat(130, 0), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    outage_id = response.json()["id"]
    assert set(
        OutageAccount.objects.filter(outage_id=outage_id).values_list("account_id", flat=True)
    ) == {a.pk for a in accounts}
    listed = _client(roles.FIELD_CREW).get(reverse("network:outages")).json()["results"]
    assert [o["id"] for o in listed] == [outage_id]
    closed = _client(roles.PLANNER).post(reverse("network:outage-close", args=[outage_id]))
    assert closed.json()["status"] == "closed"
    again = _client(roles.PLANNER).post(reverse("network:outage-close", args=[outage_id]))
    assert again.status_code == 409


def test_feasibility_endpoint(line):
    sewer("S1", (0, -20), (200, -20), diameter=450)
    body = (
        _client(roles.CUSTOMER_SERVICE).get(reverse("network:feasibility"), _lonlat(60, 5)).json()
    )
    assert body["water"]["code"] == "P1"
    assert float(body["water"]["distance_m"]) == pytest.approx(5, abs=0.01)
    assert body["sewer"]["diameter_mm"] == 450


def test_meter_readers_do_not_see_the_network(line):
    response = _client(roles.METER_READER).get(reverse("network:feasibility"), _lonlat(60, 5))
    assert response.status_code == 403


def test_topology_report_endpoint(line):
    body = _client(roles.PLANNER).get(reverse("network:topology-report")).json()
    assert len(body["dangles"]) == 2
    assert body["parts"] == [] and body["overlaps"] == []


def test_epanet_import_reports_bad_lines_and_export_downloads():
    planner = _client(roles.PLANNER)
    bad = SimpleUploadedFile("m.inp", INP.replace(" J2   98", " J2   x").encode())
    response = planner.post(
        reverse("network:epanet-import"), {"file": bad, "xoff": 300000, "yoff": 2270000}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 8
    good = SimpleUploadedFile("m.inp", INP.encode())
    response = planner.post(
        reverse("network:epanet-import"), {"file": good, "xoff": 300000, "yoff": 2270000}
    )
    assert response.status_code == 201, response.content
    assert Junction.objects.count() == 6
    export = planner.get(reverse("network:epanet-export"), {"xoff": 300000, "yoff": 2270000})
    assert export.status_code == 200
    assert b"[PIPES]" in export.content and b" J2 140.000 0.000" in export.content


def test_districts_endpoint_reports_an_open_boundary_valve():
    from django.contrib.gis.geos import MultiPolygon

    from sectors.models import Dma
    from tests.sectors.factories import rect

    Dma.objects.create(code="W", name="W", geom=MultiPolygon(rect(-10, -50, 100, 50)))
    Dma.objects.create(code="E", name="E", geom=MultiPolygon(rect(100, -50, 210, 50)))
    pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (200, 0))
    valve("VB", 100, 0)
    body = _client(roles.PLANNER).get(reverse("network:districts")).json()
    assert body["mixed_areas"] == [1]
