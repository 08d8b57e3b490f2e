"""The network's map layers: registered, readable by the right roles, sources that run, tile
invalidation installed on every table they read."""

import pytest
from django.db import connection

from core import roles
from gis_core.layers import registry
from network.services import outage_create
from tests.factories import UserFactory
from tests.network.factories import connected_account, pipe, pt, sewer, valve
from tiles.invalidation import TRIGGER_NAME

pytestmark = pytest.mark.django_db

NAMES = (
    "pipes_by_material",
    "pipes_by_diameter",
    "valves",
    "hydrants",
    "tanks",
    "water_sources",
    "manholes",
    "service_connections",
    "sewers",
    "active_outages",
)


def _layers():
    return [registry.get(name) for name in NAMES]


def test_field_crews_and_planners_see_the_network_meter_readers_do_not():
    crew = UserFactory(username="cuadrilla", roles=[roles.FIELD_CREW])
    planner = UserFactory(username="planeador", roles=[roles.PLANNER])
    reader = UserFactory(username="lector", roles=[roles.METER_READER])
    assert set(NAMES) <= {layer.name for layer in registry.visible_to(crew)}
    assert set(NAMES) <= {layer.name for layer in registry.visible_to(planner)}
    assert not set(NAMES) & {layer.name for layer in registry.visible_to(reader)}
    assert planner.has_perm("network.change_pipe") and not crew.has_perm("network.change_pipe")


def test_every_source_runs_and_outages_show_while_active():
    p = pipe("P1", (0, 0), (100, 0), diameter=300)
    valve("V1", 50, 0, operable=False)
    sewer("S1", (0, 5), (100, 5))
    connected_account(p, 80, 0)
    outage_create(point=pt(70, 0), user=UserFactory(username="planeadora"))
    rows = {}
    for layer in _layers():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM ({layer.source}) s")
            rows[layer.name] = cursor.fetchall()
    assert len(rows["pipes_by_material"]) == 1
    assert len(rows["active_outages"]) == 1
    valve_states = [r[-1] for r in rows["valves"]]
    assert valve_states == ["inoperable"]
    assert [r[-1] for r in rows["pipes_by_diameter"]] == ["large"]


def test_every_layer_table_invalidates_tiles():
    tables = {table for layer in _layers() for table in layer.tables}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relname = ANY(%s) AND t.tgname = %s",
            [list(tables), TRIGGER_NAME],
        )
        tracked = {row[0] for row in cursor.fetchall()}
    assert tracked == tables
