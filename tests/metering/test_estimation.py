"""Per-account consumption of a period: measured from valid readings, estimated otherwise —
the method pinned with hand computations (see metering.estimation)."""

from decimal import Decimal

import pytest

from metering.estimation import consumption_compute
from metering.models import AccountConsumption, Reading
from metering.services import reading_review
from tests.factories import UserFactory
from tests.metering.factories import history, item, local, meter, sync

pytestmark = pytest.mark.django_db


def compute(periods, months):
    for month in months:
        consumption_compute(period=periods[month - 1])


def figure(account, period):
    c = AccountConsumption.objects.get(account=account, period=period)
    return c.volume_m3, c.method, c.basis_count


def test_an_unread_period_is_estimated_as_the_average_of_the_last_measured_ones(periods, lector):
    m = meter()
    # January starts the chain (no consumption yet); then 10, 12, 0 and 15 m³.
    history(lector, m, [100, 110, 122, 122, 137])
    compute(periods, range(1, 7))

    assert figure(m.account, periods[1]) == (Decimal("10.000"), "measured", 1)
    assert figure(m.account, periods[3]) == (Decimal("0.000"), "measured", 1)
    # June: (10 + 12 + 0 + 15) / 4 = 9.25 → 9 m³, from 4 periods.
    assert figure(m.account, periods[5]) == (Decimal("9.000"), "estimated", 4)


def test_only_the_last_six_measured_periods_count(periods, lector):
    m = meter()
    # Consumption 40 in February, then 10 a month March-August: September estimates 10.
    history(lector, m, [100, 140, 150, 160, 170, 180, 190, 200])
    compute(periods, range(1, 10))
    assert figure(m.account, periods[8]) == (Decimal("10.000"), "estimated", 6)


def test_without_history_the_average_of_the_same_use_in_the_period_is_used(periods, lector):
    a, b, c = meter(), meter(), meter()
    sync(lector, item(a, 100, local(2025, 1, 10)), item(b, 100, local(2025, 1, 10)))
    sync(lector, item(a, 120, local(2025, 2, 10)), item(b, 131, local(2025, 2, 10)))
    compute(periods, [1, 2])
    # c (domestic, never read) in February: (20 + 31) / 2 = 25.5 → 26, basis 0.
    assert figure(c.account, periods[1]) == (Decimal("26.000"), "estimated", 0)


def test_a_flagged_reading_is_estimated_until_accepted(periods, lector):
    m = meter()
    history(lector, m, [100, 110, 120, 130])
    sync(lector, item(m, 190, local(2025, 5, 10)))  # 60 m³: flagged high_consumption
    compute(periods, range(1, 6))
    assert figure(m.account, periods[4]) == (Decimal("10.000"), "estimated", 3)

    flagged = Reading.objects.get(meter=m, captured_at=local(2025, 5, 10))
    reading_review(reading=flagged, action="accept", user=UserFactory())
    compute(periods, [5])
    assert figure(m.account, periods[4]) == (Decimal("60.000"), "measured", 1)


def test_recomputing_a_period_changes_only_what_changed(periods, lector):
    m = meter()
    history(lector, m, [100, 110])
    compute(periods, [1, 2])
    first = AccountConsumption.objects.get(account=m.account, period=periods[1])
    consumption_compute(period=periods[1])
    again = AccountConsumption.objects.get(account=m.account, period=periods[1])
    assert again.computed_at == first.computed_at
    # Derived rows record changes only: neither the first computation nor a no-op recompute.
    assert first.events.count() == 0
    sync(lector, item(m, 130, local(2025, 2, 20)))  # a second February reading: 10 → 30 m³
    Reading.objects.filter(meter=m, flags__contains=["conflict"]).update(
        status="accepted", reviewed_at=local(2025, 3, 1)
    )
    consumption_compute(period=periods[1])
    assert [e.volume_m3 for e in first.events.all()] == [Decimal("30.000")]


def test_two_periods_of_one_cycle_at_once_are_refused(periods):
    with pytest.raises(ValueError, match="one period per billing cycle"):
        consumption_compute(periods=[periods[0], periods[1]])
