"""manage.py export_layer parcels gpkg out_dir --land-use commercial --locality 0012"""

import shutil
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cadastre.exporters import EXPORTS, layer_export
from gis_core.io import FORMATS, LayerIOError


class Command(BaseCommand):
    help = "Export a layer (optionally filtered) as GeoPackage, zipped Shapefile, GeoJSON or CSV."

    def add_arguments(self, parser):
        parser.add_argument("layer", choices=sorted(EXPORTS))
        parser.add_argument("format", choices=sorted(FORMATS))
        parser.add_argument("directory", type=Path)
        parser.add_argument("--locality")
        parser.add_argument("--land-use")
        parser.add_argument("--status")
        parser.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat")

    def handle(self, *args, layer, format, directory, **options):
        filters = {k: options[k] for k in ("locality", "land_use", "status", "bbox")}
        directory.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix="caudal-export-"))
        try:
            path = layer_export(layer=layer, fmt=format, filters=filters, workdir=workdir)
            target = directory / path.name
            shutil.move(path, target)
        except LayerIOError as exc:
            raise CommandError(exc.message) from exc
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        self.stdout.write(str(target))
