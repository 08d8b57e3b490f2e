"""The installation's spatial reference policy.

Every stored geometry uses one projected CRS (``settings.CAUDAL_SRID``, metres), so areas,
lengths and tolerances are plain numbers. Input in other CRSs is transformed on the way in;
output is transformed on the way out (GeoJSON in 4326, tiles in 3857). Queries transform their
envelope into the storage CRS, never the indexed column.
"""

from django.conf import settings

WGS84 = 4326
WEB_MERCATOR = 3857
# GeoJSON out: 7 decimals of a degree ≈ 1 cm, enough for features drawn in metres, no float
# noise.
COORDINATE_PRECISION = 7


def storage_srid() -> int:
    return settings.CAUDAL_SRID


def to_storage_point(point, *, error, field: str = "location"):
    """``point`` (a GEOS point with an SRID, any CRS) in the storage CRS, as a new object.

    Raises ``error`` (an app's :class:`core.errors.DomainError` subclass, so each app's API
    answers its own errors) with code ``point_invalid`` for anything but one non-empty point,
    ``srid_missing`` for a point without a coordinate system, ``srid_invalid`` for one GDAL
    cannot convert — each message saying what to send instead, on ``field``.
    """
    from django.contrib.gis.gdal import GDALException
    from django.contrib.gis.geos import GEOSException, GEOSGeometry
    from django.utils.translation import gettext as _

    if not isinstance(point, GEOSGeometry) or point.geom_type != "Point" or point.empty:
        raise error("point_invalid", _("The location must be a point."), field=field)
    if not point.srid:
        raise error("srid_missing", _("The point has no coordinate system (SRID)."), field=field)
    try:
        return point.transform(storage_srid(), clone=True)
    except (GDALException, GEOSException) as exc:
        raise error(
            "srid_invalid",
            _("The point's coordinate system (SRID %(srid)s) cannot be converted.")
            % {"srid": point.srid},
            field=field,
        ) from exc


LONLAT_DECIMALS = 6  # about 0.1 m: enough for a parcel, a meter box or an order's place


def lonlat(point, decimals: int = LONLAT_DECIMALS) -> list[float] | None:
    """``[lon, lat]`` in WGS 84 of a stored point (any SRID), rounded; None for no point.
    The one shape every API answers positions in."""
    if point is None:
        return None
    if point.srid != WGS84:
        point = point.transform(WGS84, clone=True)
    return [round(point.x, decimals), round(point.y, decimals)]


def geojson_4326_sql(column: str):
    """A queryset annotation: the ``column`` (storage CRS) as GeoJSON text in WGS 84."""
    from django.contrib.gis.db.models.functions import AsGeoJSON, Transform

    # PostGIS writes the GeoJSON: about 4x faster than GEOS objects through a serializer field
    # for the thousands of features of a street-level view.
    return AsGeoJSON(Transform(column, WGS84), precision=COORDINATE_PRECISION)
