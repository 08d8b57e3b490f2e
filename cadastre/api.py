from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from cadastre.models import Locality
from cadastre.selectors import locality_overview_list


@extend_schema_field(
    {"type": "object", "description": "GeoJSON MultiPolygon in WGS 84 (EPSG:4326)"}
)
class Wgs84GeometryField(GeometryField):
    """A geometry read from a ``Transform(…, 4326)`` annotation rather than a model field."""


class LocalityOverviewApi(ListAPIView):
    """Localities (colonias) as a GeoJSON FeatureCollection in WGS 84, simplified to 5 m."""

    pagination_class = None

    class OutputSerializer(GeoFeatureModelSerializer):
        # Named after the model field (for the OpenAPI schema), read from the WGS 84 annotation.
        geom = Wgs84GeometryField(source="geom_wgs84", precision=6, remove_duplicates=True)
        kind_label = serializers.CharField(source="get_kind_display")

        class Meta:
            model = Locality
            geo_field = "geom"
            fields = ("id", "code", "name", "kind", "kind_label", "postal_code")

    serializer_class = OutputSerializer

    def get_queryset(self):
        return locality_overview_list()
