"""The review queue's decisions: accept, reject, ask for a re-read, open an inspection."""

from decimal import Decimal

import pytest

from metering.models import Reading, ReadingStatus
from metering.selectors import expected_values, review_queue
from metering.services import MeteringError, reading_inspection_open, reading_review
from orders.models import WorkOrder, WorkOrderKind
from tests.factories import UserFactory
from tests.metering.factories import history, item, local, meter, reader, sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(db):
    from core import roles

    return UserFactory(username="cajera", roles=[roles.BILLING_CLERK])


def reading_at(m, when):
    return Reading.objects.get(meter=m, captured_at=when)


def test_rejecting_a_misread_takes_it_out_of_the_chain(periods, lector, clerk):
    m = meter()
    history(lector, m, [100, 110])
    sync(lector, item(m, 11, local(2025, 3, 10)))  # a digit dropped: below previous
    sync(lector, item(m, 131, local(2025, 4, 10)))
    misread = reading_at(m, local(2025, 3, 10))
    april = reading_at(m, local(2025, 4, 10))
    assert misread.flags == ["below_previous"]
    assert april.consumption == Decimal("120.000")  # against the misread, for now

    reading_review(reading=misread, action="reject", user=clerk, note="dígito omitido")

    misread.refresh_from_db()
    april.refresh_from_db()
    assert (misread.status, misread.reviewed_by, misread.review_note) == (
        ReadingStatus.REJECTED,
        clerk,
        "dígito omitido",
    )
    assert april.consumption == Decimal("21.000")  # against February's 110 again


def test_accepting_leaves_the_queue(periods, lector, clerk):
    m = meter()
    history(lector, m, [100, 110, 120, 130])
    sync(lector, item(m, 200, local(2025, 5, 10)))
    spike = reading_at(m, local(2025, 5, 10))
    assert list(review_queue()) == [spike]
    reading_review(reading=spike, action="accept", user=clerk)
    assert list(review_queue()) == []
    spike.refresh_from_db()
    assert (spike.status, spike.flags) == (ReadingStatus.ACCEPTED, ["high_consumption"])


def test_a_reread_request_waits_for_a_new_reading_which_is_no_conflict(periods, lector, clerk):
    m = meter()
    history(lector, m, [100, 110])
    sync(lector, item(m, 90, local(2025, 3, 10)))
    doubtful = reading_at(m, local(2025, 3, 10))
    reading_review(reading=doubtful, action="reread", user=clerk)
    result = sync(lector, item(m, 121, local(2025, 3, 20)))
    assert result.results[0].flags == []
    assert reading_at(m, local(2025, 3, 20)).consumption == Decimal("11.000")


def test_accepting_a_reading_that_is_not_flagged_is_refused(periods, lector, clerk):
    m = meter()
    history(lector, m, [100, 110])
    plain = reading_at(m, local(2025, 2, 10))
    with pytest.raises(MeteringError) as err:
        reading_review(reading=plain, action="accept", user=clerk)
    assert err.value.code == "transition_not_allowed"


def test_an_inspection_is_opened_once_per_reading(periods, lector, clerk):
    m = meter()
    history(lector, m, [100, 110])
    sync(lector, item(m, 125, local(2025, 3, 10), observation="tampered", photo=True))
    tampered = reading_at(m, local(2025, 3, 10))

    first = reading_inspection_open(reading=tampered, user=clerk)
    second = reading_inspection_open(reading=tampered, user=clerk)

    order = WorkOrder.objects.get()
    assert first.work_order_id == second.work_order_id == order.pk
    assert (order.kind_id, order.account_id, order.source_ref) == (
        WorkOrderKind.INSPECTION,
        m.account_id,
        f"reading:{tampered.pk}",
    )
    assert m.serial in order.reason
    assert first.status == ReadingStatus.FLAGGED  # still waiting for a decision


def test_rejecting_one_of_two_conflicting_readings_keeps_the_other(periods, lector, clerk):
    m = meter()
    history(lector, m, [100])
    sync(lector, item(m, 112, local(2025, 2, 10), device_id="tablet-1"))
    sync(reader("otro"), item(m, 121, local(2025, 2, 11), device_id="tablet-2"))
    wrong, right = reading_at(m, local(2025, 2, 10)), reading_at(m, local(2025, 2, 11))
    reading_review(reading=wrong, action="reject", user=clerk)
    right.refresh_from_db()
    assert right.consumption == Decimal("21.000")
    reading_review(reading=right, action="accept", user=clerk)
    right.refresh_from_db()
    assert right.status == ReadingStatus.ACCEPTED


def test_expected_values_are_the_previous_reading_and_the_history_average(periods, lector):
    m = meter()
    history(lector, m, [100, 110, 122, 130])  # 10, 12, 8 → average 10
    sync(lector, item(m, 190, local(2025, 5, 10)))
    spike = reading_at(m, local(2025, 5, 10))
    values = expected_values(reading_ids=[spike.pk])[spike.pk]
    assert values["previous_value"] == Decimal("130.000")
    assert values["history_average_m3"] == Decimal("10")
    assert values["history_readings"] == 3


def test_a_decision_is_recorded_in_the_readings_history(periods, lector, clerk):
    import pghistory.models

    from core.history import command_context

    m = meter()
    history(lector, m, [100, 110])
    sync(lector, item(m, 90, local(2025, 3, 10)))
    misread = reading_at(m, local(2025, 3, 10))
    with command_context("review_test"):
        reading_review(reading=misread, action="reject", user=clerk)
    event = pghistory.models.Events.objects.filter(
        pgh_obj_model="metering.Reading", pgh_obj_id=str(misread.pk), pgh_label="update"
    ).get()
    # Readings record changes only (no insert snapshot): the event holds the row after it.
    assert (event.pgh_data["status"], event.pgh_data["reviewed_by_id"]) == (
        ReadingStatus.REJECTED,
        clerk.pk,
    )
    assert event.pgh_context["command"] == "review_test"
