"""Geometry input every API shares: GeoJSON geometries and lon/lat bounding boxes.

Boxes arrive in WGS 84 longitude/latitude; they are densified and transformed into the
storage CRS once, in Python, and compared with the stored (indexed) geometry. The column is
never transformed, so the GiST index answers the query.
"""

import json

from django.contrib.gis.gdal import CoordTransform, GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gis_core.srid import WGS84, storage_srid

# Points per edge of the box before transforming it: a lon/lat edge is a curve in UTM, and a
# box a few kilometres wide bends by centimetres; 16 points keep it well under that.
BBOX_EDGE_POINTS = 16


def lonlat_bbox_parse(raw: str) -> tuple[float, float, float, float]:
    """``"minlon,minlat,maxlon,maxlat"`` → four floats; ``ValueError`` with a translated
    message saying what a box must look like."""
    try:
        values = tuple(float(v) for v in raw.split(","))
    except (AttributeError, ValueError):
        values = ()
    if len(values) != 4 or not (
        -180 <= values[0] < values[2] <= 180 and -90 <= values[1] < values[3] <= 90
    ):
        raise ValueError(
            _(
                "Give the box as min lon,min lat,max lon,max lat in WGS 84 degrees, the minimum "
                "below the maximum, within -180…180 and -90…90."
            )
        )
    return values


def storage_envelope(min_x: float, min_y: float, max_x: float, max_y: float) -> Polygon:
    """A WGS 84 box as a densified polygon in the storage CRS (its edges bow there)."""
    ring = []
    corners = [(min_x, min_y), (max_x, min_y), (max_x, max_y), (min_x, max_y)]
    for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
        for i in range(BBOX_EDGE_POINTS):
            t = i / BBOX_EDGE_POINTS
            ring.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    ring.append(ring[0])
    box = Polygon(ring, srid=WGS84)
    box.transform(CoordTransform(SpatialReference(WGS84), SpatialReference(storage_srid())))
    return box


@extend_schema_field(
    {"type": "object", "description": "GeoJSON geometry (WGS 84 unless it has a crs)"}
)
class GeoJSONGeometryInput(serializers.Field):
    """A GeoJSON geometry (object or string); without a ``crs`` member it is WGS 84."""

    def to_internal_value(self, data):
        text = data if isinstance(data, str) else json.dumps(data)
        try:
            geom = GEOSGeometry(text)
        except (GEOSException, GDALException, ValueError, TypeError):
            raise serializers.ValidationError(_("Not a valid GeoJSON geometry.")) from None
        if not geom.srid:
            geom.srid = WGS84
        return geom

    def to_representation(self, value):
        return json.loads(value.transform(WGS84, clone=True).geojson)
