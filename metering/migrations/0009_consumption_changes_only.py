"""Per-account consumption records recomputations and deletes, not its first computation."""

import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0008_tile_invalidation"),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="accountconsumption",
            name="insert_insert",
        ),
    ]
