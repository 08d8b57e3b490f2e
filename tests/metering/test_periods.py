"""Reading periods: no overlaps within a cycle; closing refuses later readings and computes the
period's consumption after commit."""

import datetime as dt

import pytest

from metering.models import AccountConsumption, PeriodStatus
from metering.services import MeteringError, reading_period_close, reading_period_create
from metering.tasks import consumption_compute_task
from tests.metering.factories import history, item, local, meter, sync

pytestmark = pytest.mark.django_db


def test_periods_of_one_cycle_cannot_overlap(periods):
    with pytest.raises(MeteringError) as err:
        reading_period_create(
            cycle="1", code="2025-03b", starts_on=dt.date(2025, 3, 20), ends_on=dt.date(2025, 4, 5)
        )
    assert err.value.code == "period_overlap"
    other_cycle = reading_period_create(
        cycle="2", code="2025-03", starts_on=dt.date(2025, 3, 20), ends_on=dt.date(2025, 4, 5)
    )
    assert other_cycle.status == PeriodStatus.OPEN


def test_reversed_dates_are_refused(db):
    with pytest.raises(MeteringError) as err:
        reading_period_create(
            cycle="1", code="x", starts_on=dt.date(2025, 3, 20), ends_on=dt.date(2025, 3, 1)
        )
    assert err.value.code == "period_dates"


def test_closing_refuses_later_readings_and_queues_the_consumption(
    periods, lector, django_capture_on_commit_callbacks
):
    m = meter()
    history(lector, m, [100, 110])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reading_period_close(period=periods[1])
    assert len(callbacks) == 1  # the Celery task, sent only once the close is committed

    result = sync(lector, item(m, 115, local(2025, 2, 20)))
    assert result.results[0].code == "period_closed"

    consumption_compute_task(periods[1].pk)  # what the worker runs
    assert AccountConsumption.objects.get(account=m.account, period=periods[1]).volume_m3 == 10
