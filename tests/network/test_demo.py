"""The demo city's water network: mains on the streets, valves at the crossings, every account
connected, and a trace that reaches accounts. Built once for the module, rolled back."""

import pytest
from django.conf import settings
from django.db import connection

from core.demo import DemoContext, ordered_steps
from network.models import Pipe
from network.selectors import isolation_trace, topology_report
from tests.conftest import rolled_back_transaction

ACCOUNTS = 3000
NEEDED = ("cadastre.base_map", "cadastre.customer_roll", "network.water_network")

pytestmark = pytest.mark.django_db


def _scalar(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    ctx = DemoContext(
        accounts=ACCOUNTS,
        seed=3,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    with rolled_back_transaction(django_db_blocker):
        steps = {step.name: step for step in ordered_steps()}
        assert set(steps["network.water_network"].after) <= set(NEEDED)
        counts = {}
        for name in NEEDED:
            counts = steps[name].run(ctx)
        yield counts


def test_a_main_on_every_street_and_valves_at_crossings(city):
    assert city["pipe"] == _scalar("SELECT count(*) FROM cadastre_streetsegment")
    assert city["valve"] > city["pipe"] // 2
    assert 0 < city["inoperable_valves"] < city["valve"] // 5
    assert city["sewerpipe"] > 0.9 * city["pipe"]
    assert city["source"] >= 1 and city["tank"] >= 1


def test_every_account_with_water_is_connected_to_a_main_nearby(city):
    assert city["serviceconnection"] == _scalar(
        "SELECT count(*) FROM cadastre_serviceaccount WHERE water"
    )
    assert topology_report(connection_max_m=1)["far_connections"] == []


def test_the_graph_is_one_connected_network(city):
    assert city["graph_edges"] > city["pipe"]  # valves split the mains
    assert topology_report()["parts"] == []


def test_a_break_on_a_block_side_isolates_it_between_its_valves(city):
    pipe = Pipe.objects.filter(connections__isnull=False).order_by("id").first()
    mid = pipe.geom.interpolate_normalized(0.5)
    trace = isolation_trace(point=mid, pipe_id=pipe.pk)
    assert trace.valves
    assert trace.accounts
    assert pipe.pk in trace.pipes
