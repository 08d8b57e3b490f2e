"""Partial GiST indexes on the pieces, one per kind (0005 declared them through Django, whose
PostGIS schema editor drops an index's condition on a geometry column: they came out as five
full indexes, and every probe walked the pieces of all kinds)."""

from django.db import migrations

from sectors.models import AreaKind

KINDS = [str(kind) for kind in AreaKind.values]


class Migration(migrations.Migration):
    dependencies = [("sectors", "0005_piece_indexes_per_kind")]

    operations = [
        *(
            migrations.RemoveIndex(model_name="areapiece", name=f"areapiece_{kind}_geom")
            for kind in KINDS
        ),
        migrations.RunSQL(
            [
                f"CREATE INDEX areapiece_{kind}_geom ON sectors_areapiece USING gist (geom)"
                f" WHERE kind = '{kind}'"
                for kind in KINDS
            ],
            [f"DROP INDEX IF EXISTS areapiece_{kind}_geom" for kind in KINDS],
        ),
    ]
