"""At the issue's scale (slow): every meter of a 5,000-meter demo city into 25 walking routes,
balanced, compact, shorter than the books read by account number."""

import pytest
from django.conf import settings

from core.demo import DemoContext, ordered_steps
from routing.services import params_clean, plan_build
from tests.conftest import rolled_back_transaction

NEEDED = ("cadastre.base_map", "cadastre.customer_roll", "sectors.sectorization", "metering.meters")


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    ctx = DemoContext(
        accounts=5320,
        seed=7,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    with rolled_back_transaction(django_db_blocker):
        steps = {step.name: step for step in ordered_steps()}
        for name in NEEDED:
            steps[name].run(ctx)
        yield


@pytest.mark.slow
@pytest.mark.django_db
def test_five_thousand_meters_into_25_balanced_compact_routes(city):
    result = plan_build(params=params_clean({"readers": 25, "time_limit_s": 30}))
    totals = result["totals"]
    stops = [a for r in result["routes"] for a in r["stops"]]
    assert len(stops) == len(set(stops)) == totals["meters"] >= 4900
    assert len(result["routes"]) == 25
    assert totals["imbalance"] <= 0.10
    assert totals["overlap"] <= 0.10
    assert totals["km"] < 0.7 * result["current"]["totals"]["km"]
