import os
import subprocess
import sys
from pathlib import Path

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
    """Every geometry column, history event tables' copies included (a snapshot in another
    CRS than its row would misplace the parcel it records)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT f_table_name, srid FROM geometry_columns")
        rows = cursor.fetchall()
    assert any(table.endswith("event") for table, _srid in rows), "no history geometry found"
    assert {table for table, srid in rows if srid != settings.CAUDAL_SRID} == set()


def test_migrations_follow_the_installation_srid_not_the_default():
    """An installation in another UTM zone (CAUDAL_SRID chosen before the first migrate) gets
    its geometry columns in that CRS: no migration may spell the default's number, or it
    would create — or later alter — columns in EPSG:32614 whatever the setting says."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "CAUDAL_SRID": "32613"}
    done = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
