"""Fewer indexes on the big tables: consumption's foreign keys are served by its composite
indexes; nothing searches readings by the reader's position (no GiST to maintain)."""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cadastre", "0006_tile_invalidation"),
        ("metering", "0004_try_casts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accountconsumption",
            name="account",
            field=models.ForeignKey(
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
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="consumptions",
                to="metering.readingperiod",
                verbose_name="reading period",
            ),
        ),
        migrations.AlterField(
            model_name="reading",
            name="position",
            field=django.contrib.gis.db.models.fields.PointField(
                blank=True,
                null=True,
                spatial_index=False,
                srid=settings.CAUDAL_SRID,
                verbose_name="reader's position",
            ),
        ),
        migrations.AlterField(
            model_name="readingevent",
            name="position",
            field=django.contrib.gis.db.models.fields.PointField(
                blank=True,
                null=True,
                spatial_index=False,
                srid=settings.CAUDAL_SRID,
                verbose_name="reader's position",
            ),
        ),
    ]
