"""The office and field endpoints of work orders: who may do what, and what they answer."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from core import roles
from orders.models import WorkOrder, WorkOrderStatus
from tests.factories import UserFactory
from tests.orders.factories import assigned, crew, dispatcher, jpeg, member, new_id, order

pytestmark = pytest.mark.django_db


def test_customer_service_creates_an_order_at_a_point_and_assigns_the_nearest_crew(client):
    c = crew("C7", skills=("plumbing",))
    client.force_login(dispatcher())
    created = client.post(
        "/api/orders/new/",
        {"kind": "leak_repair", "reason": "Fuga en banqueta", "lon": -100.81, "lat": 20.52},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["priority"], body["status"]) == ("leak_repair", "urgent", "created")
    assert body["lonlat"] == [-100.81, 20.52]
    assigned_ = client.post(
        f"/api/orders/{body['id']}/assign/", {"auto": True}, content_type="application/json"
    )
    assert assigned_.status_code == 200, assigned_.content
    assert (assigned_.json()["crew"], assigned_.json()["status"]) == ("C7", "assigned")
    assert c.orders.count() == 1


def test_an_unknown_kind_or_a_missing_place_is_refused_in_spanish(client):
    client.force_login(dispatcher())
    refused = client.post(
        "/api/orders/new/",
        {"kind": "teleport", "reason": "x", "lon": -100.8, "lat": 20.5},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert refused.status_code == 400 and refused.json()["field"] == "kind"
    nowhere = client.post(
        "/api/orders/new/", {"kind": "inspection", "reason": "x"}, content_type="application/json"
    )
    assert nowhere.status_code == 400 and nowhere.json()["code"] == "location_required"


@pytest.mark.parametrize(
    ("role", "create", "assign"),
    [
        (roles.CUSTOMER_SERVICE, 201, 200),
        (roles.PLANNER, 403, 200),
        (roles.FIELD_CREW, 201, 403),
        (roles.METER_READER, 403, 403),
    ],
)
def test_who_may_create_and_assign(client, role, create, assign):
    c = crew()
    o = order()
    client.force_login(UserFactory(username=f"u-{role}", roles=[role]))
    body = {"kind": "inspection", "reason": "x", "lon": -100.8, "lat": 20.5}
    assert (
        client.post("/api/orders/new/", body, content_type="application/json").status_code == create
    )
    answer = client.post(
        f"/api/orders/{o.pk}/assign/", {"crew": c.code}, content_type="application/json"
    )
    assert answer.status_code == assign


def test_the_catalogue_and_crews_are_listed(client):
    c = crew()
    member(c)
    assigned(c=c)
    client.force_login(dispatcher())
    types = {t["code"]: t for t in client.get("/api/orders/types/").json()}
    assert types["meter_install"]["required_fields"] == [
        "meter_serial",
        "meter_reading",
        "materials",
    ]
    assert "MED-13" in types["meter_install"]["materials"]
    crews = client.get("/api/orders/crews/").json()
    assert crews == [
        {
            "code": "C1",
            "name": "Cuadrilla C1",
            "skills": ["inspection", "meters", "plumbing"],
            "daily_capacity": 8,
            "open_orders": 1,
            "members": ["op-c1"],
        }
    ]


def test_a_crew_member_sees_only_their_crews_orders_and_closes_one_with_a_photo(client):
    c1, c2 = crew("C1"), crew("C2")
    worker = member(c1)
    mine = assigned(c=c1)
    assigned(c=c2)
    client.force_login(worker)
    listing = client.get("/field/api/orders/").json()
    assert listing["crew"] == "C1"
    assert [o["id"] for o in listing["orders"]] == [mine.pk]
    assert listing["orders"][0]["photos_required"] == 1
    assert {"code": "done", "label": "Work done", "success": True} in listing["results"]

    photo_id = new_id()
    upload = {"client_id": photo_id, "order_id": mine.pk, "kind": "photo", "file": jpeg()}
    assert client.post("/field/api/orders/attachment/", upload).status_code == 201
    start = mine.created_at + dt.timedelta(seconds=1)
    steps = [
        {
            "client_id": new_id(),
            "order_id": mine.pk,
            "action": action,
            "at": (start + dt.timedelta(seconds=n)).isoformat(),
        }
        for n, action in enumerate(("en_route", "check_in"))
    ]
    steps.append(
        {
            "client_id": new_id(),
            "order_id": mine.pk,
            "action": "finish",
            "at": (start + dt.timedelta(seconds=5)).isoformat(),
            "result": "done",
            "note": "Toma revisada",
        }
    )
    body = json.dumps({"device_id": "tel", "steps": steps})
    first = client.post("/field/api/orders/sync/", body, content_type="application/json").json()
    again = client.post("/field/api/orders/sync/", body, content_type="application/json").json()
    assert (first["accepted"], again["duplicate"]) == (3, 3)
    mine.refresh_from_db()
    assert mine.status == WorkOrderStatus.DONE
    assert client.get("/field/api/orders/").json()["orders"] == []


def test_meter_readers_have_no_orders_in_the_field_app(client):
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    assert client.get("/field/api/orders/").status_code == 403


def test_performance_by_crew_counts_sla_first_time_fix_and_efficacy(client):
    from orders.services import work_order_field_step

    c = crew()
    worker = member(c)
    done, failed, late_open = assigned(c=c), assigned(c=c), assigned(c=c)
    for o in (done, failed):
        work_order_field_step(order=o, action="en_route", user=worker)
        work_order_field_step(order=o, action="check_in", user=worker)
    from orders.services import work_order_attachment_add

    work_order_attachment_add(
        order=done, kind="photo", client_id=new_id(), image=jpeg(), user=worker
    )
    work_order_field_step(order=done, action="finish", user=worker, result="done", note="ok")
    work_order_field_step(order=failed, action="finish", user=worker, result="no_access")
    WorkOrder.objects.filter(pk=late_open.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    (row,) = client.get("/api/orders/performance/", {"by": "crew"}).json()
    assert row["key"] == "C1"
    assert (row["orders"], row["open"], row["done"], row["failed"]) == (3, 1, 1, 1)
    assert row["sla_met_pct"] == "66.7"  # the late open order misses its SLA
    assert row["first_time_fix_pct"] == "100.0"
    assert row["efficacy_pct"] == "50.0"
    assert row["done_per_crew_day"] == "1.00"
    assert client.get("/api/orders/performance/", {"by": "colour"}).status_code == 400


def test_order_photos_are_served_only_to_who_may_read_orders(client):
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    from orders.services import work_order_attachment_add

    work_order_attachment_add(order=o, kind="photo", client_id=new_id(), image=jpeg(), user=worker)
    client.force_login(dispatcher())
    (attachment,) = client.get(f"/api/orders/{o.pk}/").json()["attachments"]
    photo = client.get(attachment["url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert b"".join(photo.streaming_content)[:2] == b"\xff\xd8"  # a JPEG
    client.logout()
    assert client.get(attachment["url"]).status_code in (401, 403)


def test_a_photo_for_a_missing_order_is_answered_in_spanish(client):
    c = crew()
    client.force_login(member(c))
    answer = client.post(
        "/field/api/orders/attachment/",
        {"client_id": new_id(), "order_id": 999999, "kind": "photo", "file": jpeg()},
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert answer.status_code == 404
    assert answer.json() == {
        "code": "order_unknown",
        "field": "order_id",
        "detail": "La orden de trabajo 999999 no existe.",
    }
