"""References of readings and consumption checked once per statement (see metering.models).

The foreign-key constraints of the high-volume columns are dropped (``db_constraint=False``)
and replaced by statement-level triggers with transition tables: after each INSERT or UPDATE,
one anti-join per column refuses rows that point at nothing; after each DELETE of a meter,
account, period or file, one semi-join refuses the delete while rows still point at it. The
advisory lock REFERENCE_LOCK (shared for writers, exclusive for deletes) orders the two, so a
delete cannot slip between a load's check and its commit. Errors carry SQLSTATE 23503
(foreign_key_violation), which Django raises as IntegrityError, as a constraint would.
"""

import django.db.models.deletion
from django.db import migrations, models

LOCK_KEY = 7462031

# table → [(column, referenced table)] (a frozen copy of metering.models.REFERENCE_CHECKS)
CHECKS = {
    "metering_reading": [
        ("meter_id", "metering_meter"),
        ("account_id", "cadastre_serviceaccount"),
        ("period_id", "metering_readingperiod"),
        ("batch_id", "metering_ingestbatch"),
    ],
    "metering_accountconsumption": [
        ("account_id", "cadastre_serviceaccount"),
        ("period_id", "metering_readingperiod"),
    ],
}
# referenced table → [(referencing table, column)]
GUARDS = {}
for _table, _refs in CHECKS.items():
    for _column, _target in _refs:
        GUARDS.setdefault(_target, []).append((_table, _column))

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION metering_refs_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM pg_advisory_xact_lock_shared({LOCK_KEY});
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        EXECUTE format(
            'SELECT n.%1$I::text FROM new_rows n WHERE n.%1$I IS NOT NULL '
            'AND NOT EXISTS (SELECT 1 FROM %2$I r WHERE r.id = n.%1$I) LIMIT 1',
            TG_ARGV[2 * i], TG_ARGV[2 * i + 1]) INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = format('%s.%s = %s: there is no such row in %s',
                                 TG_TABLE_NAME, TG_ARGV[2 * i], bad, TG_ARGV[2 * i + 1]);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION metering_refs_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    FOR i IN 0 .. TG_NARGS / 2 - 1 LOOP
        EXECUTE format(
            'SELECT o.id::text FROM old_rows o '
            'WHERE EXISTS (SELECT 1 FROM %1$I x WHERE x.%2$I = o.id) LIMIT 1',
            TG_ARGV[2 * i], TG_ARGV[2 * i + 1]) INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = format('%s %s is still referred to by %s.%s',
                                 TG_TABLE_NAME, bad, TG_ARGV[2 * i], TG_ARGV[2 * i + 1]);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
"""  # noqa: S608 (trigger code: table names come from TG_ARGV through format's %I)


def _args(pairs) -> str:
    return ", ".join(f"'{a}', '{b}'" for a, b in pairs)


TRIGGERS = "\n".join(
    [
        f"CREATE TRIGGER metering_refs_{op.lower()} AFTER {op} ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION metering_refs_check({_args(refs)});"
        for table, refs in CHECKS.items()
        for op in ("INSERT", "UPDATE")
    ]
    + [
        f"CREATE TRIGGER metering_refs_guard AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION metering_refs_guard({_args(pairs)});"
        for table, pairs in GUARDS.items()
    ]
)

DROP = "\n".join(
    [
        f"DROP TRIGGER IF EXISTS metering_refs_{op.lower()} ON {table};"
        for table in CHECKS
        for op in ("INSERT", "UPDATE")
    ]
    + [f"DROP TRIGGER IF EXISTS metering_refs_guard ON {table};" for table in GUARDS]
    + [
        "DROP FUNCTION IF EXISTS metering_refs_check();",
        "DROP FUNCTION IF EXISTS metering_refs_guard();",
    ]
)


class Migration(migrations.Migration):
    dependencies = [
        ("cadastre", "0003_customer_roll"),
        ("metering", "0005_index_diet"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accountconsumption",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consumptions",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AlterField(
            model_name="accountconsumption",
            name="period",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consumptions",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AlterField(
            model_name="reading",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AlterField(
            model_name="reading",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="metering.ingestbatch",
                verbose_name="file",
            ),
        ),
        migrations.AlterField(
            model_name="reading",
            name="meter",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="metering.meter",
                verbose_name="meter",
            ),
        ),
        migrations.AlterField(
            model_name="reading",
            name="period",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.RunSQL(FUNCTIONS + TRIGGERS, DROP),
    ]
