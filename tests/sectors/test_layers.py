"""Sectorization's map layers are registered, readable by every role, and their sources run."""

import pytest
from django.db import connection

from core import roles
from gis_core.layers import registry
from tests.factories import UserFactory
from tests.sectors.factories import build_town

pytestmark = pytest.mark.django_db

NAMES = ("zones", "sectors", "books", "dmas", "tariff_zones")


def test_every_sector_layer_is_registered_and_visible_to_every_role():
    reader = UserFactory(username="lector", roles=[roles.METER_READER])
    visible = {layer.name for layer in registry.visible_to(reader)}
    assert set(NAMES) <= visible


@pytest.mark.parametrize(("name", "code"), [("zones", "Z1"), ("books", "B2"), ("dmas", "D1")])
def test_a_layer_source_draws_its_areas(name, code):
    build_town()
    layer = registry.get(name)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT code FROM ({layer.source}) s ORDER BY code")
        codes = [row[0] for row in cursor.fetchall()]
    assert code in codes
    assert all(table.startswith("sectors_") for table in layer.tables)
