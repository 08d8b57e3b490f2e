"""Outage events: one transaction from a trace to flagged accounts, notices and an order."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from network.models import NetworkError, Outage, OutageAccount, OutageNotice, OutageStatus
from network.services import outage_close, outage_create
from orders.models import WorkOrder
from tests.factories import UserFactory
from tests.network.factories import connected_account, pipe, pt, valve

pytestmark = pytest.mark.django_db


@pytest.fixture
def line():
    p1 = pipe("P1", (0, 0), (100, 0))
    p2 = pipe("P2", (100, 0), (200, 0))
    valve("V50", 50, 0)
    valve("V150", 150, 0)
    inside = [connected_account(p1, 80, 0), connected_account(p2, 120, 0)]
    outside = [connected_account(p1, 20, 0), connected_account(p2, 180, 0)]
    return p2, inside, outside


def test_outage_reaches_exactly_the_traced_accounts(line):
    p2, inside, outside = line
    user = UserFactory()
    outage = outage_create(point=pt(130, 0), user=user)
    flagged = set(OutageAccount.objects.filter(outage=outage).values_list("account_id", flat=True))
    assert flagged == {a.pk for a in inside}
    assert not flagged & {a.pk for a in outside}
    assert flagged == set(outage.trace.accounts)
    notices = OutageNotice.objects.filter(outage=outage)
    assert {n.account_id for n in notices} == flagged
    assert {n.status for n in notices} == {"pending"}
    assert all(n.message for n in notices)
    assert outage.pipe_id == p2.pk
    assert len(outage.valves) == 2
    assert outage.status == OutageStatus.ACTIVE


def test_outage_creates_one_leak_repair_order_for_the_pipe(line):
    p2, _inside, _outside = line
    outage = outage_create(point=pt(130, 0), user=UserFactory())
    order = WorkOrder.objects.get(pk=outage.work_order_id)
    assert order.kind.code == "leak_repair"
    assert order.asset_ref == f"pipe:{p2.pk}"
    assert order.source_ref == f"outage:{outage.pk}"
    assert order.location.distance(pt(130, 0)) < 0.01


def test_repair_order_names_the_pipe_and_valves_by_their_codes(line):
    with translation.override("en"):
        outage = outage_create(point=pt(130, 0), user=UserFactory())
    reason = WorkOrder.objects.get(pk=outage.work_order_id).reason
    assert "pipe P2:" in reason
    assert "close valves V150, V50." in reason


def test_outage_notices_are_written_in_the_utility_language_whoever_traces(line):
    with translation.override("en"):
        outage = outage_create(point=pt(130, 0), user=UserFactory())
    message = OutageNotice.objects.filter(outage=outage).first().message
    assert message.startswith("El servicio de agua")


def test_outage_refused_far_from_the_network_writes_nothing(line):
    with pytest.raises(NetworkError):
        outage_create(point=pt(130, 900), user=UserFactory())
    assert not Outage.objects.exists()
    assert not OutageNotice.objects.exists()


def test_outage_with_a_past_expected_end_is_refused(line):
    with pytest.raises(NetworkError) as error:
        outage_create(
            point=pt(130, 0), expected_end=timezone.now() - timedelta(hours=1), user=UserFactory()
        )
    assert error.value.code == "end_before_start"
    assert not Outage.objects.exists()


def test_closing_an_outage_twice_is_refused(line):
    outage = outage_create(point=pt(130, 0), user=UserFactory())
    closed = outage_close(outage=outage)
    assert closed.status == OutageStatus.CLOSED and closed.ended_at
    with pytest.raises(NetworkError):
        outage_close(outage=outage)
