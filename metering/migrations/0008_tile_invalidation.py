"""Metering's layer tables bump their tile-cache generation on every write (tiles.invalidation).

One statement-level trigger each: a million-row readings file bumps the generation once."""

from django.db import migrations

from tiles.invalidation import track_tables


class Migration(migrations.Migration):
    dependencies = [("metering", "0007_batch_period_code"), ("tiles", "0001_initial")]

    operations = [track_tables("metering_meter", "metering_reading")]
