"""Small helpers for services that speak SQL to PostGIS through Django's connection.

Geometries cross the boundary as EWKB (``ewkb``/``geos``): exact, SRID included, and no text
parsing on either side.
"""

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection


def ewkb(geom: GEOSGeometry | None):
    return None if geom is None else bytes(geom.ewkb)


def geos(value) -> GEOSGeometry | None:
    return None if value is None else GEOSGeometry(memoryview(bytes(value)))


def fetchone(sql: str, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetchall(sql: str, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params=None) -> int:
    """Runs ``sql``; the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        return cursor.rowcount
