"""Import and export of vector layers through GDAL (``ogr2ogr``), for every app.

- :mod:`gis_core.io.uploads`: refuse unsafe or oversized uploads before touching them, unpack
  zipped Shapefiles into a directory the server names, read a source's layer, CRS and count.
- :mod:`gis_core.io.staging`: load a source into a throw-away table of the ``import_staging``
  schema with real ``ogr2ogr`` (COPY, reprojected to the storage CRS, 2D), list its columns,
  match a field mapping, drop the table.
- :mod:`gis_core.io.exporting`: write the rows of a SQL query to GeoPackage, zipped Shapefile,
  GeoJSON (EPSG:4326) or CSV with WKT, again with ``ogr2ogr``.

Domain apps say *what* a layer is (fields, checks, target table); this package knows nothing of
them.
"""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class LayerIOError(DomainError):
    """An upload or export that is refused as a whole: ``code`` for programs, ``message`` for
    people (translated)."""


FORMATS = {
    # name: (GDAL driver, file suffix, label)
    "gpkg": ("GPKG", ".gpkg", _("GeoPackage")),
    "shp": ("ESRI Shapefile", ".zip", _("Zipped Shapefile")),
    "geojson": ("GeoJSON", ".geojson", _("GeoJSON")),
    "csv": ("CSV", ".csv", _("CSV with a WKT column")),
}
