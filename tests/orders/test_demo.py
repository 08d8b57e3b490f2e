"""The demo city's work orders: crews, three months of orders in every state, today's work of
the demo crew member, and performance figures that make sense."""

import pytest
from django.conf import settings

from core import roles
from core.demo import DemoContext
from core.services import demo_city_build
from orders.models import CrewMember, WorkOrder
from orders.selectors import work_order_performance
from tests.conftest import rolled_back_transaction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    ctx = DemoContext(
        accounts=3000,
        seed=9,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    with rolled_back_transaction(django_db_blocker):
        UserFactory(username=roles.FIELD_CREW, roles=[roles.FIELD_CREW])
        demo_city_build(ctx=ctx, only=("orders.work_orders",), log=lambda _m: None)
        yield


def test_orders_come_in_every_state_and_the_old_ones_are_mostly_closed(city):
    statuses = set(WorkOrder.objects.values_list("status", flat=True))
    assert statuses >= {"created", "assigned", "done", "failed", "cancelled"}
    assert WorkOrder.objects.count() >= 60
    rows = work_order_performance(by="kind")
    done = sum(r["done"] for r in rows)
    assert done > 0.5 * WorkOrder.objects.count()
    for row in rows:
        if row["done"]:
            assert 0 < row["hours_to_close"] < 24 * 90
            assert 0 <= row["sla_met_pct"] <= 100


def test_every_order_went_to_a_crew_that_has_its_skill(city):
    for order in WorkOrder.objects.exclude(crew=None).select_related("crew", "kind"):
        assert order.kind.skill in order.crew.skills


def test_the_demo_crew_member_has_work_today(city):
    membership = CrewMember.objects.get(user__username=roles.FIELD_CREW)
    assert WorkOrder.objects.filter(crew=membership.crew, status="assigned").count() >= 6
