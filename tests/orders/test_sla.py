"""orders.sla: due dates in working or calendar hours, across days, weekends, holidays and zones."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from orders.sla import due_at

MX = ZoneInfo("America/Mexico_City")  # the test settings' TIME_ZONE
UTC = dt.UTC


def test_working_hours_run_over_the_weekend():
    friday_4pm = dt.datetime(2025, 3, 7, 16, 0, tzinfo=MX)
    assert due_at(start=friday_4pm, hours=8, working_hours=True, holidays=set()) == dt.datetime(
        2025, 3, 10, 15, 0, tzinfo=MX
    )


def test_an_order_created_at_night_starts_counting_next_morning():
    tuesday_11pm = dt.datetime(2025, 3, 4, 23, 0, tzinfo=MX)
    assert due_at(start=tuesday_11pm, hours=2, working_hours=True, holidays=set()) == dt.datetime(
        2025, 3, 5, 10, 0, tzinfo=MX
    )


def test_several_days_of_working_hours_skip_holidays():
    # Monday 9:00 + 24 working hours (9 a day): Mon 8 h, Tue 9 h, (Wed holiday), Thu 7 h → 15:00.
    monday_9am = dt.datetime(2025, 3, 10, 9, 0, tzinfo=MX)
    holiday = {dt.date(2025, 3, 12)}
    assert due_at(start=monday_9am, hours=24, working_hours=True, holidays=holiday) == dt.datetime(
        2025, 3, 13, 15, 0, tzinfo=MX
    )


def test_the_zone_of_the_creation_instant_does_not_change_the_due_time():
    # 22:00 UTC on Friday is 16:00 in Mexico City: the same order as the first test.
    friday_utc = dt.datetime(2025, 3, 7, 22, 0, tzinfo=UTC)
    result = due_at(start=friday_utc, hours=8, working_hours=True, holidays=set())
    assert result == dt.datetime(2025, 3, 10, 15, 0, tzinfo=MX)
    assert result.astimezone(UTC) == dt.datetime(2025, 3, 10, 21, 0, tzinfo=UTC)


def test_calendar_hours_count_nights_and_weekends():
    friday_4pm = dt.datetime(2025, 3, 7, 16, 0, tzinfo=MX)
    assert due_at(start=friday_4pm, hours=8, working_hours=False) == dt.datetime(
        2025, 3, 8, 0, 0, tzinfo=MX
    )


@pytest.mark.django_db
def test_holidays_stored_in_the_catalogue_are_skipped_by_default():
    from orders.models import Holiday

    Holiday.objects.create(day=dt.date(2025, 3, 17), name="Natalicio de Benito Juárez")
    friday_4pm = dt.datetime(2025, 3, 14, 16, 0, tzinfo=MX)
    assert due_at(start=friday_4pm, hours=8, working_hours=True) == dt.datetime(
        2025, 3, 18, 15, 0, tzinfo=MX
    )


def test_a_naive_start_is_refused():
    with pytest.raises(ValueError):
        due_at(start=dt.datetime(2025, 3, 7, 16, 0), hours=1, working_hours=True, holidays=set())  # noqa: DTZ001
