"""Accent- and case-insensitive, typo-tolerant search over the customer roll (issue 3).

pg_trgm gives trigram similarity and GIN indexes that answer ``LIKE``, ``%`` (similarity) and
``<%`` (word similarity); unaccent folds "Pérez" to "Perez". ``unaccent()`` itself is only
STABLE (its dictionary could change), so an IMMUTABLE wrapper with the dictionary spelled out
lets the indexes hold ``lower(caudal_unaccent(column))``. The search selector
(:func:`cadastre.selectors.roll_search`) uses exactly these expressions, so the planner matches
them to the indexes.

The indexes are built CONCURRENTLY (no write lock on a live roll of a million accounts), which
cannot run inside a transaction: this migration is non-atomic and does nothing else. A failed
concurrent build leaves an INVALID index that ``IF NOT EXISTS`` would skip: drop it and migrate
again.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

UNACCENT_FUNCTION = """
CREATE OR REPLACE FUNCTION public.caudal_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""

# (index name, table, searched expression). Names are "name + surnames" in one string.
PARTY_NAME = "name || ' ' || first_surname || ' ' || second_surname"
TRIGRAM_INDEXES = [
    ("account_number_trgm", "cadastre_serviceaccount", "number"),
    ("customer_name_trgm", "cadastre_customer", PARTY_NAME),
    ("owner_name_trgm", "cadastre_owner", PARTY_NAME),
    ("parcel_key_trgm", "cadastre_parcel", "cadastral_key"),
    ("parcel_address_trgm", "cadastre_parcel", "address"),
    ("meter_serial_trgm", "metering_meter", "serial"),
]


# Keys, numbers and serials are also looked up by prefix, in key order: a btree with
# text_pattern_ops answers `LIKE 'abc%'` whatever the database's collation.
PREFIX_INDEXES = [
    ("account_number_prefix", "cadastre_serviceaccount", "number"),
    ("parcel_key_prefix", "cadastre_parcel", "cadastral_key"),
    ("meter_serial_prefix", "metering_meter", "serial"),
]


def _index_operations():
    for name, table, expression in TRIGRAM_INDEXES:
        yield migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"USING gin ((lower(public.caudal_unaccent({expression}))) gin_trgm_ops)",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )
    for name, table, expression in PREFIX_INDEXES:
        yield migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"((lower(public.caudal_unaccent({expression}))) text_pattern_ops)",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cadastre", "0004_role_permissions_customer_roll"),
        ("metering", "0001_initial"),
    ]

    operations = [
        CreateExtension("pg_trgm"),
        CreateExtension("unaccent"),
        migrations.RunSQL(
            UNACCENT_FUNCTION, "DROP FUNCTION IF EXISTS public.caudal_unaccent(text)"
        ),
        *_index_operations(),
    ]
