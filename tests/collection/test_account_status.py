"""The account's status follows the field work: a suspension order carried out suspends the
account, the reconnection order carried out makes it active again; orders cancelled or failed
change nothing, and nothing flips twice."""

import datetime as dt

import pghistory.models
import pytest

from billing.collection import services
from billing.collection.models import ActionStatus, CollectionAction
from cadastre.models import ServiceAccount
from orders.services import (
    WorkOrderError,
    work_order_assign,
    work_order_attachment_add,
    work_order_field_step,
)
from tests.billing.factories import add_account, town
from tests.collection.helpers import bill, pay
from tests.orders.factories import crew, jpeg, member, new_id

pytestmark = pytest.mark.django_db

DUES = [dt.date(2026, 1, 15), dt.date(2026, 2, 15), dt.date(2026, 3, 15)]
NIGHTS = [dt.date(2026, 1, 16), dt.date(2026, 2, 16), dt.date(2026, 3, 16)]


@pytest.fixture
def suspension():
    """An account three periods behind whose ladder reached the suspension order."""
    account = add_account(town(), m3=10)
    for due in DUES:
        bill(account, due, ("water", "100.00"))
    for night in NIGHTS:
        services.collection_evaluate(day=night, account_ids=[account.pk])
    action = CollectionAction.objects.get(account=account, kind="suspension")
    assert action.status == ActionStatus.ISSUED and action.work_order.source == "collection"
    return action


@pytest.fixture
def cutter():
    team = crew("CORTES", skills=("cuts",))
    return team, member(team)


def on_site(order, team, user):
    order = work_order_assign(order=order, crew=team, user=order.created_by)
    work_order_field_step(order=order, action="en_route", user=user)
    work_order_field_step(order=order, action="check_in", user=user)
    return order


def carry_out(order, team, user, *, result="done"):
    """The crew's real steps: on its way, on site, a photo, finished with a result."""
    on_site(order, team, user)
    work_order_attachment_add(
        order=order, kind="photo", client_id=new_id(), image=jpeg(), user=user
    )
    work_order_field_step(
        order=order, action="finish", result=result, data={"meter_reading": "120"}, user=user
    )
    order.refresh_from_db()
    return order


def status(account_id) -> str:
    return ServiceAccount.objects.get(pk=account_id).status


def status_changes(account_id) -> list:
    account = ServiceAccount.objects.get(pk=account_id)
    return [
        event.pgh_diff["status"]
        for event in pghistory.models.Events.objects.tracks(account).filter(pgh_label="update")
        if "status" in (event.pgh_diff or {})
    ]


def test_a_suspension_carried_out_suspends_the_account_with_its_history(suspension, cutter):
    order = carry_out(suspension.work_order, *cutter)
    assert order.status == "done"
    assert status(suspension.account_id) == "suspended"
    assert status_changes(suspension.account_id) == [["active", "suspended"]]
    # The suspension stands until the account pays and is reconnected.
    suspension.refresh_from_db()
    assert suspension.status == ActionStatus.ISSUED


def test_the_reconnection_carried_out_makes_the_account_active_again(suspension, cutter):
    carry_out(suspension.work_order, *cutter)
    pay(suspension.account, "300.00")
    (reconnection,) = services.collection_on_payment(
        account=suspension.account_id, day=dt.date(2026, 3, 20)
    )
    assert reconnection.work_order.source_ref.startswith("reconnect:")
    assert status(suspension.account_id) == "suspended"  # until the crew reconnects it

    carry_out(reconnection.work_order, *cutter)
    assert status(suspension.account_id) == "active"
    reconnection.refresh_from_db()
    assert reconnection.status == ActionStatus.DONE
    assert status_changes(suspension.account_id) == [
        ["active", "suspended"],
        ["suspended", "active"],
    ]


def test_an_order_cancelled_or_failed_changes_nothing(suspension, cutter):
    team, user = cutter
    failed = carry_out(suspension.work_order, team, user, result="no_access")
    assert failed.status == "failed"
    assert status(suspension.account_id) == "active"

    # The next night's ladder has nothing more; cancelling the action cancels no account.
    services.collection_action_cancel(action=suspension, user=user, reason="Pagará mañana")
    assert status(suspension.account_id) == "active"
    assert status_changes(suspension.account_id) == []


def test_completing_twice_does_not_flip_twice(suspension, cutter):
    team, user = cutter
    order = carry_out(suspension.work_order, team, user)
    with pytest.raises(WorkOrderError) as refused:
        work_order_field_step(
            order=order, action="finish", result="done", data={"meter_reading": "1"}, user=user
        )
    assert refused.value.code == "transition_not_allowed"
    # A report arriving again (a replay) finds the account already suspended.
    assert services.collection_order_done(order=order, user=user) is None
    assert status_changes(suspension.account_id) == [["active", "suspended"]]
