"""Exception-safe casts for the readings pipeline's careful pass, and the chain index in its
final form.

metering.validation first casts a whole batch at once; if any value cannot be cast the batch
is parsed again row by row with these functions, which answer NULL instead of failing, so the
bad rows are reported and the good ones kept. Each call opens a subtransaction (some µs):
fine for the rare batch with bad values, too slow for every batch, hence the two passes.
"""

from django.db import migrations

TYPES = ("uuid", "numeric", "float8", "bigint", "timestamptz")

FUNCTION = """
CREATE OR REPLACE FUNCTION metering_try_{t}(value text) RETURNS {t}
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN value::{t};
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END;
$$;
"""

# 0002 first shipped this index without ``id``; databases migrated then get the final form.
CHAIN_INDEX = """
DROP INDEX IF EXISTS reading_meter_time;
CREATE INDEX reading_meter_time ON metering_reading (meter_id, captured_at, id);
"""


class Migration(migrations.Migration):
    dependencies = [("metering", "0003_catalogs_and_permissions")]

    operations = [
        *(
            migrations.RunSQL(
                FUNCTION.format(t=t), f"DROP FUNCTION IF EXISTS metering_try_{t}(text)"
            )
            for t in TYPES
        ),
        migrations.RunSQL(CHAIN_INDEX, migrations.RunSQL.noop),
    ]
