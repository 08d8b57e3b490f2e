from django.db import migrations

from tiles.invalidation import track_tables


class Migration(migrations.Migration):
    """Work-order writes bump the tile generation, so open-order heat tiles refresh at once."""

    dependencies = [("orders", "0002_role_permissions"), ("tiles", "0001_initial")]
    operations = [track_tables("orders_workorder")]
