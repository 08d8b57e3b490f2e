"""The field sync service: idempotency, order in time, conflicts, rejections, answers."""

from decimal import Decimal

import pytest

from metering.models import Reading, ReadingStatus
from metering.services import MeteringError, sync_readings
from tests.metering.factories import item, local, meter, reader, sync

pytestmark = pytest.mark.django_db


def consumptions(m):
    return [
        (r.value, r.consumption)
        for r in Reading.objects.filter(meter=m).order_by("captured_at", "id")
    ]


def test_a_batch_sent_twice_lands_once_and_the_replay_answers_duplicate(periods, lector):
    m = meter()
    items = [item(m, 100, local(2025, 1, 10)), item(m, 112, local(2025, 2, 10))]

    first = sync(lector, *items)
    second = sync(lector, *items)

    assert [r.status for r in first.results] == ["accepted", "accepted"]
    assert [r.status for r in second.results] == ["duplicate", "duplicate"]
    assert [r.reading_id for r in second.results] == [r.reading_id for r in first.results]
    assert Reading.objects.filter(meter=m).count() == 2


def test_the_same_item_twice_in_one_batch_is_stored_once(periods, lector):
    m = meter()
    one = item(m, 100, local(2025, 1, 10))

    result = sync(lector, one, dict(one))

    assert [r.status for r in result.results] == ["accepted", "duplicate"]
    assert Reading.objects.filter(meter=m).count() == 1


def test_batches_out_of_order_give_consumption_by_capture_time(periods, lector):
    m = meter()
    sync(lector, item(m, 100, local(2025, 1, 10)))
    sync(lector, item(m, 130, local(2025, 3, 10)))  # March arrives before February
    sync(lector, item(m, 118, local(2025, 2, 10)))

    assert consumptions(m) == [
        (Decimal("100.000"), None),
        (Decimal("118.000"), Decimal("18.000")),
        (Decimal("130.000"), Decimal("12.000")),
    ]
    assert not Reading.objects.filter(meter=m, status=ReadingStatus.FLAGGED).exists()


def test_rollover_of_the_dials_counts_the_wrapped_consumption(periods, lector):
    m = meter(dials=4)
    result = sync(lector, item(m, 9990, local(2025, 1, 10)), item(m, 15, local(2025, 2, 10)))

    assert consumptions(m)[1] == (Decimal("15.000"), Decimal("25.000"))
    second = Reading.objects.get(pk=result.results[1].reading_id)
    assert second.rollover and second.status == ReadingStatus.VALID and second.flags == []


def test_two_devices_reading_one_meter_in_a_period_are_both_kept_and_flagged(periods, lector):
    m = meter()
    other = reader("otro")
    sync(lector, item(m, 100, local(2025, 1, 10)))
    a = sync(lector, item(m, 110, local(2025, 2, 10), device_id="tablet-1"))
    b = sync(other, item(m, 111, local(2025, 2, 11), device_id="tablet-2"))

    assert b.results[0].status == "accepted"
    assert b.results[0].flags == ["conflict"]
    first = Reading.objects.get(pk=a.results[0].reading_id)
    second = Reading.objects.get(pk=b.results[0].reading_id)
    assert (first.value, first.status, first.flags) == (
        Decimal("110.000"),
        ReadingStatus.FLAGGED,
        ["conflict"],
    )
    assert (second.value, second.status) == (Decimal("111.000"), ReadingStatus.FLAGGED)


def test_a_bad_item_is_rejected_alone_with_its_reason(periods, lector):
    m = meter()
    good = item(m, 100, local(2025, 1, 10))
    unknown = item(m, 100, local(2025, 1, 10), meter_id=None, meter_serial="NO-SUCH-1")
    bad_value = item(m, "-3", local(2025, 1, 11))

    result = sync(lector, good, unknown, bad_value)

    assert [r.status for r in result.results] == ["accepted", "rejected", "rejected"]
    assert result.results[1].code == "unknown_meter"
    assert "NO-SUCH-1" in result.results[1].message
    assert result.results[2].code == "value_invalid"
    assert Reading.objects.filter(meter=m).count() == 1


def test_a_malformed_batch_writes_nothing():
    with pytest.raises(MeteringError) as err:
        sync_readings(user=None, batch={"readings": "no"})
    assert err.value.code == "batch_invalid"


def test_answer_to_a_reader_never_carries_expected_values(periods, lector):
    m = meter()
    first = item(m, 100, local(2025, 1, 10))
    second = item(m, 180, local(2025, 2, 10))
    answer = sync(lector, first, second).as_dict()
    stored = Reading.objects.get(client_id=second["client_id"])
    assert stored.consumption == Decimal("80.000")  # known to the office, not to the reader
    assert answer["results"][1] == {
        "client_id": second["client_id"],
        "status": "accepted",
        "reading_id": stored.pk,
        "flags": [],
        "code": "",
        "message": "",
    }
    assert set(answer) == {"results", "accepted", "duplicate", "rejected"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_devices_syncing_the_same_meter_at_once_both_land_flagged():
    """Two real connections sync a reading of one meter at the same moment: the meter row lock
    makes the second see the first, so both are kept and both flagged, never one lost."""
    import threading

    from django.db import connection

    from tests.metering.factories import year_periods

    year_periods(2025)
    m = meter()
    first, second = reader("uno"), reader("dos")
    sync(first, item(m, 100, local(2025, 1, 10)))
    barrier = threading.Barrier(2)
    errors = []

    def run(user, value, day, device):
        try:
            barrier.wait(timeout=30)
            sync(user, item(m, value, local(2025, 2, day), device_id=device))
        except Exception as exc:  # noqa: BLE001 (reported to the test thread below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(first, 110, 10, "tablet-1")),
        threading.Thread(target=run, args=(second, 111, 11, "tablet-2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    february = Reading.objects.filter(meter=m, captured_at__month=2).order_by("captured_at")
    assert [(r.value, r.status, r.flags) for r in february] == [
        (Decimal("110.000"), ReadingStatus.FLAGGED, ["conflict"]),
        (Decimal("111.000"), ReadingStatus.FLAGGED, ["conflict"]),
    ]
