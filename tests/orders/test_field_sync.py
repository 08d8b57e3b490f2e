"""orders.field_sync: offline completion batches land once, in device-time order, conflicts kept."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.field_sync import orders_field_sync
from orders.models import WorkOrderStatus, WorkOrderStep
from orders.services import work_order_attachment_add
from tests.orders.factories import assigned, crew, jpeg, member, new_id

pytestmark = pytest.mark.django_db


def steps_for(o, *, start=None, result="done"):
    # Seconds apart, just after the order was created (steps may not predate it, nor lie
    # more than a few minutes in the future).
    start = start or o.created_at + dt.timedelta(seconds=1)
    return [
        {"client_id": new_id(), "order_id": o.pk, "action": "en_route", "at": start.isoformat()},
        {
            "client_id": new_id(),
            "order_id": o.pk,
            "action": "check_in",
            "at": (start + dt.timedelta(seconds=10)).isoformat(),
            "position": {"lon": -100.8, "lat": 20.5},
        },
        {
            "client_id": new_id(),
            "order_id": o.pk,
            "action": "finish",
            "at": (start + dt.timedelta(seconds=25)).isoformat(),
            "result": result,
            "note": "Revisado",
        },
    ]


@pytest.fixture
def job():
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    work_order_attachment_add(order=o, kind="photo", client_id=new_id(), image=jpeg(), user=worker)
    return o, worker, c


def test_a_batch_sent_twice_lands_once(job):
    o, worker, _c = job
    batch = {"device_id": "tel-1", "steps": steps_for(o)}
    first = orders_field_sync(user=worker, batch=batch)
    again = orders_field_sync(user=worker, batch=batch)
    assert [r.status for r in first] == ["accepted"] * 3
    assert [r.status for r in again] == ["duplicate"] * 3
    o.refresh_from_db()
    assert o.status == WorkOrderStatus.DONE and o.visits == 1
    assert WorkOrderStep.objects.filter(order=o).count() == 4  # assignment + 3 field steps


def test_a_batch_out_of_order_lands_in_device_time_order(job):
    o, worker, _c = job
    steps = steps_for(o)
    results = orders_field_sync(user=worker, batch={"device_id": "t", "steps": steps[::-1]})
    assert [r.status for r in results] == ["accepted"] * 3
    o.refresh_from_db()
    assert o.status == WorkOrderStatus.DONE
    position = WorkOrderStep.objects.get(order=o, to_status="in_progress").position
    assert position is not None and position.srid == o.location.srid


def test_a_second_device_closing_a_closed_order_is_kept_as_a_conflict(job):
    o, worker, c = job
    partner = member(c, "op-c1-b")
    orders_field_sync(user=worker, batch={"device_id": "a", "steps": steps_for(o)})
    late = {
        "client_id": new_id(),
        "order_id": o.pk,
        "action": "finish",
        "at": timezone.now().isoformat(),
        "result": "no_access",
    }
    (result,) = orders_field_sync(user=partner, batch={"device_id": "b", "steps": [late]})
    assert result.status == "conflict"
    o.refresh_from_db()
    assert o.status == WorkOrderStatus.DONE and o.conflict  # the first close stands
    kept = WorkOrderStep.objects.get(client_id=late["client_id"])
    assert kept.conflict and kept.device_id == "b"
    (replayed,) = orders_field_sync(user=partner, batch={"device_id": "b", "steps": [late]})
    assert replayed.status == "duplicate"


def test_bad_steps_are_rejected_alone(job):
    o, worker, _c = job
    good = steps_for(o)[0]
    results = orders_field_sync(
        user=worker,
        batch={
            "steps": [
                good,
                {
                    "client_id": "not-a-uuid",
                    "order_id": o.pk,
                    "action": "en_route",
                    "at": good["at"],
                },
                {"client_id": new_id(), "order_id": o.pk, "action": "en_route", "at": "ayer"},
                {"client_id": new_id(), "order_id": 999999, "action": "en_route", "at": good["at"]},
                {"client_id": new_id(), "order_id": o.pk, "action": "fly", "at": good["at"]},
                {
                    "client_id": new_id(),
                    "order_id": o.pk,
                    "action": "check_in",
                    "at": good["at"],
                    "position": {"lon": 500, "lat": 0},
                },
            ]
        },
    )
    assert [(r.status, r.code) for r in results] == [
        ("accepted", ""),
        ("rejected", "client_id_invalid"),
        ("rejected", "at_invalid"),
        ("rejected", "order_unknown"),
        ("rejected", "action_invalid"),
        ("rejected", "position_invalid"),
    ]
    o.refresh_from_db()
    assert o.status == WorkOrderStatus.EN_ROUTE


def test_a_step_the_state_does_not_allow_is_rejected_and_not_stored(job):
    o, worker, _c = job
    finish = steps_for(o)[2]
    (result,) = orders_field_sync(user=worker, batch={"steps": [finish]})
    assert (result.status, result.code) == ("rejected", "transition_not_allowed")
    assert not WorkOrderStep.objects.filter(client_id=finish["client_id"]).exists()
