import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_migrations_applied_with_postgis_and_pgrouting_installed():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        extensions = {row[0] for row in cursor.fetchall()}
    assert {"postgis", "pgrouting"} <= extensions


def test_models_and_migrations_agree():
    # Raises SystemExit(1) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_geometry_columns_use_the_installation_srid(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f_table_name, srid FROM geometry_columns WHERE f_table_name NOT LIKE '%%event'"
        )
        rows = cursor.fetchall()
    assert rows, "no geometry columns registered"
    assert {srid for _table, srid in rows} == {settings.CAUDAL_SRID}
