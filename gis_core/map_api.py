"""The map shell's API under /api/map/: the layer catalogue of the signed-in user and the info
panel of a place.

Both read declarations only (the layer registry, the info registry): an app that adds a layer
or an info section changes nothing here.
"""

from __future__ import annotations

import math

from django.apps import apps
from django.contrib.gis.db.models.functions import Transform
from django.contrib.gis.geos import Point
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField

from gis_core.info import POINT_FINDER, info_sections
from gis_core.info import registry as info_registry
from gis_core.layers import Layer, LayerFilter, heat_weight_label
from gis_core.layers import registry as layer_registry
from gis_core.orthophotos import orthophoto_list
from gis_core.srid import WGS84, storage_srid

COORDINATE_PRECISION = 6  # decimal degrees: about 0.1 m
ORTHOPHOTO_PERMISSION = "gis_core.view_orthophoto"

# Heat-map weights have names in code ("count", "debt"); these are the words people read.


# --- Selectors of the catalogue -------------------------------------------------------------


def _url_template(viewname: str, fallback: str, **kwargs) -> str:
    """The URL of a tile view with ``{z}/{x}/{y}`` left for Leaflet to fill in.

    Reversed with sentinel numbers (the tile routes take integers), then the sentinels are
    put back as placeholders. When the tile app names its routes differently the documented
    path under the project's script prefix is used: the layer list never breaks the page."""
    sentinels = {"z": 910001, "x": 910002, "y": 910003}
    try:
        url = reverse(viewname, kwargs={**kwargs, **sentinels})
    except NoReverseMatch:
        return get_script_prefix() + fallback
    for name, value in sentinels.items():
        url = url.replace(str(value), "{" + name + "}")
    return url


def _choice_labels(layer: Layer, layer_filter: LayerFilter) -> dict[str, str]:
    """Translated labels of a filter's values, from the model field behind the column.

    The registry names tables and columns, not models: the model whose table the layer reads
    and whose field has that column gives the labels (e.g. land_use → "Uso habitacional")."""
    for model in apps.get_models():
        if model._meta.db_table not in layer.tables:
            continue
        for model_field in model._meta.concrete_fields:
            if model_field.column == layer_filter.column and model_field.choices:
                return {str(value): str(label) for value, label in model_field.flatchoices}
    return {}


def _filters(layer: Layer) -> list[dict]:
    out = []
    for name, layer_filter in layer.filters.items():
        labels = _choice_labels(layer, layer_filter) if layer_filter.choices else {}
        labels.update({k: str(v) for k, v in (layer_filter.choice_labels or {}).items()})
        out.append(
            {
                "name": name,
                "column": layer_filter.column,
                "label": str(layer_filter.label or name),
                "kind": layer_filter.kind,
                "choices": None
                if layer_filter.choices is None
                else [{"value": v, "label": labels.get(v, v)} for v in layer_filter.choices],
            }
        )
    return out


def _vector_entry(layer: Layer) -> dict:
    return {
        "kind": "vector",
        "name": layer.name,
        "label": str(layer.label),
        "geometry_type": layer.geometry_type,
        "tiles": _url_template(
            "tiles:vector-tile", f"tiles/{layer.name}/{{z}}/{{x}}/{{y}}.mvt", layer=layer.name
        ),
        "min_zoom": layer.min_zoom,
        "max_zoom": layer.max_zoom,
        "overview_below_zoom": layer.overview_below_zoom,
        "style": layer.style,
        "attributes": list(layer.attributes),
        "filters": _filters(layer),
        "visible_by_default": layer.visible_by_default,
        "base": layer.base,
    }


def _heat_entry(layer: Layer, weight: str) -> dict:
    weight_label = heat_weight_label(weight)
    base = f"tiles/heat/{layer.name}/{weight}"
    return {
        "kind": "heat",
        "name": f"heat-{layer.name}-{weight}",
        "layer": layer.name,
        "weight": weight,
        "label": gettext("Heat map of %(layer)s by %(weight)s")
        % {"layer": str(layer.label).lower(), "weight": str(weight_label)},
        "geometry_type": "polygon",
        "tiles": _url_template(
            "heat:tile", f"{base}/{{z}}/{{x}}/{{y}}.mvt", layer=layer.name, weight=weight
        ),
        "legend": _legend_url(layer.name, weight, f"{base}/legend.json"),
        # Hexagons summarise a city or a colonia: they are for the zoomed-out views.
        "min_zoom": 0,
        "max_zoom": 22,
        "overview_below_zoom": None,
        "style": {"fillOpacity": 0.6},
        "attributes": ["value", "count"],
        "filters": [],
        "visible_by_default": False,
        "base": False,
    }


def _legend_url(layer: str, weight: str, fallback: str) -> str:
    try:
        return reverse("heat:legend", kwargs={"layer": layer, "weight": weight})
    except NoReverseMatch:
        return get_script_prefix() + fallback


