"""Read-side queries of the landing page, kept free of domain imports (apps are optional)."""

from django.apps import apps
from django.db import connection

EXACT_BELOW = 100_000


def city_summary() -> dict[str, int]:
    """Row counts of the base cadastre: exact for small tables, estimated for big ones.

    ``reltuples`` is the planner's estimate refreshed by ANALYZE/autovacuum; exact counts of a
    million rows on every landing page view would cost more than they tell. Below 100,000 rows
    (or before the first ANALYZE, when the estimate is -1) the count is exact.
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
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)",
            [list(tables.values())],
        )
        estimates = dict(cursor.fetchall())
        summary = {}
        for key, table in tables.items():
            estimate = estimates.get(table, 0)
            if estimate < EXACT_BELOW:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (model table name)
                estimate = cursor.fetchone()[0]
            summary[key] = estimate
    return summary
