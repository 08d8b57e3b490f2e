"""A readings file names a period code (each row goes to that period of its own cycle)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0006_reference_checks"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="ingestbatch",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="ingestbatch",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="ingestbatch",
            name="delete_delete",
        ),
        migrations.RemoveField(
            model_name="ingestbatch",
            name="period",
        ),
        migrations.RemoveField(
            model_name="ingestbatchevent",
            name="period",
        ),
        migrations.AddField(
            model_name="ingestbatch",
            name="period_code",
            field=models.CharField(default="", max_length=20, verbose_name="period"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ingestbatchevent",
            name="period_code",
            field=models.CharField(default="", max_length=20, verbose_name="period"),
            preserve_default=False,
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_ingestbatchevent" ("accepted", "created_at", "duplicates", "file_name", "flagged", "id", "period_code", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rejected", "rows", "sha256", "uploaded_by_id") VALUES (NEW."accepted", NEW."created_at", NEW."duplicates", NEW."file_name", NEW."flagged", NEW."id", NEW."period_code", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."rejected", NEW."rows", NEW."sha256", NEW."uploaded_by_id"); RETURN NULL;',
                    hash="71059d5c8de24606a57282c8766989080dfd0f99",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_c5d7d",
                    table="metering_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_ingestbatchevent" ("accepted", "created_at", "duplicates", "file_name", "flagged", "id", "period_code", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rejected", "rows", "sha256", "uploaded_by_id") VALUES (NEW."accepted", NEW."created_at", NEW."duplicates", NEW."file_name", NEW."flagged", NEW."id", NEW."period_code", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."rejected", NEW."rows", NEW."sha256", NEW."uploaded_by_id"); RETURN NULL;',
                    hash="f9eb86bc681486471a3c828312fc40e00e76f369",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_78ad2",
                    table="metering_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_ingestbatchevent" ("accepted", "created_at", "duplicates", "file_name", "flagged", "id", "period_code", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rejected", "rows", "sha256", "uploaded_by_id") VALUES (OLD."accepted", OLD."created_at", OLD."duplicates", OLD."file_name", OLD."flagged", OLD."id", OLD."period_code", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."rejected", OLD."rows", OLD."sha256", OLD."uploaded_by_id"); RETURN NULL;',
                    hash="6f9f9ba1d211f9e9abe3c37887aa75c314b7fca7",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_9b531",
                    table="metering_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
    ]
