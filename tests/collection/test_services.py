"""The nightly evaluation: the policy's steps per day, idempotence, agreements pausing,
reconnection once, and the self-reconnection check."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.utils import timezone

from billing import services as billing_services
from billing.collection import services
from billing.collection.models import (
    ActionStatus,
    CollectionAction,
    CollectionPolicy,
    LargeConsumer,
)
from orders.models import WorkOrder
from tests.billing.factories import add_account, town
from tests.collection.helpers import bill, carry_out, pay, reading
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DUES = [dt.date(2026, 1, 15), dt.date(2026, 2, 15), dt.date(2026, 3, 15), dt.date(2026, 4, 15)]


def d(month, day):
    return dt.date(2026, month, day)


@pytest.fixture
def place():
    return town()


@pytest.fixture
def account(place):
    acc = add_account(place, m3=10)
    for due in DUES:
        bill(acc, due, ("water", "100.00"), ("vat", "16.00"))
    return acc


def actions(account):
    return list(
        CollectionAction.objects.filter(account=account)
        .order_by("pk")
        .values_list("kind", "status", "day")
    )


def evaluate(day, account):
    return services.collection_evaluate(day=day, account_ids=[account.pk])


def new_kinds(before, after):
    return [kind for kind, _status, _day in after[len(before) :]]


# (day, kinds created that night): one step a night, when the account meets it.
LADDER = [
    (d(1, 10), []),  # nothing due yet
    (d(1, 15), []),  # due today: not overdue
    (d(1, 16), ["reminder"]),  # 1 period, 1 day
    (d(1, 17), []),  # never the same step twice
    (d(2, 16), ["formal_notice"]),  # 2 periods; deadline Feb 26
    (d(3, 10), []),  # 2 periods still
    (d(3, 16), ["suspension"]),  # 3 periods, the notice's deadline passed
    (d(3, 17), []),
    (d(4, 16), []),  # no step 4 in the default policy
]


def test_a_crafted_ledger_yields_exactly_the_expected_actions_per_day(account):
    for day, expected in LADDER:
        before = actions(account)
        evaluate(day, account)
        assert new_kinds(before, actions(account)) == expected, day
    got = actions(account)
    assert [(k, s) for k, s, _ in got] == [
        ("reminder", "superseded"),
        ("formal_notice", "superseded"),
        ("suspension", "issued"),
    ]
    suspension = CollectionAction.objects.get(account=account, kind="suspension")
    order = suspension.work_order
    assert order.kind.code == "suspension" and order.source == "collection"
    assert order.source_ref == f"action:{suspension.pk}"
    assert order.account_id == account.pk
    assert suspension.amount_owed == D("348.00") and suspension.periods_overdue == 3


def test_a_notice_deadline_holds_the_next_step(account):
    # Found with 3 periods at once: one step a night, and the suspension waits for the
    # notice's 10 days.
    plan = [
        (d(3, 16), ["reminder"]),
        (d(3, 17), ["formal_notice"]),
        (d(3, 27), []),
        (d(3, 28), ["suspension"]),
    ]
    for day, expected in plan:
        before = actions(account)
        evaluate(day, account)
        assert new_kinds(before, actions(account)) == expected, day
    notice = CollectionAction.objects.get(account=account, kind="formal_notice")
    assert notice.deadline == d(3, 27)


def test_evaluating_the_same_day_twice_creates_nothing(account):
    first = evaluate(d(1, 16), account)
    second = evaluate(d(1, 16), account)
    assert first.actions == {"reminder": 1}
    assert second.actions == {} and second.episodes_opened == 0
    assert len(actions(account)) == 1


def test_paying_up_ends_the_episode_and_a_new_debt_starts_the_ladder_over(account, place):
    evaluate(d(1, 16), account)
    pay(account, "116.00")
    result = evaluate(d(1, 20), account)
    assert result.episodes_closed == 1
    assert actions(account) == [("reminder", "done", d(1, 16))]
    evaluate(d(2, 16), account)
    assert new_kinds([1], actions(account)) == ["reminder"]


def test_a_minimum_debt_holds_a_step(account):
    CollectionPolicy.objects.filter(segment="normal", step=1).update(min_debt=D("200.00"))
    evaluate(d(1, 16), account)
    assert actions(account) == []
    evaluate(d(2, 16), account)
    assert new_kinds([], actions(account)) == ["reminder"]


def test_a_use_type_ladder_replaces_the_generic_one(account):
    CollectionPolicy.objects.create(
        segment="normal", collection_type="normal", use_type="domestic", step=1,
        action="suspension", min_periods=1, min_days=30,
    )  # fmt: skip
    evaluate(d(1, 16), account)
    assert actions(account) == []
    evaluate(d(2, 14), account)
    assert new_kinds([], actions(account)) == ["suspension"]


def test_a_large_consumer_gets_a_notice_to_its_executive_and_no_suspension(account):
    executive = UserFactory(username="ejecutivo")
    LargeConsumer.objects.create(account=account, executive=executive, since=d(1, 1))
    for day in (d(1, 16), d(2, 16), d(3, 16), d(4, 16)):
        evaluate(day, account)
    got = CollectionAction.objects.filter(account=account)
    assert [(a.kind, a.assigned_to_id) for a in got] == [("formal_notice", executive.pk)]


def test_a_collector_of_the_sector_is_assigned(account):
    collector = UserFactory(username="gestor")
    services.collector_assign(collector=collector, account=account)
    evaluate(d(1, 16), account)
    assert CollectionAction.objects.get(account=account).assigned_to == collector


def test_large_consumers_are_marked_by_debt(place, account):
    add_account(place, m3=10)
    assert services.large_consumers_mark(top=1, by="debt", day=d(5, 1)) == 1
    assert services.large_consumers_mark(top=1, by="debt", day=d(5, 1)) == 0
    assert list(LargeConsumer.objects.values_list("account_id", "basis")) == [(account.pk, "debt")]


# --- agreements ---------------------------------------------------------------------------------


def sign(account):
    from billing.agreements.services import agreement_sign

    return agreement_sign(
        account=account,
        down_payment=D("0.00"),
        installments=3,
        first_due_date=timezone.localdate() + dt.timedelta(days=30),
        user=UserFactory(username="atencion"),
    )


def test_a_current_agreement_pauses_actions_and_a_breach_resumes_them(account):
    from billing.agreements.services import agreement_cancel

    evaluate(d(1, 16), account)  # reminder
    agreement = sign(account)
    evaluate(d(2, 16), account)
    evaluate(d(3, 16), account)
    assert [k for k, _s, _d in actions(account)] == ["reminder"]  # paused
    agreement_cancel(agreement=agreement, user=UserFactory(username="sup"), reason="Incumplido")
    evaluate(d(4, 16), account)
    # The debt is back and the same episode resumes at its next step.
    assert [k for k, _s, _d in actions(account)] == ["reminder", "formal_notice"]


# --- reconnection -------------------------------------------------------------------------------


def suspended(account):
    for day in (d(1, 16), d(2, 16), d(3, 16)):
        evaluate(day, account)
    cut = CollectionAction.objects.get(account=account, kind="suspension")
    carry_out(cut.work_order)
    return cut


def reconnection_orders(account):
    return WorkOrder.objects.filter(account=account, kind__code="reconnection")


def test_paying_a_suspended_account_creates_one_reconnection_order_even_if_told_twice(account):
    cut = suspended(account)
    pay(account, "464.00")
    first = services.collection_on_payment(account=account, day=d(4, 20))
    second = services.collection_on_payment(account=account, day=d(4, 20))
    assert len(first) == 1 and second == []
    orders = list(reconnection_orders(account))
    assert len(orders) == 1
    assert orders[0].source_ref == f"reconnect:{account.pk}:{cut.pk}"
    cut.refresh_from_db()
    assert cut.status == ActionStatus.DONE
    # The nightly safety net adds nothing either.
    evaluate(d(4, 21), account)
    assert reconnection_orders(account).count() == 1


def test_a_partial_payment_does_not_reconnect(account):
    suspended(account)
    pay(account, "200.00")
    assert services.collection_on_payment(account=account, day=d(4, 20)) == []
    assert not reconnection_orders(account).exists()


def test_paying_before_the_crew_goes_cancels_the_suspension_order(account):
    for day in (d(1, 16), d(2, 16), d(3, 16)):
        evaluate(day, account)
    pay(account, "464.00")
    assert services.collection_on_payment(account=account, day=d(3, 17)) == []
    cut = CollectionAction.objects.get(account=account, kind="suspension")
    assert cut.status == ActionStatus.CANCELLED
    assert cut.work_order.status == "cancelled"
    assert not reconnection_orders(account).exists()


def test_the_nightly_evaluation_reconnects_when_the_payment_event_was_lost(account):
    suspended(account)
    pay(account, "464.00")
    result = evaluate(d(4, 20), account)
    assert result.reconnections == 1 and reconnection_orders(account).count() == 1


def test_an_agreement_reconnects_a_suspended_account(account):
    suspended(account)
    sign(account)
    assert len(services.collection_on_payment(account=account, day=d(4, 20))) == 1


def test_a_refused_suspension_order_says_why_on_the_action_and_is_retried(account):
    from orders.models import WorkOrderType

    for day in (d(1, 16), d(2, 16)):
        evaluate(day, account)
    WorkOrderType.objects.filter(code="suspension").update(active=False)
    assert evaluate(d(3, 16), account).order_errors == 1
    cut = CollectionAction.objects.get(account=account, kind="suspension")
    assert (cut.status, cut.work_order) == (ActionStatus.PLANNED, None)
    assert "suspension" in cut.note
    WorkOrderType.objects.filter(code="suspension").update(active=True)
    assert evaluate(d(3, 17), account).orders == 1
    cut.refresh_from_db()
    assert (cut.status, cut.note) == (ActionStatus.ISSUED, "")


def test_a_refused_reconnection_order_leaves_the_cut_open_and_the_night_goes_on(account):
    from orders.models import WorkOrderType

    cut = suspended(account)
    pay(account, "464.00")
    WorkOrderType.objects.filter(code="reconnection").update(active=False)
    result = evaluate(d(4, 20), account)
    assert result.reconnections == 0 and not reconnection_orders(account).exists()
    assert not CollectionAction.objects.filter(account=account, kind="reconnection").exists()
    cut.refresh_from_db()
    assert cut.status == ActionStatus.ISSUED
    # Once orders accepts it again, the next night reconnects.
    WorkOrderType.objects.filter(code="reconnection").update(active=True)
    assert evaluate(d(4, 21), account).reconnections == 1


# --- self-reconnection --------------------------------------------------------------------------


def test_a_suspended_account_with_later_consumption_gets_one_inspection(account):
    cut = suspended(account)
    done_at = cut.work_order.finished_at
    reading(account, consumption="0", at=done_at + dt.timedelta(days=5))
    assert services.collection_self_reconnection_check(day=timezone.localdate()) == []
    reading(account, consumption="7", at=done_at + dt.timedelta(days=10), value="107")
    later = timezone.localdate(done_at + dt.timedelta(days=12))
    first = services.collection_self_reconnection_check(day=later)
    second = services.collection_self_reconnection_check(day=later)
    assert len(first) == 1 and second == []
    order = first[0].work_order
    assert order.kind.code == "inspection" and order.source_ref.startswith("selfreconnect:")
    assert WorkOrder.objects.filter(account=account, kind__code="inspection").count() == 1


def test_a_refused_inspection_order_is_left_for_the_next_night(account):
    from orders.models import WorkOrderType

    cut = suspended(account)
    done_at = cut.work_order.finished_at
    reading(account, consumption="7", at=done_at + dt.timedelta(days=10), value="107")
    later = timezone.localdate(done_at + dt.timedelta(days=12))
    WorkOrderType.objects.filter(code="inspection").update(active=False)
    assert services.collection_self_reconnection_check(day=later) == []
    assert not CollectionAction.objects.filter(account=account, kind="inspection").exists()
    WorkOrderType.objects.filter(code="inspection").update(active=True)
    assert len(services.collection_self_reconnection_check(day=later)) == 1


def test_consumption_before_the_cut_is_not_a_self_reconnection(account):
    cut = suspended(account)
    reading(account, consumption="9", at=cut.work_order.finished_at - dt.timedelta(days=1))
    assert services.collection_self_reconnection_check(day=timezone.localdate()) == []


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_payment_events_at_once_create_one_reconnection_order(place):
    acc = add_account(place, m3=10)
    for due in DUES:
        bill(acc, due, ("water", "100.00"), ("vat", "16.00"))
    suspended(acc)
    pay(acc, "464.00")
    barrier = threading.Barrier(2)
    made, errors = [], []

    def event():
        try:
            barrier.wait()
            made.append(len(services.collection_on_payment(account=acc.pk, day=d(4, 20))))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=event) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(made) == [0, 1]
    assert reconnection_orders(acc).count() == 1


def test_a_ledger_entry_reversal_reopens_and_evaluation_acts(account):
    evaluate(d(1, 16), account)
    payment = pay(account, "116.00")
    evaluate(d(1, 20), account)
    billing_services.ledger_reverse(entry=payment)
    evaluate(d(1, 21), account)
    assert [k for k, _s, _d in actions(account)] == ["reminder", "reminder"]


def test_a_payment_queues_collections_only_for_an_account_with_a_standing_cut(
    account, place, django_capture_on_commit_callbacks
):
    """An active account whose suspension order is issued but not carried out gets its order
    cancelled after the payment commits (not at night, when a crew may already have cut a
    paid account); an account with no cut queues nothing."""
    for day in (d(1, 16), d(2, 16), d(3, 16)):
        evaluate(day, account)
    cut = CollectionAction.objects.get(account=account, kind="suspension")
    assert cut.status == ActionStatus.ISSUED and account.status == "active"
    other = add_account(place, m3=10)
    with django_capture_on_commit_callbacks() as queued:
        assert services.collection_on_payment_later(account=account) is True
        assert services.collection_on_payment_later(account=other) is False
    assert len(queued) == 1
