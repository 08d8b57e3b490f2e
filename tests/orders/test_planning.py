"""orders.planning: a crew's day ordered on the streets by the route engine, due times kept,
what does not fit left for another day."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from core import roles
from orders.models import WorkOrder
from orders.planning import crew_day_plan
from orders.services import WorkOrderError, work_order_assign, work_order_create
from tests.factories import UserFactory
from tests.orders.factories import crew, dispatcher
from tests.routing.factories import SRID, street_grid, xy

pytestmark = pytest.mark.django_db


def order_at(c, x, y, kind="inspection"):
    user = dispatcher()
    o = work_order_create(kind=kind, reason="x", location=Point(*xy(x, y), srid=SRID), user=user)
    return work_order_assign(order=o, crew=c, user=user)


@pytest.fixture
def grid_crew():
    street_grid(5, 2, 200.0)  # crossings every 200 m along two parallel streets
    return crew("C1", skills=("inspection", "plumbing"), at=(0, 0))


def test_the_day_visits_orders_along_the_street_from_the_base(grid_crew):
    far = order_at(grid_crew, 800, 0)
    near = order_at(grid_crew, 200, 0)
    middle = order_at(grid_crew, 400, 0)
    plan = crew_day_plan(crew=grid_crew, day=timezone.localdate())
    assert [s["number"] for s in plan["stops"]] == [near.number, middle.number, far.number]
    arrivals = [s["arrival"] for s in plan["stops"]]
    assert arrivals == sorted(arrivals) and arrivals[0] >= plan["shift"][0]
    assert plan["left"] == []
    assert plan["service_minutes"] == 3 * 30  # inspections: 30 minutes on site each
    assert plan["km"] >= 1.6  # out to 800 m and back, at least


def test_an_order_due_early_in_the_shift_is_reached_before_its_due_time(grid_crew):
    day = timezone.localdate() + dt.timedelta(days=1)
    near = order_at(grid_crew, 200, 0)
    urgent = order_at(grid_crew, 800, 200)
    shift_start = timezone.make_aware(dt.datetime.combine(day, dt.time(8, 0)))
    WorkOrder.objects.filter(pk=urgent.pk).update(due_at=shift_start + dt.timedelta(minutes=20))
    plan = crew_day_plan(crew=grid_crew, day=day)
    first = plan["stops"][0]
    assert first["number"] == urgent.number
    assert first["arrival"] <= shift_start + dt.timedelta(minutes=20)
    assert near.number in [s["number"] for s in plan["stops"]]


def test_what_does_not_fit_the_shift_is_left_for_another_day(grid_crew):
    orders = [order_at(grid_crew, 200 * (i % 5), 0, kind="leak_repair") for i in range(6)]
    plan = crew_day_plan(crew=grid_crew, day=timezone.localdate())
    # Six two-hour repairs do not fit a nine-hour shift: some are left, none is lost.
    assert plan["left"]
    assert sorted([s["number"] for s in plan["stops"]] + plan["left"]) == sorted(
        o.number for o in orders
    )


def test_a_crew_without_orders_is_told_so():
    idle = crew("C9")
    with pytest.raises(WorkOrderError) as refused:
        crew_day_plan(crew=idle)
    assert refused.value.code == "crew_idle"


def test_the_dispatcher_reads_the_plan_through_the_api(client, grid_crew):
    order_at(grid_crew, 200, 0)
    client.force_login(UserFactory(username="planeacion", roles=[roles.PLANNER]))
    body = client.get(f"/api/orders/crews/{grid_crew.code}/day/").json()
    assert len(body["stops"]) == 1 and body["left"] == []
    assert (
        client.get(f"/api/orders/crews/{grid_crew.code}/day/", {"day": "mañana"}).status_code == 400
    )
