"""The generation table and the trigger function that bumps it (see tiles.invalidation)."""

from django.db import migrations, models

# Bumps under the row lock: greatest(old + 1, µs since the epoch) only grows, and never reuses
# a number another timeline of this database (rebuilt, restored) may have cached tiles under.
BUMP_TABLES_FUNCTION = """
CREATE OR REPLACE FUNCTION tiles_generation_bump_tables(tables text[]) RETURNS void
LANGUAGE sql VOLATILE AS $$
    INSERT INTO tiles_tablegeneration AS g (table_name, generation)
    SELECT t, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint FROM unnest(tables) t
    ON CONFLICT (table_name) DO UPDATE
        SET generation = greatest(g.generation + 1, EXCLUDED.generation)
$$
"""

BUMP_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION tiles_generation_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM tiles_generation_bump_tables(ARRAY[TG_TABLE_NAME::text]);
    RETURN NULL;
END
$$
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="TableGeneration",
            fields=[
                (
                    "table_name",
                    models.CharField(
                        max_length=63, primary_key=True, serialize=False, verbose_name="table"
                    ),
                ),
                ("generation", models.BigIntegerField(verbose_name="generation")),
            ],
            options={
                "verbose_name": "table generation",
                "verbose_name_plural": "table generations",
            },
        ),
        migrations.RunSQL(
            BUMP_TABLES_FUNCTION, "DROP FUNCTION IF EXISTS tiles_generation_bump_tables(text[])"
        ),
        migrations.RunSQL(BUMP_TRIGGER_FUNCTION, "DROP FUNCTION IF EXISTS tiles_generation_bump()"),
    ]
