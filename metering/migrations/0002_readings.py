"""Meters grow technology, location, removal date; reading periods, assignments, observation
codes, validation rules, readings, meter changes, bulk files and per-account consumption."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.constraints
import django.contrib.postgres.fields
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

import metering.models


class Migration(migrations.Migration):
    dependencies = [
        ("cadastre", "0003_customer_roll"),
        ("metering", "0001_initial"),
        ("orders", "0001_initial"),
        ("pghistory", "0007_auto_20250421_0444"),
        ("sectors", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The exclusion constraint on reading periods compares the cycle code with `=` in GiST.
        BtreeGistExtension(),
        migrations.CreateModel(
            name="AccountConsumption",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "volume_m3",
                    models.DecimalField(
                        decimal_places=3, max_digits=12, verbose_name="volume (m³)"
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        choices=[("measured", "Measured"), ("estimated", "Estimated")],
                        max_length=10,
                        verbose_name="method",
                    ),
                ),
                ("basis_count", models.PositiveSmallIntegerField(default=0, verbose_name="basis")),
                (
                    "computed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="computed at"
                    ),
                ),
            ],
            options={
                "verbose_name": "account consumption",
                "verbose_name_plural": "account consumptions",
            },
        ),
        migrations.CreateModel(
            name="AccountConsumptionEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                (
                    "volume_m3",
                    models.DecimalField(
                        decimal_places=3, max_digits=12, verbose_name="volume (m³)"
                    ),
                ),
                (
                    "method",
                    models.CharField(
                        choices=[("measured", "Measured"), ("estimated", "Estimated")],
                        max_length=10,
                        verbose_name="method",
                    ),
                ),
                ("basis_count", models.PositiveSmallIntegerField(default=0, verbose_name="basis")),
                (
                    "computed_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="computed at"
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="IngestBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "sha256",
                    models.CharField(
                        max_length=64, unique=True, verbose_name="SHA-256 of the file"
                    ),
                ),
                ("file_name", models.CharField(max_length=255, verbose_name="file name")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                ("accepted", models.PositiveIntegerField(default=0, verbose_name="accepted")),
                ("duplicates", models.PositiveIntegerField(default=0, verbose_name="duplicates")),
                ("rejected", models.PositiveIntegerField(default=0, verbose_name="rejected")),
                ("flagged", models.PositiveIntegerField(default=0, verbose_name="flagged")),
            ],
            options={
                "verbose_name": "readings file",
                "verbose_name_plural": "readings files",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="IngestBatchEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the file")),
                ("file_name", models.CharField(max_length=255, verbose_name="file name")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                ("accepted", models.PositiveIntegerField(default=0, verbose_name="accepted")),
                ("duplicates", models.PositiveIntegerField(default=0, verbose_name="duplicates")),
                ("rejected", models.PositiveIntegerField(default=0, verbose_name="rejected")),
                ("flagged", models.PositiveIntegerField(default=0, verbose_name="flagged")),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="IngestRejection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_no", models.PositiveIntegerField(verbose_name="row")),
                ("meter_ref", models.CharField(blank=True, max_length=60, verbose_name="meter")),
                ("code", models.CharField(max_length=30, verbose_name="code")),
                ("message", models.TextField(verbose_name="message")),
            ],
            options={
                "verbose_name": "rejected file row",
                "verbose_name_plural": "rejected file rows",
                "ordering": ["batch", "row_no"],
            },
        ),
        migrations.CreateModel(
            name="IngestRejectionEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("row_no", models.PositiveIntegerField(verbose_name="row")),
                ("meter_ref", models.CharField(blank=True, max_length=60, verbose_name="meter")),
                ("code", models.CharField(max_length=30, verbose_name="code")),
                ("message", models.TextField(verbose_name="message")),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="MeterChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("changed_at", models.DateTimeField(verbose_name="changed at")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
            ],
            options={
                "verbose_name": "meter change",
                "verbose_name_plural": "meter changes",
                "ordering": ["-changed_at"],
            },
        ),
        migrations.CreateModel(
            name="MeterChangeEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("changed_at", models.DateTimeField(verbose_name="changed at")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ObservationCode",
            fields=[
                (
                    "code",
                    models.SlugField(
                        max_length=20, primary_key=True, serialize=False, verbose_name="code"
                    ),
                ),
                ("label", models.CharField(max_length=80, verbose_name="label")),
                ("value_allowed", models.BooleanField(default=False, verbose_name="value allowed")),
                (
                    "requires_photo",
                    models.BooleanField(default=False, verbose_name="requires a photo"),
                ),
                ("needs_review", models.BooleanField(default=False, verbose_name="needs review")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("sort_order", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
            ],
            options={
                "verbose_name": "observation code",
                "verbose_name_plural": "observation codes",
                "ordering": ["sort_order", "code"],
            },
        ),
        migrations.CreateModel(
            name="ObservationCodeEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                (
                    "code",
                    models.SlugField(
                        db_index=False, max_length=20, serialize=False, verbose_name="code"
                    ),
                ),
                ("label", models.CharField(max_length=80, verbose_name="label")),
                ("value_allowed", models.BooleanField(default=False, verbose_name="value allowed")),
                (
                    "requires_photo",
                    models.BooleanField(default=False, verbose_name="requires a photo"),
                ),
                ("needs_review", models.BooleanField(default=False, verbose_name="needs review")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("sort_order", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="Reading",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("client_id", models.UUIDField(unique=True, verbose_name="client id")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("regular", "Regular reading"),
                            ("installation", "Installation reading"),
                            ("removal", "Removal reading"),
                            ("baseline", "Reading carried over from the previous system"),
                        ],
                        default="regular",
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("field", "Field app"),
                            ("file", "Bulk file"),
                            ("office", "Office"),
                            ("demo", "Demo data"),
                        ],
                        max_length=8,
                        verbose_name="source",
                    ),
                ),
                (
                    "value",
                    models.DecimalField(
                        blank=True,
                        decimal_places=3,
                        max_digits=12,
                        null=True,
                        verbose_name="value (m³)",
                    ),
                ),
                ("captured_at", models.DateTimeField(verbose_name="captured at")),
                (
                    "received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="received at"
                    ),
                ),
                ("device_id", models.CharField(blank=True, max_length=64, verbose_name="device")),
                (
                    "position",
                    django.contrib.gis.db.models.fields.PointField(
                        blank=True,
                        null=True,
                        srid=settings.CAUDAL_SRID,
                        verbose_name="reader's position",
                    ),
                ),
                (
                    "position_accuracy_m",
                    models.FloatField(blank=True, null=True, verbose_name="position accuracy (m)"),
                ),
                ("photo_expected", models.BooleanField(default=False, verbose_name="photo taken")),
                (
                    "photo",
                    models.ImageField(
                        blank=True, upload_to="readings/%Y/%m/", verbose_name="photo"
                    ),
                ),
                (
                    "consumption",
                    models.DecimalField(
                        blank=True,
                        decimal_places=3,
                        max_digits=12,
                        null=True,
                        verbose_name="consumption (m³)",
                    ),
                ),
                ("rollover", models.BooleanField(default=False, verbose_name="dials wrapped")),
                (
                    "flags",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=20),
                        blank=True,
                        default=list,
                        size=None,
                        verbose_name="flags",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("valid", "Valid"),
                            ("flagged", "Flagged for review"),
                            ("accepted", "Accepted on review"),
                            ("rejected", "Rejected on review"),
                            ("reread", "Re-read requested"),
                        ],
                        default="valid",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
                (
                    "reviewed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reviewed at"),
                ),
                ("review_note", models.TextField(blank=True, verbose_name="review note")),
            ],
            options={
                "verbose_name": "reading",
                "verbose_name_plural": "readings",
            },
        ),
        migrations.CreateModel(
            name="ReadingAssignment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scheduled_on", models.DateField(verbose_name="scheduled on")),
            ],
            options={
                "verbose_name": "reading assignment",
                "verbose_name_plural": "reading assignments",
                "ordering": ["period", "scheduled_on", "book"],
            },
        ),
        migrations.CreateModel(
            name="ReadingAssignmentEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("scheduled_on", models.DateField(verbose_name="scheduled on")),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ReadingEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("client_id", models.UUIDField(verbose_name="client id")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("regular", "Regular reading"),
                            ("installation", "Installation reading"),
                            ("removal", "Removal reading"),
                            ("baseline", "Reading carried over from the previous system"),
                        ],
                        default="regular",
                        max_length=12,
                        verbose_name="kind",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("field", "Field app"),
                            ("file", "Bulk file"),
                            ("office", "Office"),
                            ("demo", "Demo data"),
                        ],
                        max_length=8,
                        verbose_name="source",
                    ),
                ),
                (
                    "value",
                    models.DecimalField(
                        blank=True,
                        decimal_places=3,
                        max_digits=12,
                        null=True,
                        verbose_name="value (m³)",
                    ),
                ),
                ("captured_at", models.DateTimeField(verbose_name="captured at")),
                (
                    "received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="received at"
                    ),
                ),
                ("device_id", models.CharField(blank=True, max_length=64, verbose_name="device")),
                (
                    "position",
                    django.contrib.gis.db.models.fields.PointField(
                        blank=True,
                        null=True,
                        srid=settings.CAUDAL_SRID,
                        verbose_name="reader's position",
                    ),
                ),
                (
                    "position_accuracy_m",
                    models.FloatField(blank=True, null=True, verbose_name="position accuracy (m)"),
                ),
                ("photo_expected", models.BooleanField(default=False, verbose_name="photo taken")),
                (
                    "photo",
                    models.ImageField(
                        blank=True, upload_to="readings/%Y/%m/", verbose_name="photo"
                    ),
                ),
                (
                    "consumption",
                    models.DecimalField(
                        blank=True,
                        decimal_places=3,
                        max_digits=12,
                        null=True,
                        verbose_name="consumption (m³)",
                    ),
                ),
                ("rollover", models.BooleanField(default=False, verbose_name="dials wrapped")),
                (
                    "flags",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=20),
                        blank=True,
                        default=list,
                        size=None,
                        verbose_name="flags",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("valid", "Valid"),
                            ("flagged", "Flagged for review"),
                            ("accepted", "Accepted on review"),
                            ("rejected", "Rejected on review"),
                            ("reread", "Re-read requested"),
                        ],
                        default="valid",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
                (
                    "reviewed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="reviewed at"),
                ),
                ("review_note", models.TextField(blank=True, verbose_name="review note")),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ReadingPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("cycle", models.CharField(max_length=10, verbose_name="billing cycle")),
                (
                    "code",
                    models.CharField(
                        help_text="For example 2026-03.", max_length=20, verbose_name="code"
                    ),
                ),
                ("starts_on", models.DateField(verbose_name="starts on")),
                ("ends_on", models.DateField(verbose_name="ends on")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("closed", "Closed")],
                        default="open",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
            ],
            options={
                "verbose_name": "reading period",
                "verbose_name_plural": "reading periods",
                "ordering": ["cycle", "starts_on"],
            },
        ),
        migrations.CreateModel(
            name="ReadingPeriodEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("id", models.BigIntegerField()),
                ("cycle", models.CharField(max_length=10, verbose_name="billing cycle")),
                (
                    "code",
                    models.CharField(
                        help_text="For example 2026-03.", max_length=20, verbose_name="code"
                    ),
                ),
                ("starts_on", models.DateField(verbose_name="starts on")),
                ("ends_on", models.DateField(verbose_name="ends on")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Open"), ("closed", "Closed")],
                        default="open",
                        max_length=8,
                        verbose_name="status",
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ValidationRule",
            fields=[
                (
                    "code",
                    models.CharField(
                        choices=[
                            ("below_previous", "Reading below the previous one"),
                            ("zero_consumption", "Zero consumption for several periods"),
                            ("high_consumption", "Consumption far above the account's history"),
                            ("gps_far", "Reader's position far from the meter"),
                            ("photo_missing", "Required photo missing"),
                            ("conflict", "Meter read more than once in the period"),
                            ("observation", "Observation that needs review"),
                        ],
                        max_length=20,
                        primary_key=True,
                        serialize=False,
                        verbose_name="code",
                    ),
                ),
                ("enabled", models.BooleanField(default=True, verbose_name="enabled")),
                ("params", models.JSONField(blank=True, default=dict, verbose_name="parameters")),
            ],
            options={
                "verbose_name": "validation rule",
                "verbose_name_plural": "validation rules",
                "ordering": ["code"],
            },
        ),
        migrations.CreateModel(
            name="ValidationRuleEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                (
                    "code",
                    models.CharField(
                        choices=[
                            ("below_previous", "Reading below the previous one"),
                            ("zero_consumption", "Zero consumption for several periods"),
                            ("high_consumption", "Consumption far above the account's history"),
                            ("gps_far", "Reader's position far from the meter"),
                            ("photo_missing", "Required photo missing"),
                            ("conflict", "Meter read more than once in the period"),
                            ("observation", "Observation that needs review"),
                        ],
                        max_length=20,
                        serialize=False,
                        verbose_name="code",
                    ),
                ),
                ("enabled", models.BooleanField(default=True, verbose_name="enabled")),
                ("params", models.JSONField(blank=True, default=dict, verbose_name="parameters")),
            ],
            options={
                "abstract": False,
            },
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="meter",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="meter",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="meter",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="meter",
            name="location",
            field=django.contrib.gis.db.models.fields.PointField(
                blank=True, null=True, srid=settings.CAUDAL_SRID, verbose_name="location"
            ),
        ),
        migrations.AddField(
            model_name="meter",
            name="removed_on",
            field=models.DateField(blank=True, null=True, verbose_name="removed on"),
        ),
        migrations.AddField(
            model_name="meter",
            name="technology",
            field=models.CharField(
                choices=[
                    ("single_jet", "Single-jet"),
                    ("multi_jet", "Multi-jet"),
                    ("volumetric", "Volumetric (piston)"),
                    ("woltmann", "Woltmann"),
                    ("electromagnetic", "Electromagnetic"),
                    ("ultrasonic", "Ultrasonic"),
                ],
                default="single_jet",
                max_length=16,
                verbose_name="technology",
            ),
        ),
        migrations.AddField(
            model_name="meterevent",
            name="location",
            field=django.contrib.gis.db.models.fields.PointField(
                blank=True, null=True, srid=settings.CAUDAL_SRID, verbose_name="location"
            ),
        ),
        migrations.AddField(
            model_name="meterevent",
            name="removed_on",
            field=models.DateField(blank=True, null=True, verbose_name="removed on"),
        ),
        migrations.AddField(
            model_name="meterevent",
            name="technology",
            field=models.CharField(
                choices=[
                    ("single_jet", "Single-jet"),
                    ("multi_jet", "Multi-jet"),
                    ("volumetric", "Volumetric (piston)"),
                    ("woltmann", "Woltmann"),
                    ("electromagnetic", "Electromagnetic"),
                    ("ultrasonic", "Ultrasonic"),
                ],
                default="single_jet",
                max_length=16,
                verbose_name="technology",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="meter",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_meterevent" ("account_id", "brand", "dials", "diameter_mm", "id", "installed_on", "location", "model", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "removed_on", "serial", "status", "technology") VALUES (NEW."account_id", NEW."brand", NEW."dials", NEW."diameter_mm", NEW."id", NEW."installed_on", NEW."location", NEW."model", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."removed_on", NEW."serial", NEW."status", NEW."technology"); RETURN NULL;',
                    hash="7350cb9777c78ea2c052193aa71a045222c1e546",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_5065e",
                    table="metering_meter",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="meter",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_meterevent" ("account_id", "brand", "dials", "diameter_mm", "id", "installed_on", "location", "model", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "removed_on", "serial", "status", "technology") VALUES (NEW."account_id", NEW."brand", NEW."dials", NEW."diameter_mm", NEW."id", NEW."installed_on", NEW."location", NEW."model", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."removed_on", NEW."serial", NEW."status", NEW."technology"); RETURN NULL;',
                    hash="5454e154302b325f92af85d6249e17198c6a0871",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_6dcdf",
                    table="metering_meter",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="meter",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_meterevent" ("account_id", "brand", "dials", "diameter_mm", "id", "installed_on", "location", "model", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "removed_on", "serial", "status", "technology") VALUES (OLD."account_id", OLD."brand", OLD."dials", OLD."diameter_mm", OLD."id", OLD."installed_on", OLD."location", OLD."model", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."removed_on", OLD."serial", OLD."status", OLD."technology"); RETURN NULL;',
                    hash="05057cd9b37c6fa79fff2210744e9f35a678f54d",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_488cd",
                    table="metering_meter",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="meter",
            constraint=models.CheckConstraint(
                condition=models.Q(("dials__gte", 3), ("dials__lte", 9)), name="meter_dials_range"
            ),
        ),
        migrations.AddConstraint(
            model_name="meter",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "installed"), _negated=True),
                    ("account__isnull", False),
                    _connector="OR",
                ),
                name="meter_installed_has_account",
            ),
        ),
        migrations.AddConstraint(
            model_name="meter",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("removed_on__isnull", True),
                    ("installed_on__isnull", True),
                    ("removed_on__gte", models.F("installed_on")),
                    _connector="OR",
                ),
                name="meter_removed_after_installed",
            ),
        ),
        migrations.AddField(
            model_name="accountconsumption",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consumptions",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AddField(
            model_name="accountconsumptionevent",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AddField(
            model_name="accountconsumptionevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="accountconsumptionevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.accountconsumption",
            ),
        ),
        migrations.AddField(
            model_name="ingestbatch",
            name="uploaded_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="uploaded by",
            ),
        ),
        migrations.AddField(
            model_name="ingestbatchevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="ingestbatchevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.ingestbatch",
            ),
        ),
        migrations.AddField(
            model_name="ingestbatchevent",
            name="uploaded_by",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="uploaded by",
            ),
        ),
        migrations.AddField(
            model_name="ingestrejection",
            name="batch",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rejections",
                to="metering.ingestbatch",
                verbose_name="file",
            ),
        ),
        migrations.AddField(
            model_name="ingestrejectionevent",
            name="batch",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.ingestbatch",
                verbose_name="file",
            ),
        ),
        migrations.AddField(
            model_name="ingestrejectionevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="ingestrejectionevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.ingestrejection",
            ),
        ),
        migrations.AddField(
            model_name="meterchange",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="meter_changes",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AddField(
            model_name="meterchange",
            name="created_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AddField(
            model_name="meterchange",
            name="installed_meter",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="installations",
                to="metering.meter",
                verbose_name="installed meter",
            ),
        ),
        migrations.AddField(
            model_name="meterchange",
            name="removed_meter",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="removals",
                to="metering.meter",
                verbose_name="removed meter",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="created_by",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="installed_meter",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.meter",
                verbose_name="installed meter",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.meterchange",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="removed_meter",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.meter",
                verbose_name="removed meter",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observationcode",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_observationcodeevent" ("active", "code", "label", "needs_review", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_photo", "sort_order", "value_allowed") VALUES (NEW."active", NEW."code", NEW."label", NEW."needs_review", _pgh_attach_context(), NOW(), \'insert\', NEW."code", NEW."requires_photo", NEW."sort_order", NEW."value_allowed"); RETURN NULL;',
                    hash="463310cee2db45a01fed89bdf40bda84892a16f1",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_a4487",
                    table="metering_observationcode",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observationcode",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_observationcodeevent" ("active", "code", "label", "needs_review", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_photo", "sort_order", "value_allowed") VALUES (NEW."active", NEW."code", NEW."label", NEW."needs_review", _pgh_attach_context(), NOW(), \'update\', NEW."code", NEW."requires_photo", NEW."sort_order", NEW."value_allowed"); RETURN NULL;',
                    hash="4ce91e56ea9461ae3c453cd19a8f4fbf3971c424",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_60a0d",
                    table="metering_observationcode",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="observationcode",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_observationcodeevent" ("active", "code", "label", "needs_review", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "requires_photo", "sort_order", "value_allowed") VALUES (OLD."active", OLD."code", OLD."label", OLD."needs_review", _pgh_attach_context(), NOW(), \'delete\', OLD."code", OLD."requires_photo", OLD."sort_order", OLD."value_allowed"); RETURN NULL;',
                    hash="b24d6ffcd290f86724a373af72df7d4de40498d3",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_04007",
                    table="metering_observationcode",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="observationcodeevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="observationcodeevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.observationcode",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="metering.ingestbatch",
                verbose_name="file",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="meter",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="metering.meter",
                verbose_name="meter",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="observation",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="metering.observationcode",
                verbose_name="observation",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="reader",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="meter reader",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="reviewed by",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="work_order",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="orders.workorder",
                verbose_name="inspection order",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="installation_reading",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.reading",
                verbose_name="installation reading",
            ),
        ),
        migrations.AddField(
            model_name="meterchangeevent",
            name="removal_reading",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.reading",
                verbose_name="removal reading",
            ),
        ),
        migrations.AddField(
            model_name="meterchange",
            name="installation_reading",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="metering.reading",
                verbose_name="installation reading",
            ),
        ),
        migrations.AddField(
            model_name="meterchange",
            name="removal_reading",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="metering.reading",
                verbose_name="removal reading",
            ),
        ),
        migrations.AddField(
            model_name="readingassignment",
            name="book",
            field=models.ForeignKey(
                limit_choices_to={"level": "book"},
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reading_assignments",
                to="sectors.commercialarea",
                verbose_name="reading book",
            ),
        ),
        migrations.AddField(
            model_name="readingassignment",
            name="reader",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reading_assignments",
                to=settings.AUTH_USER_MODEL,
                verbose_name="meter reader",
            ),
        ),
        migrations.AddField(
            model_name="readingassignmentevent",
            name="book",
            field=models.ForeignKey(
                db_constraint=False,
                limit_choices_to={"level": "book"},
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="sectors.commercialarea",
                verbose_name="reading book",
            ),
        ),
        migrations.AddField(
            model_name="readingassignmentevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="readingassignmentevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.readingassignment",
            ),
        ),
        migrations.AddField(
            model_name="readingassignmentevent",
            name="reader",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="meter reader",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="cadastre.serviceaccount",
                verbose_name="service account",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.ingestbatch",
                verbose_name="file",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="meter",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.meter",
                verbose_name="meter",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="observation",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.observationcode",
                verbose_name="observation",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.reading",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="reader",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="meter reader",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="reviewed_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="reviewed by",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="work_order",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="orders.workorder",
                verbose_name="inspection order",
            ),
        ),
        migrations.AddConstraint(
            model_name="readingperiod",
            constraint=models.UniqueConstraint(
                fields=("cycle", "code"), name="readingperiod_code_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="readingperiod",
            constraint=models.CheckConstraint(
                condition=models.Q(("starts_on__lte", models.F("ends_on"))),
                name="readingperiod_dates_ordered",
            ),
        ),
        migrations.AddConstraint(
            model_name="readingperiod",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                expressions=[
                    ("cycle", "="),
                    (metering.models.DateRange("starts_on", "ends_on", models.Value("[]")), "&&"),
                ],
                name="readingperiod_no_overlap",
            ),
        ),
        migrations.AddField(
            model_name="readingevent",
            name="period",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AddField(
            model_name="readingassignmentevent",
            name="period",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AddField(
            model_name="readingassignment",
            name="period",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AddField(
            model_name="reading",
            name="period",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="readings",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AddField(
            model_name="ingestbatchevent",
            name="period",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.readingperiod",
                verbose_name="period",
            ),
        ),
        migrations.AddField(
            model_name="ingestbatch",
            name="period",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="metering.readingperiod",
                verbose_name="period",
            ),
        ),
        migrations.AddField(
            model_name="accountconsumptionevent",
            name="period",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AddField(
            model_name="accountconsumption",
            name="period",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consumptions",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingperiod",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_readingperiodevent" ("code", "cycle", "ends_on", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "starts_on", "status") VALUES (NEW."code", NEW."cycle", NEW."ends_on", NEW."id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."starts_on", NEW."status"); RETURN NULL;',
                    hash="0ed47cf8b68a2261dba4965bbf28b172eb53329a",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_bbedc",
                    table="metering_readingperiod",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingperiod",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_readingperiodevent" ("code", "cycle", "ends_on", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "starts_on", "status") VALUES (NEW."code", NEW."cycle", NEW."ends_on", NEW."id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."starts_on", NEW."status"); RETURN NULL;',
                    hash="948936079af04516d337042d085d610597eefceb",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_86a87",
                    table="metering_readingperiod",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingperiod",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_readingperiodevent" ("code", "cycle", "ends_on", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "starts_on", "status") VALUES (OLD."code", OLD."cycle", OLD."ends_on", OLD."id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."starts_on", OLD."status"); RETURN NULL;',
                    hash="d260b1ebbb63f7609f9339c3eb235034a5a3e99e",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_46284",
                    table="metering_readingperiod",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="readingperiodevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="readingperiodevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.readingperiod",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="validationrule",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_validationruleevent" ("code", "enabled", "params", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."code", NEW."enabled", NEW."params", _pgh_attach_context(), NOW(), \'insert\', NEW."code"); RETURN NULL;',
                    hash="f5aff226e8c7228dc1a8374bd74e71d48dcd83af",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_466d3",
                    table="metering_validationrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="validationrule",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_validationruleevent" ("code", "enabled", "params", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (NEW."code", NEW."enabled", NEW."params", _pgh_attach_context(), NOW(), \'update\', NEW."code"); RETURN NULL;',
                    hash="3b66788fce86f02408151a2b56628f0cd7237e79",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_24048",
                    table="metering_validationrule",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="validationrule",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_validationruleevent" ("code", "enabled", "params", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id") VALUES (OLD."code", OLD."enabled", OLD."params", _pgh_attach_context(), NOW(), \'delete\', OLD."code"); RETURN NULL;',
                    hash="3b93e961ccf146f36bdf25ea241c294cc7ca1cfe",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_124d8",
                    table="metering_validationrule",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="validationruleevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="validationruleevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="events",
                to="metering.validationrule",
            ),
        ),
        migrations.AddIndex(
            model_name="ingestrejection",
            index=models.Index(fields=["batch", "row_no"], name="ingestrejection_batch"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestrejection",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_ingestrejectionevent" ("batch_id", "code", "id", "message", "meter_ref", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_no") VALUES (NEW."batch_id", NEW."code", NEW."id", NEW."message", NEW."meter_ref", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."row_no"); RETURN NULL;',
                    hash="b0c156901069249c6ef4b2a6ecb2db2ef2a8ff95",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_c0009",
                    table="metering_ingestrejection",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestrejection",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_ingestrejectionevent" ("batch_id", "code", "id", "message", "meter_ref", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "row_no") VALUES (OLD."batch_id", OLD."code", OLD."id", OLD."message", OLD."meter_ref", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."row_no"); RETURN NULL;',
                    hash="a41d558198a75722b58c375f94cd43266cfd3eb2",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_5ed13",
                    table="metering_ingestrejection",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="meterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("removed_meter__isnull", False),
                    ("installed_meter__isnull", False),
                    _connector="OR",
                ),
                name="meterchange_removes_or_installs",
            ),
        ),
        migrations.AddConstraint(
            model_name="meterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("removed_meter__isnull", True),
                    ("removal_reading__isnull", False),
                    _connector="OR",
                ),
                name="meterchange_removal_has_reading",
            ),
        ),
        migrations.AddConstraint(
            model_name="meterchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("installed_meter__isnull", True),
                    ("installation_reading__isnull", False),
                    _connector="OR",
                ),
                name="meterchange_installation_has_reading",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="meterchange",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_meterchangeevent" ("account_id", "changed_at", "created_by_id", "id", "installation_reading_id", "installed_meter_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "removal_reading_id", "removed_meter_id") VALUES (NEW."account_id", NEW."changed_at", NEW."created_by_id", NEW."id", NEW."installation_reading_id", NEW."installed_meter_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."reason", NEW."removal_reading_id", NEW."removed_meter_id"); RETURN NULL;',
                    hash="4a874317908049bc63ddc8d131d0291de48014cc",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_fe437",
                    table="metering_meterchange",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="meterchange",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_meterchangeevent" ("account_id", "changed_at", "created_by_id", "id", "installation_reading_id", "installed_meter_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "removal_reading_id", "removed_meter_id") VALUES (NEW."account_id", NEW."changed_at", NEW."created_by_id", NEW."id", NEW."installation_reading_id", NEW."installed_meter_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."reason", NEW."removal_reading_id", NEW."removed_meter_id"); RETURN NULL;',
                    hash="c4080597d95ead21afec5527d843d58aae2be6a4",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_a05d3",
                    table="metering_meterchange",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="meterchange",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_meterchangeevent" ("account_id", "changed_at", "created_by_id", "id", "installation_reading_id", "installed_meter_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reason", "removal_reading_id", "removed_meter_id") VALUES (OLD."account_id", OLD."changed_at", OLD."created_by_id", OLD."id", OLD."installation_reading_id", OLD."installed_meter_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."reason", OLD."removal_reading_id", OLD."removed_meter_id"); RETURN NULL;',
                    hash="9d4f320255b983d1b33847601f14f5e9102692bc",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_061ea",
                    table="metering_meterchange",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="readingassignment",
            index=models.Index(fields=["reader", "scheduled_on"], name="readingassign_reader"),
        ),
        migrations.AddConstraint(
            model_name="readingassignment",
            constraint=models.UniqueConstraint(
                fields=("period", "book"), name="readingassignment_one_per_book"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingassignment",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_readingassignmentevent" ("book_id", "id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reader_id", "scheduled_on") VALUES (NEW."book_id", NEW."id", NEW."period_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."reader_id", NEW."scheduled_on"); RETURN NULL;',
                    hash="e1455c0c1b39477d59e9fda936c7a5e60942696b",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_01309",
                    table="metering_readingassignment",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingassignment",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_readingassignmentevent" ("book_id", "id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reader_id", "scheduled_on") VALUES (NEW."book_id", NEW."id", NEW."period_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."reader_id", NEW."scheduled_on"); RETURN NULL;',
                    hash="4eebaa269ad5490d23e18398192751ce52cbb8d4",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_ff8ea",
                    table="metering_readingassignment",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="readingassignment",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_readingassignmentevent" ("book_id", "id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reader_id", "scheduled_on") VALUES (OLD."book_id", OLD."id", OLD."period_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."reader_id", OLD."scheduled_on"); RETURN NULL;',
                    hash="1a1b1fa2d7d2ec24bcf541c4e113c12b765d05db",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_e9594",
                    table="metering_readingassignment",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(fields=["meter", "captured_at", "id"], name="reading_meter_time"),
        ),
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(fields=["period", "account"], name="reading_period_account"),
        ),
        migrations.AddIndex(
            model_name="reading",
            index=models.Index(
                condition=models.Q(("status", "flagged")),
                fields=["period", "received_at"],
                name="reading_review_queue",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(("value__gte", 0)), name="reading_value_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("value__isnull", False), ("observation__isnull", False), _connector="OR"
                ),
                name="reading_value_or_observation",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ["installation", "removal", "baseline"]), _negated=True),
                    ("value__isnull", False),
                    _connector="OR",
                ),
                name="reading_swap_has_value",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["valid", "flagged", "accepted", "rejected", "reread"])
                ),
                name="reading_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status__in", ["valid", "flagged"]), _negated=True),
                    models.Q(("flags__len__gt", 0), ("status", "flagged")),
                    models.Q(("flags__len", 0), ("status", "valid")),
                    _connector="OR",
                ),
                name="reading_flagged_iff_flags",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["valid", "flagged"]),
                    ("reviewed_at__isnull", False),
                    _connector="OR",
                ),
                name="reading_review_has_date",
            ),
        ),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("position_accuracy_m__isnull", True),
                    ("position_accuracy_m__gte", 0),
                    _connector="OR",
                ),
                name="reading_accuracy_not_negative",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reading",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_readingevent" ("account_id", "batch_id", "captured_at", "client_id", "consumption", "device_id", "flags", "id", "kind", "meter_id", "observation_id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "photo", "photo_expected", "position", "position_accuracy_m", "reader_id", "received_at", "review_note", "reviewed_at", "reviewed_by_id", "rollover", "source", "status", "value", "work_order_id") VALUES (NEW."account_id", NEW."batch_id", NEW."captured_at", NEW."client_id", NEW."consumption", NEW."device_id", NEW."flags", NEW."id", NEW."kind", NEW."meter_id", NEW."observation_id", NEW."period_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."photo", NEW."photo_expected", NEW."position", NEW."position_accuracy_m", NEW."reader_id", NEW."received_at", NEW."review_note", NEW."reviewed_at", NEW."reviewed_by_id", NEW."rollover", NEW."source", NEW."status", NEW."value", NEW."work_order_id"); RETURN NULL;',
                    hash="788c640b4061595fe64bebdb060b57b41f3601fc",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_37528",
                    table="metering_reading",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reading",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_readingevent" ("account_id", "batch_id", "captured_at", "client_id", "consumption", "device_id", "flags", "id", "kind", "meter_id", "observation_id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "photo", "photo_expected", "position", "position_accuracy_m", "reader_id", "received_at", "review_note", "reviewed_at", "reviewed_by_id", "rollover", "source", "status", "value", "work_order_id") VALUES (OLD."account_id", OLD."batch_id", OLD."captured_at", OLD."client_id", OLD."consumption", OLD."device_id", OLD."flags", OLD."id", OLD."kind", OLD."meter_id", OLD."observation_id", OLD."period_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."photo", OLD."photo_expected", OLD."position", OLD."position_accuracy_m", OLD."reader_id", OLD."received_at", OLD."review_note", OLD."reviewed_at", OLD."reviewed_by_id", OLD."rollover", OLD."source", OLD."status", OLD."value", OLD."work_order_id"); RETURN NULL;',
                    hash="0c02f33e073d619a10a671b7226335b9ff029b03",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_57c9c",
                    table="metering_reading",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ingestbatch",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_ingestbatchevent" ("accepted", "created_at", "duplicates", "file_name", "flagged", "id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rejected", "rows", "sha256", "uploaded_by_id") VALUES (NEW."accepted", NEW."created_at", NEW."duplicates", NEW."file_name", NEW."flagged", NEW."id", NEW."period_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."rejected", NEW."rows", NEW."sha256", NEW."uploaded_by_id"); RETURN NULL;',
                    hash="e4f558dcf8c963a4846c3f6215e9801e7d5acfe4",
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
                    func='INSERT INTO "metering_ingestbatchevent" ("accepted", "created_at", "duplicates", "file_name", "flagged", "id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rejected", "rows", "sha256", "uploaded_by_id") VALUES (NEW."accepted", NEW."created_at", NEW."duplicates", NEW."file_name", NEW."flagged", NEW."id", NEW."period_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."rejected", NEW."rows", NEW."sha256", NEW."uploaded_by_id"); RETURN NULL;',
                    hash="c9176c3e4c61074b66e14940a411df78bcb38cb8",
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
                    func='INSERT INTO "metering_ingestbatchevent" ("accepted", "created_at", "duplicates", "file_name", "flagged", "id", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "rejected", "rows", "sha256", "uploaded_by_id") VALUES (OLD."accepted", OLD."created_at", OLD."duplicates", OLD."file_name", OLD."flagged", OLD."id", OLD."period_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."rejected", OLD."rows", OLD."sha256", OLD."uploaded_by_id"); RETURN NULL;',
                    hash="93df9b1b06b1e551c43e5e5f4b9480b60ecbe43c",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_9b531",
                    table="metering_ingestbatch",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="accountconsumption",
            index=models.Index(fields=["period", "method"], name="accountconsumption_period"),
        ),
        migrations.AddConstraint(
            model_name="accountconsumption",
            constraint=models.UniqueConstraint(
                fields=("account", "period"), name="accountconsumption_one_per_period"
            ),
        ),
        migrations.AddConstraint(
            model_name="accountconsumption",
            constraint=models.CheckConstraint(
                condition=models.Q(("volume_m3__gte", 0)), name="accountconsumption_not_negative"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="accountconsumption",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_accountconsumptionevent" ("account_id", "basis_count", "computed_at", "id", "method", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "volume_m3") VALUES (NEW."account_id", NEW."basis_count", NEW."computed_at", NEW."id", NEW."method", NEW."period_id", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."volume_m3"); RETURN NULL;',
                    hash="cfc80ffa422bf0c2a604189d2f02376b5d3da1d1",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_427a6",
                    table="metering_accountconsumption",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="accountconsumption",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "metering_accountconsumptionevent" ("account_id", "basis_count", "computed_at", "id", "method", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "volume_m3") VALUES (NEW."account_id", NEW."basis_count", NEW."computed_at", NEW."id", NEW."method", NEW."period_id", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."volume_m3"); RETURN NULL;',
                    hash="95bbea911d86352cd478b9845257defa06fc7a5d",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_214cc",
                    table="metering_accountconsumption",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="accountconsumption",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "metering_accountconsumptionevent" ("account_id", "basis_count", "computed_at", "id", "method", "period_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "volume_m3") VALUES (OLD."account_id", OLD."basis_count", OLD."computed_at", OLD."id", OLD."method", OLD."period_id", _pgh_attach_context(), NOW(), \'delete\', OLD."id", OLD."volume_m3"); RETURN NULL;',
                    hash="d496e7c70fb4719a4524ae2705e3ea3eda92e4c6",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_1ddf4",
                    table="metering_accountconsumption",
                    when="AFTER",
                ),
            ),
        ),
    ]
