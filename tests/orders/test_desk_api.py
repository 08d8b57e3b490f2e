"""The service-desk endpoints: receiving, attending and answering tickets, a contract, and the
360° view of a customer."""

import pytest

from core import roles
from orders.models import Ticket
from tests.cadastre.factories_census import ServiceAccountFactory, parcel_at
from tests.factories import UserFactory
from tests.metering.factories import meter

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client):
    client.force_login(UserFactory(username="ventanilla", roles=[roles.CUSTOMER_SERVICE]))
    return client


def test_a_clarification_is_received_inspected_and_answered_through_the_api(desk):
    account = ServiceAccountFactory()
    opened = desk.post(
        "/api/orders/tickets/",
        {"kind": "clarification", "description": "Recibo alto", "account": account.number},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert body["status"] == "open" and body["kind_label"] == "Aclaración de recibo"
    assert "Recibimos su solicitud" in body["messages"][0]["text"]
    pk = body["id"]
    inspected = desk.post(
        f"/api/orders/tickets/{pk}/inspection/", {}, content_type="application/json"
    )
    assert inspected.json()["work_order"].startswith("OT-")
    answered = desk.post(
        f"/api/orders/tickets/{pk}/resolve/",
        {"resolution": "Lectura correcta", "granted": False},
        content_type="application/json",
    )
    assert answered.json()["status"] == "rejected"
    again = desk.post(
        f"/api/orders/tickets/{pk}/message/", {"text": "hola"}, content_type="application/json"
    )
    assert again.status_code == 409
    listed = desk.get("/api/orders/tickets/", {"account": account.number}).json()
    assert [t["id"] for t in listed["results"]] == [pk]


def test_a_contract_through_the_api_creates_everything(desk):
    parcel = parcel_at(4)
    point = parcel.geom.point_on_surface.transform(4326, clone=True)
    response = desk.post(
        "/api/orders/contracts/",
        {
            "parcel": parcel.cadastral_key,
            "lon": point.x,
            "lat": point.y,
            "account": {"number": "N0000009", "use_type": "domestic"},
            "new_customer": {"name": "Eva", "first_surname": "Luna"},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "resolved"
    assert len(response.json()["request"]["orders"]) == 2


def test_a_contract_with_bad_customer_data_answers_what_is_wrong(desk):
    parcel = parcel_at(5)
    point = parcel.geom.point_on_surface.transform(4326, clone=True)
    response = desk.post(
        "/api/orders/contracts/",
        {
            "parcel": parcel.cadastral_key,
            "lon": point.x,
            "lat": point.y,
            "account": {"number": "N0000010", "use_type": "domestic"},
            "new_customer": {"name": "Eva", "rfc": "NOT-AN-RFC"},
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "roll_refused" and "rfc" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_the_360_view_gathers_accounts_meters_orders_and_tickets(desk):
    account = ServiceAccountFactory()
    m = meter(account=account)
    desk.post(
        "/api/orders/tickets/",
        {"kind": "complaint", "description": "x", "account": account.number},
        content_type="application/json",
    )
    view = desk.get(f"/api/orders/customers/{account.customer_id}/overview/").json()
    (row,) = view["accounts"]
    assert row["number"] == account.number and row["meter"] == m.serial
    assert len(row["lonlat"]) == 2
    assert [t["kind"] for t in view["tickets"]] == ["complaint"]


def test_meter_readers_have_no_service_desk(client):
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    assert client.get("/api/orders/tickets/").status_code == 403


def test_open_tickets_are_a_map_layer(desk):
    from tests.tiles.vector_helpers import features, tile_of, tile_url

    account = ServiceAccountFactory()
    desk.post(
        "/api/orders/tickets/",
        {"kind": "complaint", "description": "x", "account": account.number},
        content_type="application/json",
    )
    ticket = Ticket.objects.get()
    got = features(
        desk.get(tile_url("open_tickets", *tile_of(ticket.location, 16))), "open_tickets"
    )
    assert got[ticket.pk]["number"] == ticket.number
    assert got[ticket.pk]["timeliness"] == "on_time"


def test_the_360_view_shows_the_meters_last_three_readings(desk):
    from tests.metering.factories import history, reader, year_periods

    year_periods(2025)
    account = ServiceAccountFactory(billing_cycle="1")
    m = meter(account=account)
    history(reader("lector-360"), m, [100, 110, 125, 131, 140])
    (row,) = desk.get(f"/api/orders/customers/{account.customer_id}/overview/").json()["accounts"]
    assert [r["value"] for r in row["last_readings"]] == ["140.000", "131.000", "125.000"]


def test_an_unknown_ticket_action_says_which_actions_exist(desk):
    account = ServiceAccountFactory()
    opened = desk.post(
        "/api/orders/tickets/",
        {"kind": "complaint", "description": "x", "account": account.number},
        content_type="application/json",
    ).json()
    answer = desk.post(
        f"/api/orders/tickets/{opened['id']}/teleport/",
        {},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert answer.status_code == 404 and answer.json()["code"] == "action_unknown"
    assert "resolve" in answer.json()["detail"] and "teleport" in answer.json()["detail"]
