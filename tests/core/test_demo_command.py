"""The demo command as ``make demo`` runs it: every step, under the command's history context."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def test_demo_city_command_builds_every_step_and_attributes_history_to_itself():
    """Tests build the city through demo_city_build; ``make demo`` goes through the command,
    which wraps every statement in pghistory's context (prepending its values to each
    statement's parameters). A statement that cannot take that — executemany, which got them
    as two extra "rows" — broke ``make demo`` while every test passed."""
    out = StringIO()
    call_command("demo_city", "--accounts", "300", stdout=out)
    assert _count("cadastre_serviceaccount") == 300
    assert _count("metering_reading") > 300 * 11  # a year of readings per meter, minus gaps
    assert _count("metering_macrometerreading") > 0
    assert _count("billing_bill") > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT metadata->>'command' FROM pghistory_context WHERE metadata ? 'command'"
        )
        assert [row[0] for row in cursor.fetchall()] == ["demo_city"]
