"""Read-side queries of the landing page, kept free of domain imports (apps are optional)."""

from django.apps import apps
from django.db import connection


def city_summary() -> dict[str, int]:
    """Row counts of the base cadastre, from the planner's statistics (cheap at 1M rows).

    ``reltuples`` is an estimate refreshed by ANALYZE/autovacuum; exact counts of a million rows
    on every landing page view would cost more than they tell.
    """
    wanted = {
        "localities": "cadastre.Locality",
        "blocks": "cadastre.Block",
        "parcels": "cadastre.Parcel",
        "streets": "cadastre.StreetSegment",
    }
    tables = {}
    for key, label in wanted.items():
        try:
            tables[key] = apps.get_model(label)._meta.db_table
        except LookupError:
            continue
    if not tables:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = ANY(%s)",
            [list(tables.values())],
        )
        counts = dict(cursor.fetchall())
    return {key: counts.get(table, 0) for key, table in tables.items()}
