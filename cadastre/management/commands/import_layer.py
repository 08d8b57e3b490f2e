"""manage.py import_layer parcels predios.gpkg --map clave=cadastral_key --srid 6372"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cadastre.importers import LAYERS, MODES, file_chunks, layer_import
from core.history import command_context
from gis_core.io import LayerIOError


class Command(BaseCommand):
    help = "Import a layer file (GeoPackage, zipped Shapefile, GeoJSON, CSV+WKT); all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("layer", choices=sorted(LAYERS))
        parser.add_argument("path", type=Path)
        parser.add_argument("--map", action="append", default=[], help="source=field (repeat)")
        parser.add_argument("--srid", type=int, help="EPSG code of the source, if it lacks one")
        parser.add_argument("--mode", choices=MODES, default="create")
        parser.add_argument("--layer-name", help="layer inside a multi-layer file")

    def handle(self, *args, layer, path, map, srid, mode, layer_name, **options):
        mapping = {}
        for item in map:
            source, sep, target = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes source=field, not {item!r}")
            mapping[source] = target
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        try:
            with command_context("import_layer", path=str(path)):
                report = layer_import(
                    layer=layer,
                    chunks=file_chunks(path),
                    name=path.name,
                    field_map=mapping,
                    source_srid=srid,
                    mode=mode,
                    layer_name=layer_name,
                )
        except LayerIOError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        if not report.written:
            sys.exit(1)
