"""The demo city's routing graph: every demo street becomes an edge and the lattice is one
connected network (any two crossings reach each other)."""

import pytest
from django.conf import settings
from django.db import connection

from core.demo import DemoContext, ordered_steps

pytestmark = pytest.mark.django_db


def test_the_demo_streets_become_one_connected_routing_graph():
    ctx = DemoContext(
        accounts=800,
        seed=3,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    steps = {step.name: step for step in ordered_steps()}
    assert steps["routing.graph"].after == ("cadastre.base_map",)
    steps["cadastre.base_map"].run(ctx)
    counts = steps["routing.graph"].run(ctx)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM cadastre_streetsegment")
        assert counts["edges"] == cur.fetchone()[0]
        cur.execute(
            """SELECT count(DISTINCT component) FROM pgr_connectedComponents(
                   'SELECT id, source, target, length_m AS cost, length_m AS reverse_cost
                      FROM routing_routingedge')"""
        )
        assert cur.fetchone()[0] == 1
