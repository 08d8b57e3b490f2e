"""The demo city's metering: a year of readings whose chain adds up, seasons, and a few
percent of realistic anomalies that the rules flag."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from core.demo import DemoContext
from core.services import demo_city_build
from metering.models import AccountConsumption, Meter, ReadingPeriod
from tests.conftest import rolled_back_transaction

ACCOUNTS = 1500

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    ctx = DemoContext(
        accounts=ACCOUNTS,
        seed=5,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    with rolled_back_transaction(django_db_blocker):
        demo_city_build(ctx=ctx, log=lambda _m: None)
        yield


def scalar(sql, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


def test_every_cycle_has_twelve_closed_months_and_the_current_one_open(city):
    cycles = scalar("SELECT count(DISTINCT billing_cycle) FROM cadastre_serviceaccount")
    assert ReadingPeriod.objects.filter(status="closed").count() == 12 * cycles
    assert ReadingPeriod.objects.filter(status="open").count() == cycles


def test_every_meter_has_a_baseline_and_a_visit_each_month(city):
    meters = Meter.objects.filter(status="installed").count()
    assert scalar("SELECT count(*) FROM metering_reading WHERE kind = 'baseline'") == meters
    visits = scalar(
        "SELECT count(DISTINCT (meter_id, period_id)) FROM metering_reading WHERE kind = 'regular'"
    )
    assert visits == 12 * meters


def test_the_chain_adds_up_reading_after_reading(city):
    # consumption = value - previous value (+ 10^dials when the dials wrapped), for every
    # reading of the chain that has a previous one.
    wrong = scalar(
        """
        SELECT count(*) FROM (
            SELECT r.consumption, r.rollover, m.dials, r.value,
                   lag(r.value) OVER (PARTITION BY r.meter_id ORDER BY r.captured_at, r.id)
                       AS prev
            FROM metering_reading r JOIN metering_meter m ON m.id = r.meter_id
            WHERE r.value IS NOT NULL AND r.status IN ('valid', 'flagged', 'accepted')
        ) x
        WHERE x.prev IS NOT NULL
          AND x.consumption IS DISTINCT FROM
              x.value - x.prev + CASE WHEN x.rollover THEN power(10::numeric, x.dials) ELSE 0 END
        """
    )
    assert wrong == 0


def test_registers_roll_over_and_the_consumption_stays_small(city):
    rows = scalar(
        "SELECT count(*) FROM metering_reading WHERE rollover AND consumption BETWEEN 0 AND 1000"
    )
    assert rows > 0
    assert scalar("SELECT count(*) FROM metering_reading WHERE rollover") == rows


def test_consumption_follows_the_seasons(city):
    may, november = (
        scalar(
            "SELECT avg(consumption) FROM metering_reading r JOIN metering_meter m "
            "ON m.id = r.meter_id WHERE r.kind = 'regular' AND r.status = 'valid' "
            "AND extract(month FROM r.captured_at) = %s AND r.consumption > 0 AND m.dials <> 4",
            [month],
        )
        for month in (5, 11)
    )
    assert may > november * Decimal("1.15")


def test_a_few_percent_are_anomalies_and_the_review_queue_has_the_recent_ones(city):
    regular = scalar("SELECT count(*) FROM metering_reading WHERE kind = 'regular'")
    observed = scalar("SELECT count(*) FROM metering_reading WHERE observation_id IS NOT NULL")
    flagged = scalar("SELECT count(*) FROM metering_reading WHERE cardinality(flags) > 0")
    assert 0.01 < (observed + flagged) / regular < 0.10
    kinds = {
        row
        for (row,) in connection.cursor().execute(
            "SELECT DISTINCT unnest(flags) FROM metering_reading WHERE status = 'flagged'"
        )
    }
    assert {"below_previous", "high_consumption", "conflict", "gps_far"} <= kinds
    assert scalar("SELECT count(*) FROM metering_reading WHERE 'zero_consumption' = ANY(flags)")


def test_consumption_is_computed_for_every_closed_period(city):
    closed = ReadingPeriod.objects.filter(status="closed")
    measured = AccountConsumption.objects.filter(period__in=closed, method="measured").count()
    estimated = AccountConsumption.objects.filter(period__in=closed, method="estimated").count()
    assert measured > 0.8 * (measured + estimated)
    assert estimated > 0


def test_every_district_has_an_inlet_macrometer_and_some_pass_water_on(city):
    from metering.models import Macrometer

    districts = scalar("SELECT count(*) FROM sectors_dma")
    assert districts > 0
    assert Macrometer.objects.filter(dma_out__isnull=True).count() == districts
    assert Macrometer.objects.filter(dma_out__isnull=False, bidirectional=True).exists()


def test_closed_months_lose_between_20_and_45_percent_in_every_billed_district(city):
    from metering.models import NrwClass, WaterBalance

    closed_months = scalar(
        "SELECT count(DISTINCT code) FROM metering_readingperiod WHERE status = 'closed'"
    )
    billed = WaterBalance.objects.filter(accounts__gt=0)
    assert billed.values("month").distinct().count() == closed_months
    assert not billed.filter(nrw_class__in=[NrwClass.UNKNOWN, NrwClass.NEGATIVE]).exists()
    percentages = [b.non_revenue_pct for b in billed]
    # The demo's losses are 20-45 % of input; rounding of daily registers moves them by < 0.1.
    assert min(percentages) >= Decimal("19.9") and max(percentages) <= Decimal("45.1")
    assert max(percentages) - min(percentages) > 5  # districts differ
