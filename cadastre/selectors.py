"""Read-side queries of the cadastre."""

from django.contrib.gis.db.models import MultiPolygonField
from django.contrib.gis.db.models.functions import Transform
from django.db.models import F, Func, Value

from cadastre.models import Locality
from gis_core.srid import WGS84

OVERVIEW_TOLERANCE_M = 5.0


def locality_overview_list():
    """Every locality with its boundary simplified to 5 m and in WGS 84, for overview maps.

    Simplification keeps a 1M-account city's ~1,500 colonias around a megabyte of GeoJSON.
    """
    srid = Locality._meta.get_field("geom").srid
    simplified = Func(
        Func(F("geom"), Value(OVERVIEW_TOLERANCE_M), function="ST_SimplifyPreserveTopology"),
        function="ST_Multi",
        output_field=MultiPolygonField(srid=srid),
    )
    return (
        Locality.objects.annotate(geom_wgs84=Transform(simplified, WGS84))
        .only("id", "code", "name", "kind", "postal_code")
        .order_by("code")
    )
