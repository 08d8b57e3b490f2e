"""The sector layers' tables bump their tile-cache generation on every write (tiles.invalidation)."""

from django.db import migrations

from tiles.invalidation import track_tables


class Migration(migrations.Migration):
    dependencies = [("sectors", "0003_role_permissions"), ("tiles", "0001_initial")]

    operations = [track_tables("sectors_commercialarea", "sectors_dma", "sectors_tariffzone")]
