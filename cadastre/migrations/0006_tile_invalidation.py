"""Cadastre's layer tables bump their tile-cache generation on every write (tiles.invalidation)."""

from django.db import migrations

from tiles.invalidation import track_tables


class Migration(migrations.Migration):
    dependencies = [("cadastre", "0005_search"), ("tiles", "0001_initial")]

    operations = [
        track_tables(
            "cadastre_locality",
            "cadastre_block",
            "cadastre_streetsegment",
            "cadastre_parcel",
            "cadastre_serviceaccount",
        )
    ]
