"""metering.water_balance: system input from macrometers, billed consumption, NRW per district."""

import datetime as dt
import io
from decimal import Decimal

import pytest

from metering.models import NrwClass, WaterBalance
from metering.services import MeteringError
from metering.water_balance import macrometer_volumes, parse_month, water_balance_compute
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.metering.balance_factories import (
    at,
    consumption,
    district,
    in_district,
    macrometer,
    registers,
)
from tests.metering.factories import month_period

MARCH = dt.date(2025, 3, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def crafted():
    """Two districts fed by M1 into D1, D1 passing water to D2 through M2 (bidirectional).

    M1 registers: 1000 on Feb 28, 1200 on Mar 2 → 1100 at Mar 1 00:00 (interpolated);
    4000 on Mar 31, 4200 on Apr 2 → 4100 at Apr 1 00:00. Input 3000 m³.
    M2: forward 500 → 1300 (800), reverse 10 → 60 (50): net 750 m³ from D1 to D2.
    D1: SIV 3000 - 750 = 2250; billed metered 1000 + 500, estimated 250 → NRW 500 = 22.22 %.
    D2: SIV 750; billed 600 → NRW 150 = 20.00 % (on the class boundary: 20 % to 30 %).
    """
    d1, d2 = district("D1"), district("D2", x0=600)
    m1 = macrometer("M1", dma_in=d1)
    m2 = macrometer("M2", dma_in=d2, dma_out=d1, bidirectional=True)
    registers(
        m1,
        (at(2025, 2, 28), 1000),
        (at(2025, 3, 2), 1200),
        (at(2025, 3, 31), 4000),
        (at(2025, 4, 2), 4200),
    )
    registers(m2, (at(2025, 3, 1), 500, 10), (at(2025, 4, 1), 1300, 60))
    march = month_period(2025, 3)
    february = month_period(2025, 2)
    a, b, c, d = (ServiceAccountFactory(billing_cycle="1") for _ in range(4))
    for account in (a, b, c):
        in_district(account, d1)
    in_district(d, d2)
    consumption(a, march, "1000")
    consumption(b, march, "500")
    consumption(c, march, "250", method="estimated")
    consumption(d, march, "600")
    consumption(a, february, "9999")  # another month: not in March's balance
    outside = ServiceAccountFactory(billing_cycle="1")
    in_district(outside, None)
    consumption(outside, march, "777")  # in no district
    return d1, d2


def test_balance_of_a_crafted_district_equals_the_hand_computation(crafted):
    d1, d2 = crafted
    water_balance_compute(month=MARCH)
    b1 = WaterBalance.objects.get(dma=d1, month=MARCH)
    assert b1.system_input_m3 == Decimal("2250.000")
    assert b1.billed_metered_m3 == Decimal("1500.000")
    assert b1.billed_unmetered_m3 == Decimal("250.000")
    assert b1.non_revenue_m3 == Decimal("500.000")
    assert b1.non_revenue_pct == Decimal("22.22")
    assert b1.nrw_class == NrwClass.MEDIUM
    assert (b1.accounts, b1.macrometers, b1.missing_macrometers) == (3, 2, [])
    b2 = WaterBalance.objects.get(dma=d2, month=MARCH)
    assert (b2.system_input_m3, b2.non_revenue_m3, b2.non_revenue_pct) == (
        Decimal("750.000"),
        Decimal("150.000"),
        Decimal("20.00"),
    )
    assert b2.nrw_class == NrwClass.MEDIUM


def test_registers_are_interpolated_between_the_readings_around_each_instant(crafted):
    volumes = {v["code"]: v["net_m3"] for v in macrometer_volumes(month=MARCH)}
    assert volumes == {"M1": Decimal("3000"), "M2": Decimal("750")}


def test_recomputing_an_unchanged_month_writes_nothing(crafted):
    assert water_balance_compute(month=MARCH) == 2
    assert water_balance_compute(month=MARCH) == 0
    consumption(ServiceAccountFactory(billing_cycle="1"), month_period(2025, 3), "50")
    in_district(ServiceAccountFactory(billing_cycle="1"), None)
    assert water_balance_compute(month=MARCH) == 0  # the new account is in no district


def test_a_macrometer_whose_readings_stop_leaves_the_input_unmeasured():
    d3 = district("D3")
    m3 = macrometer("M3", dma_in=d3)
    registers(m3, (at(2025, 2, 27), 10), (at(2025, 3, 20), 900))
    water_balance_compute(month=MARCH)
    balance = WaterBalance.objects.get(dma=d3, month=MARCH)
    assert balance.system_input_m3 is None
    assert balance.non_revenue_m3 is None and balance.non_revenue_pct is None
    assert balance.nrw_class == NrwClass.UNKNOWN
    assert balance.missing_macrometers == ["M3"]


def test_a_replaced_macrometer_counts_for_its_part_of_the_month():
    d4 = district("D4")
    swap = at(2025, 3, 15, 12)
    old = macrometer("OLD", dma_in=d4, in_service_until=swap)
    new = macrometer("NEW", dma_in=d4, in_service_from=swap)
    registers(old, (at(2025, 3, 1), 5000), (swap, 5400))
    registers(new, (swap, 0), (at(2025, 4, 1), 500))
    water_balance_compute(month=MARCH)
    balance = WaterBalance.objects.get(dma=d4, month=MARCH)
    assert balance.system_input_m3 == Decimal("900.000")
    assert balance.missing_macrometers == []
    assert balance.nrw_class == NrwClass.VERY_HIGH  # nothing billed: 100 % lost


def test_billing_more_than_the_input_is_classed_for_checking():
    d5 = district("D5")
    registers(macrometer("M5", dma_in=d5), (at(2025, 3, 1), 0), (at(2025, 4, 1), 100))
    account = ServiceAccountFactory(billing_cycle="1")
    in_district(account, d5)
    consumption(account, month_period(2025, 3), "130")
    water_balance_compute(month=MARCH)
    balance = WaterBalance.objects.get(dma=d5, month=MARCH)
    assert balance.non_revenue_m3 == Decimal("-30.000")
    assert balance.nrw_class == NrwClass.NEGATIVE


def test_a_district_without_macrometers_has_no_measured_input():
    d6 = district("D6")
    water_balance_compute(month=MARCH)
    balance = WaterBalance.objects.get(dma=d6, month=MARCH)
    assert (balance.system_input_m3, balance.macrometers, balance.nrw_class) == (
        None,
        0,
        NrwClass.UNKNOWN,
    )


def test_a_month_that_has_not_started_is_refused():
    from django.utils import timezone

    next_year = timezone.localdate().replace(day=1, year=timezone.localdate().year + 1)
    with pytest.raises(MeteringError) as refused:
        water_balance_compute(month=next_year)
    assert refused.value.code == "water_balance_future"


@pytest.mark.parametrize("text", ["2025-13", "2025/03", "March", "25-03", ""])
def test_a_month_must_be_written_year_dash_month(text):
    with pytest.raises(MeteringError) as refused:
        parse_month(text)
    assert refused.value.field == "month"


def test_months_parse_to_their_first_day():
    assert parse_month(" 2025-03 ") == MARCH


def test_the_nightly_task_and_command_compute_a_given_month(crafted):
    from django.core.management import call_command

    from metering.tasks import water_balance_task

    assert water_balance_task("2025-03") == {"2025-03": 2}
    out = io.StringIO()
    call_command("water_balance", "--month", "2025-03", stdout=out)
    assert out.getvalue().strip() == "2025-03: 0 district(s) changed"


def test_the_nightly_schedule_is_installed():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="metering.water_balance")
    assert (task.crontab.hour, task.crontab.minute) == ("3", "15")
