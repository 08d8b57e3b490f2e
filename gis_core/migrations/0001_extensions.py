from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    """PostGIS for geometry, pgRouting for the street graph (routes, traces)."""

    initial = True
    dependencies = []
    operations = [CreateExtension("postgis"), CreateExtension("pgrouting")]
