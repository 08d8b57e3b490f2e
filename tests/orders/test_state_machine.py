"""orders.services: the state machine, crews and assignment, completion requirements."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from orders.models import Crew, WorkOrder, WorkOrderStatus, WorkOrderStep
from orders.services import (
    ALLOWED_TRANSITIONS,
    WorkOrderError,
    work_order_assign,
    work_order_assign_nearest,
    work_order_attachment_add,
    work_order_cancel,
    work_order_field_step,
)
from tests.orders.factories import assigned, crew, dispatcher, jpeg, member, new_id, order

pytestmark = pytest.mark.django_db
S = WorkOrderStatus


def test_an_order_takes_its_types_priority_and_sla():
    leak = order("leak_repair")
    assert leak.priority == "urgent"
    # Leaks count calendar hours: due 8 h after creation.
    assert leak.due_at - leak.created_at == dt.timedelta(hours=8)
    inspection = order("inspection")
    assert inspection.due_at - inspection.created_at >= dt.timedelta(hours=72)


def test_the_whole_path_stamps_every_milestone_and_step():
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    work_order_field_step(order=o, action="en_route", user=worker)
    work_order_field_step(order=o, action="check_in", user=worker)
    work_order_attachment_add(order=o, kind="photo", client_id=new_id(), image=jpeg(), user=worker)
    work_order_field_step(
        order=o, action="finish", user=worker, result="done", note="Sin fuga visible"
    )
    o.refresh_from_db()
    assert o.status == S.DONE and o.visits == 1 and o.result.code == "done"
    assert o.assigned_at <= o.en_route_at <= o.started_at <= o.finished_at
    steps = list(WorkOrderStep.objects.filter(order=o).values_list("from_status", "to_status"))
    assert steps == [
        ("created", "assigned"),
        ("assigned", "en_route"),
        ("en_route", "in_progress"),
        ("in_progress", "done"),
    ]


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        (S.CREATED, S.EN_ROUTE),
        (S.CREATED, S.IN_PROGRESS),
        (S.ASSIGNED, S.IN_PROGRESS),
        (S.ASSIGNED, S.DONE),
        (S.EN_ROUTE, S.DONE),
        (S.DONE, S.CANCELLED),
        (S.FAILED, S.IN_PROGRESS),
        (S.CANCELLED, S.ASSIGNED),
    ],
)
def test_moves_outside_the_table_are_not_allowed(current, wanted):
    assert wanted not in ALLOWED_TRANSITIONS.get(current, frozenset())


def test_checking_in_before_being_en_route_is_refused_naming_both_states():
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    with translation.override("en"), pytest.raises(WorkOrderError) as refused:
        work_order_field_step(order=o, action="check_in", user=worker)
    assert refused.value.code == "transition_not_allowed"
    assert "Assigned" in refused.value.message and "In progress" in refused.value.message
    o.refresh_from_db()
    assert o.status == S.ASSIGNED and o.visits == 0


def test_a_finished_order_cannot_be_cancelled():
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    work_order_field_step(order=o, action="en_route", user=worker)
    work_order_field_step(order=o, action="check_in", user=worker)
    work_order_field_step(order=o, action="finish", user=worker, result="no_access")
    o.refresh_from_db()
    assert o.status == S.FAILED
    with pytest.raises(WorkOrderError) as refused:
        work_order_cancel(order=o, user=o.created_by)
    assert refused.value.code == "transition_not_allowed"


def test_only_the_assigned_crew_moves_an_order():
    c1, c2 = crew("C1"), crew("C2")
    outsider = member(c2)
    o = assigned(c=c1)
    with pytest.raises(WorkOrderError) as refused:
        work_order_field_step(order=o, action="en_route", user=outsider)
    assert refused.value.code == "not_your_order"


def test_a_crew_without_the_skill_is_refused():
    plumbers = crew("P1", skills=("plumbing",))
    with pytest.raises(WorkOrderError) as refused:
        work_order_assign(order=order("inspection"), crew=plumbers, user=plumbers_user())
    assert refused.value.code == "crew_lacks_skill"


def plumbers_user():
    return dispatcher()


def test_automatic_assignment_picks_the_nearest_crew_with_the_skill_and_room():
    near_no_skill = crew("A", skills=("sewer",), at=(0, 0))
    near_full = crew("B", skills=("inspection",), at=(5, 5), daily_capacity=1)
    far = crew("C", skills=("inspection",), at=(900, 900))
    assigned("inspection", c=near_full)  # B is now full
    o = order("inspection", at=(10, 10))
    chosen = work_order_assign_nearest(order=o, user=o.created_by)
    assert chosen.crew == far
    assert near_no_skill.orders.count() == 0
    Crew.objects.filter(pk=far.pk).update(active=False)
    with pytest.raises(WorkOrderError) as refused:
        work_order_assign_nearest(order=order("inspection"), user=o.created_by)
    assert refused.value.code == "no_crew_available"


def test_closing_as_done_requires_what_the_type_asks_for():
    c = crew()
    worker = member(c)
    o = assigned("meter_install", c=c)  # serial, reading, materials, 1 photo
    work_order_field_step(order=o, action="en_route", user=worker)
    work_order_field_step(order=o, action="check_in", user=worker)
    with translation.override("en"), pytest.raises(WorkOrderError) as refused:
        work_order_field_step(order=o, action="finish", user=worker, result="done")
    message = refused.value.message
    for missing in ("meter serial number", "meter reading", "materials used", "1 more photo"):
        assert missing in message
    work_order_attachment_add(order=o, kind="photo", client_id=new_id(), image=jpeg(), user=worker)
    work_order_field_step(
        order=o,
        action="finish",
        user=worker,
        result="done",
        data={"meter_serial": "CIC-123", "meter_reading": "0"},
        materials=[{"code": "MED-13", "quantity": 1}, {"code": "NIP-13", "quantity": "2"}],
    )
    o.refresh_from_db()
    assert o.status == S.DONE
    assert o.completion == {"meter_serial": "CIC-123", "meter_reading": "0"}
    assert sorted(o.materials.values_list("material__code", flat=True)) == ["MED-13", "NIP-13"]


def test_a_failed_visit_needs_no_completion_data_but_a_result():
    c = crew()
    worker = member(c)
    o = assigned("meter_install", c=c)
    work_order_field_step(order=o, action="en_route", user=worker)
    work_order_field_step(order=o, action="check_in", user=worker)
    with pytest.raises(WorkOrderError) as refused:
        work_order_field_step(order=o, action="finish", user=worker)
    assert refused.value.code == "result_required"
    work_order_field_step(order=o, action="finish", user=worker, result="refused")
    o.refresh_from_db()
    assert o.status == S.FAILED


def test_unknown_materials_and_bad_quantities_are_refused():
    c = crew()
    worker = member(c)
    o = assigned("leak_repair", c=c)
    work_order_field_step(order=o, action="en_route", user=worker)
    work_order_field_step(order=o, action="check_in", user=worker)
    for materials, code in (
        ([{"code": "NOPE", "quantity": 1}], "material_unknown"),
        ([{"code": "COD-13", "quantity": 0}], "material_quantity"),
        ([{"code": "COD-13", "quantity": "dos"}], "material_quantity"),
    ):
        with pytest.raises(WorkOrderError) as refused:
            work_order_field_step(
                order=o, action="finish", user=worker, result="done", materials=materials
            )
        assert refused.value.code == code
    o.refresh_from_db()
    assert o.status == S.IN_PROGRESS and not o.materials.exists()


def test_a_step_cannot_predate_the_order():
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    with pytest.raises(WorkOrderError) as refused:
        work_order_field_step(
            order=o, action="en_route", user=worker, at=o.created_at - dt.timedelta(hours=1)
        )
    assert refused.value.code == "step_before_creation"


def test_an_upload_sent_twice_is_stored_once():
    c = crew()
    worker = member(c)
    o = assigned(c=c)
    cid = new_id()
    first = work_order_attachment_add(
        order=o, kind="photo", client_id=cid, image=jpeg(), user=worker
    )
    again = work_order_attachment_add(
        order=o, kind="photo", client_id=cid, image=jpeg(), user=worker
    )
    assert first.pk == again.pk and o.attachments.count() == 1
    assert timezone.is_aware(first.uploaded_at)


def test_an_order_at_a_point_in_an_unknown_coordinate_system_is_refused():
    from django.contrib.gis.geos import Point

    from orders.services import work_order_create

    with pytest.raises(WorkOrderError) as refused:
        work_order_create(
            kind="inspection", reason="x", location=Point(1, 1, srid=999999), user=dispatcher()
        )
    assert (refused.value.code, refused.value.field) == ("srid_invalid", "location")
    assert not WorkOrder.objects.exists()
