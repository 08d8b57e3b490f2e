"""The installation's spatial reference policy.

Every stored geometry uses one projected CRS (``settings.CAUDAL_SRID``, metres), so areas,
lengths and tolerances are plain numbers. Input in other CRSs is transformed on the way in;
output is transformed on the way out (GeoJSON in 4326, tiles in 3857). Queries transform their
envelope into the storage CRS, never the indexed column.
"""

from django.conf import settings

WGS84 = 4326
WEB_MERCATOR = 3857


def storage_srid() -> int:
    return settings.CAUDAL_SRID