def orthophoto_catalogue(*, user) -> list[dict]:
    """The orthophotos the user may lay under the map: id, name, bounds (lon/lat), tile URL
    template, zooms; the same items as ``GET /tiles/ortho/``. Empty without the permission."""
    if not user.has_perm(ORTHOPHOTO_PERMISSION):
        return []
    out = []
    for orthophoto in orthophoto_list().annotate(bounds_wgs84=Transform("bounds", WGS84)):
        west, south, east, north = orthophoto.bounds_wgs84.extent
        out.append(
            {
                "id": orthophoto.pk,
                "name": orthophoto.name,
                "bounds": [round(v, 7) for v in (west, south, east, north)],
                "tile_url": _url_template(
                    "ortho:tile",
                    f"tiles/ortho/{orthophoto.pk}/{{z}}/{{x}}/{{y}}.png",
                    pk=orthophoto.pk,
                ),
                "min_zoom": orthophoto.min_zoom,
                "max_zoom": orthophoto.max_zoom,
            }
        )
    return out


def layer_catalogue(*, user) -> dict:
    """The layers ``user`` may see, grouped by the app that declares them (registry order):
    each vector layer followed by its heat maps; and the orthophotos."""
    groups: dict[str, list[dict]] = {}
    for layer in layer_registry.visible_to(user):
        entries = groups.setdefault(str(layer.group), [])
        entries.append(_vector_entry(layer))
        entries.extend(_heat_entry(layer, weight) for weight in layer.heat_weights)
    return {
        "groups": [{"label": label, "layers": entries} for label, entries in groups.items()],
        "orthophotos": orthophoto_catalogue(user=user),
    }


# --- Endpoints ------------------------------------------------------------------------------


class MapLayersApi(APIView):
    """The map layers the signed-in user may see, grouped for the layer switcher, with their
    tile URL templates, zooms, styles and filters (translated labels); heat maps per weight;
    orthophotos."""

    @extend_schema(
        responses=inline_serializer(
            "MapLayerCatalogue",
            {
                "groups": serializers.ListField(child=serializers.DictField()),
                "orthophotos": serializers.ListField(child=serializers.DictField()),
            },
        )
    )
    def get(self, request):
        return Response(layer_catalogue(user=request.user))


class MapInfoApi(APIView):
    """What the user may know about a place: the parcel at ``lon``/``lat`` (WGS 84), or the
    parcel given by ``parcel`` or of ``account``; its outline, and the sections of every app
    in order (cadastre, accounts, meters, work orders …), each only with its permission."""

    class InfoInputSerializer(serializers.Serializer):
        lon = serializers.FloatField(min_value=-180, max_value=180, required=False)
        lat = serializers.FloatField(min_value=-90, max_value=90, required=False)
        parcel = serializers.IntegerField(min_value=1, required=False)
        account = serializers.IntegerField(min_value=1, required=False)

        def validate(self, attrs):
            if ("lon" in attrs) != ("lat" in attrs):
                raise serializers.ValidationError(_("Give both lon and lat."))
            for axis in ("lon", "lat"):
                if axis in attrs and not math.isfinite(attrs[axis]):
                    raise serializers.ValidationError({axis: _("Give a finite number.")})
            return attrs

    class InfoTargetSerializer(serializers.Serializer):
        kind = serializers.CharField()
        id = serializers.IntegerField()
        label = serializers.CharField()
        geometry = GeometryField(precision=COORDINATE_PRECISION, allow_null=True)

    class InfoOutputSerializer(serializers.Serializer):
        target = serializers.DictField()
        sections = serializers.ListField(child=serializers.DictField())

    InputSerializer = InfoInputSerializer
    OutputSerializer = InfoOutputSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", float, description="Longitude (WGS 84)"),
            OpenApiParameter("lat", float, description="Latitude (WGS 84)"),
            OpenApiParameter("parcel", int, description="A parcel id"),
            OpenApiParameter("account", int, description="A service account id"),
        ],
        responses=InfoOutputSerializer,
    )
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "lon" in data:
            name = POINT_FINDER
            # Transform the query point into the storage SRID, never the indexed column.
            value = Point(data["lon"], data["lat"], srid=WGS84).transform(
                storage_srid(), clone=True
            )
        else:
            # Any other finder an app registers is an id parameter (?parcel=, ?account=).
            name = next((n for n in info_registry.finder_names() if n in data), None)
            if name is None:
                return Response(
                    {"detail": gettext("Give lon and lat, or a parcel or an account.")},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            value = data[name]
        finder = info_registry.finder(name)
        if finder is None or not finder.visible_to(request.user):
            return Response(
                {"detail": gettext("You may not look up places on the map.")},
                status=status.HTTP_403_FORBIDDEN,
            )
        target = finder.find(value)
        if target is None:
            return Response({"detail": str(finder.not_found)}, status=status.HTTP_404_NOT_FOUND)
        geometry = None
        if target.geometry is not None:
            geometry = target.geometry.transform(WGS84, clone=True)
        target_data = self.InfoTargetSerializer(
            {"kind": target.kind, "id": target.id, "label": target.label, "geometry": geometry}
        ).data
        return Response(
            {"target": target_data, "sections": info_sections(user=request.user, target=target)}
        )
