"""The cadastral key's search indexes hold the key itself, not ``lower(caudal_unaccent(key))``.

A key is digits and dashes (CHECK ``parcel_cadastral_key_format``): lowering and unaccenting
change nothing, and calling them per row made these two indexes two to four times dearer to
build (100,000 parcels: prefix btree 135 → 29 ms, trigram GIN 246 → 137 ms), paid again by
every parcel import that rebuilds them. The search (cadastre.selectors._code_top with
``normalized=False``) reads the column as is. Non-atomic: CONCURRENTLY, as in 0005.
"""

from django.db import migrations

REBUILT = [
    ("parcel_key_prefix", "btree", "cadastral_key text_pattern_ops"),
    ("parcel_key_trgm", "gin", "cadastral_key gin_trgm_ops"),
]
BEFORE = [
    (
        "parcel_key_prefix",
        "btree",
        "(lower(public.caudal_unaccent(cadastral_key))) text_pattern_ops",
    ),
    ("parcel_key_trgm", "gin", "(lower(public.caudal_unaccent(cadastral_key))) gin_trgm_ops"),
]


def _operations():
    for (name, method, now), (_name, _method, before) in zip(REBUILT, BEFORE, strict=True):
        yield migrations.RunSQL(
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON cadastre_parcel "
            f"USING {method} ({before})",
        )
        yield migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON cadastre_parcel "
            f"USING {method} ({now})",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("cadastre", "0008_history_events_unindexed")]

    operations = list(_operations())
