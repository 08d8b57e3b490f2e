"""The statement-level reference check looks at the whole set of new rows at once.

With ``LIMIT 1`` (find the first bad row) the planner chose a nested-loop anti-join, one index
probe of the referenced table per new row; without it, for a million-row file, it hashes the
referenced table once (meter 0.68 → 0.56 s, period 0.37 → ~0.1 s). Measured on the insert of
a million readings: the trigger took 2.22–2.43 s, now 1.50–1.56 s. Small statements (a sync,
one review) still get index probes. The message names the smallest bad value.
"""

import importlib

from django.db import migrations

PREVIOUS = importlib.import_module("metering.migrations.0015_reference_checks_all")

CHECK = f"""
CREATE OR REPLACE FUNCTION metering_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM pg_advisory_xact_lock_shared({PREVIOUS.LOCK_KEY});
    FOR i IN 0 .. TG_NARGS / 3 - 1 LOOP
        EXECUTE format(
            'SELECT min(n.%1$I)::text FROM new_rows n WHERE n.%1$I IS NOT NULL '
            'AND NOT EXISTS (SELECT 1 FROM %2$I r WHERE r.%3$I = n.%1$I)',
            TG_ARGV[3 * i], TG_ARGV[3 * i + 1], TG_ARGV[3 * i + 2]) INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = format('%s.%s = %s: there is no such row in %s',
                                 TG_TABLE_NAME, TG_ARGV[3 * i], bad, TG_ARGV[3 * i + 1]);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
"""  # noqa: S608 (trigger code: table names come from TG_ARGV through format's %I)


class Migration(migrations.Migration):
    dependencies = [("metering", "0015_reference_checks_all")]

    operations = [migrations.RunSQL(sql=CHECK, reverse_sql=PREVIOUS.FUNCTIONS)]
