"""Parcel editing API for cadastre staff: create, reshape, split, merge, attributes, and the
bbox reads the map editor draws from.

Views only validate input, call a service of ``cadastre.services`` and serialize the result;
topology (overlaps, blocks, snapping, lineage) lives in the services. Geometry travels in
WGS 84 (EPSG:4326) GeoJSON both ways; the services transform it into the storage CRS.

Every error answers 400 with one shape the editor can show as is::

    {"code": "...", "message": "<translated>", "where": <GeoJSON geometry in 4326> | null}
"""

import json
from decimal import Decimal

from django.contrib.gis.geos import Polygon
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from cadastre.errors import CadastreError
from cadastre.models import Block, LandUse, Parcel, ParcelStatus
from cadastre.services import (
    parcel_create,
    parcel_merge,
    parcel_reshape,
    parcel_split,
    parcel_update_attributes,
)
from gis_core.api_fields import lonlat_bbox_parse, storage_envelope
from gis_core.edit_api import (
    EditApiBase,
    GeoJsonInputField,
    geometry_4326,
)
from gis_core.srid import geojson_4326_sql

# The editor never needs more than a street or two of parcels at once; beyond this the answer
# says it was capped and the map asks to zoom in.
BBOX_MAX_FEATURES = 3000
MAX_MERGE = 50


BBOX_PARAMETER = OpenApiParameter(
    "bbox",
    str,
    required=True,
    description="minlon,minlat,maxlon,maxlat in WGS 84 degrees",
)


# --- Permissions -----------------------------------------------------------------------------


class CanViewParcels(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("cadastre.view_parcel"))


class CanEditParcels(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("cadastre.change_parcel"))


# --- Input fields ----------------------------------------------------------------------------


def _polygon_field(**kwargs):
    return GeoJsonInputField(geom_type="Polygon", label_text=gettext_lazy("geometry"), **kwargs)


def _built_area_field():
    return serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        label=gettext_lazy("built area (m²)"),
    )


# --- Reads (the editor's bbox queries) ---------------------------------------------------------


def _bbox_envelope(request) -> Polygon:
    """The ``bbox=minlon,minlat,maxlon,maxlat`` parameter as a polygon in the storage CRS.

    The envelope is transformed, never the indexed column, so the GiST index answers.
    """
    try:
        return storage_envelope(*lonlat_bbox_parse(request.query_params.get("bbox", "")))
    except ValueError as exc:
        raise ValidationError({"bbox": [str(exc)]}) from None


def parcel_editor_queryset():
    """Active parcels with their outline in WGS 84, as the editor shows them."""
    return (
        Parcel.objects.filter(status=ParcelStatus.ACTIVE)
        .annotate(geojson=geojson_4326_sql("geom"))
        .only(
            "id",
            "block_id",
            "cadastral_key",
            "status",
            "land_use",
            "address",
            "built_area_m2",
            "land_area_m2",
        )
        .order_by("pk")
    )


def parcel_in_bbox_list(*, envelope: Polygon):
    return parcel_editor_queryset().filter(geom__intersects=envelope)


def block_in_bbox_list(*, envelope: Polygon):
    return (
        Block.objects.filter(geom__intersects=envelope)
        .annotate(geojson=geojson_4326_sql("geom"))
        .only("id", "code")
        .order_by("pk")
    )


class ParcelFeatureSerializer(serializers.Serializer):
    """A parcel as a GeoJSON Feature in WGS 84 (read from the ``geojson`` annotation)."""

    def to_representation(self, instance):
        return {
            "type": "Feature",
            "id": instance.pk,
            "geometry": json.loads(instance.geojson),
            "properties": {
                "id": instance.pk,
                "cadastral_key": instance.cadastral_key,
                "block_id": instance.block_id,
                "status": instance.status,
                "land_use": instance.land_use,
                "land_use_label": str(instance.get_land_use_display()),
                "address": instance.address,
                "built_area_m2": (
                    None if instance.built_area_m2 is None else str(instance.built_area_m2)
                ),
                "land_area_m2": (
                    None if instance.land_area_m2 is None else str(instance.land_area_m2)
                ),
            },
        }


def _feature(parcel: Parcel) -> dict:
    """Re-read one parcel as the editor shows it (its stored, possibly snapped, outline)."""
    fresh = Parcel.objects.annotate(geojson=geojson_4326_sql("geom")).get(pk=parcel.pk)
    return ParcelFeatureSerializer(fresh).data


def _collection(rows: list, serializer, *, limit: int | None = None) -> dict:
    truncated = limit is not None and len(rows) > limit
    if truncated:
        rows = rows[:limit]
    body = {
        "type": "FeatureCollection",
        "features": [serializer(row) for row in rows],
        "truncated": truncated,
    }
    if limit is not None:
        body["limit"] = limit
    return body


# --- Error handling ----------------------------------------------------------------------------


class ParcelEditApiBase(EditApiBase):
    """Every parcel edit endpoint: cadastre permissions, refused edits with the place."""

    permission_classes = [CanEditParcels]

    def handle_exception(self, exc):
        if isinstance(exc, CadastreError):
            return Response(
                {
                    "code": exc.code,
                    "message": str(exc.message),
                    "where": geometry_4326(exc.where),
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)


def _editable_parcel(pk) -> Parcel:
    return get_object_or_404(Parcel, pk=pk)


# --- Writes ------------------------------------------------------------------------------------


class ParcelListCreateApi(ParcelEditApiBase):
    """GET: active parcels in a bbox (any reader). POST: draw a new parcel (editors)."""

    def get_permissions(self):
        if self.request.method == "GET":
            return [CanViewParcels()]
        return [CanEditParcels()]

    @extend_schema_serializer(component_name="ParcelCreateInput")
    class InputSerializer(serializers.Serializer):
        geometry = _polygon_field()
        land_use = serializers.ChoiceField(choices=LandUse.choices, label=gettext_lazy("land use"))
        address = serializers.CharField(
            max_length=200,
            required=False,
            allow_blank=True,
            default="",
            label=gettext_lazy("address"),
        )
        built_area_m2 = _built_area_field()
        cadastral_key = serializers.CharField(
            max_length=32,
            required=False,
            allow_null=True,
            allow_blank=True,
            label=gettext_lazy("cadastral key"),
        )
        block_id = serializers.IntegerField(
            required=False, allow_null=True, label=gettext_lazy("block")
        )

    @extend_schema(
        parameters=[BBOX_PARAMETER],
        responses={200: {"type": "object", "description": "GeoJSON FeatureCollection (4326)"}},
    )
    def get(self, request):
        envelope = _bbox_envelope(request)
        rows = list(parcel_in_bbox_list(envelope=envelope)[: BBOX_MAX_FEATURES + 1])
        body = _collection(rows, lambda p: ParcelFeatureSerializer(p).data, limit=BBOX_MAX_FEATURES)
        return Response(body)

    @extend_schema(request=InputSerializer, responses={201: {"type": "object"}})
    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        block = None
        if data.get("block_id") is not None:
            block = Block.objects.filter(pk=data["block_id"]).first()
            if block is None:
                raise ValidationError(
                    {"block_id": [_("Block %(id)s does not exist.") % {"id": data["block_id"]}]}
                )
        parcel = parcel_create(
            block=block,
            geom=data["geometry"],
            land_use=data["land_use"],
            address=data.get("address") or "",
            cadastral_key=data.get("cadastral_key") or None,
            built_area_m2=data.get("built_area_m2"),
            user=request.user,
        )
        return Response(_feature(parcel), status=status.HTTP_201_CREATED)


class ParcelReshapeApi(ParcelEditApiBase):
    """Replace a parcel's outline (vertex editing)."""

    @extend_schema_serializer(component_name="ParcelReshapeInput")
    class InputSerializer(serializers.Serializer):
        geometry = _polygon_field()

    @extend_schema(request=InputSerializer, responses={200: {"type": "object"}})
    def post(self, request, pk):
        parcel = _editable_parcel(pk)
        data = self.validated(self.InputSerializer, request.data)
        parcel = parcel_reshape(parcel=parcel, geom=data["geometry"], user=request.user)
        return Response(_feature(parcel))


class ParcelSplitApi(ParcelEditApiBase):
    """Split a parcel along a line drawn across it; answers the children."""

    @extend_schema_serializer(component_name="ParcelSplitInput")
    class InputSerializer(serializers.Serializer):
        line = GeoJsonInputField(geom_type="LineString", label_text=gettext_lazy("split line"))

    @extend_schema(request=InputSerializer, responses={200: {"type": "object"}})
    def post(self, request, pk):
        parcel = _editable_parcel(pk)
        data = self.validated(self.InputSerializer, request.data)
        children = parcel_split(parcel=parcel, line=data["line"], user=request.user)
        rows = list(parcel_editor_queryset().filter(pk__in=[c.pk for c in children]))
        return Response(_collection(rows, lambda p: ParcelFeatureSerializer(p).data))


class ParcelMergeApi(ParcelEditApiBase):
    """Merge two or more adjacent parcels into one."""

    @extend_schema_serializer(component_name="ParcelMergeInput")
    class InputSerializer(serializers.Serializer):
        parcel_ids = serializers.ListField(
            child=serializers.IntegerField(),
            min_length=2,
            max_length=MAX_MERGE,
            label=gettext_lazy("parcels"),
        )

    @extend_schema(request=InputSerializer, responses={200: {"type": "object"}})
    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        ids = list(dict.fromkeys(data["parcel_ids"]))
        if len(ids) < 2:
            raise ValidationError(
                {"parcel_ids": [_("Select at least two different parcels to merge.")]}
            )
        parcels = list(Parcel.objects.filter(pk__in=ids).order_by("pk"))
        missing = sorted(set(ids) - {p.pk for p in parcels})
        if missing:
            raise ValidationError(
                {
                    "parcel_ids": [
                        _("These parcels do not exist: %(ids)s.")
                        % {"ids": ", ".join(map(str, missing))}
                    ]
                }
            )
        child = parcel_merge(parcels=parcels, user=request.user)
        return Response(_feature(child))


class ParcelAttributesApi(ParcelEditApiBase):
    """Change a parcel's land use, address or built area (only the fields sent)."""

    @extend_schema_serializer(component_name="ParcelAttributesInput")
    class InputSerializer(serializers.Serializer):
        land_use = serializers.ChoiceField(
            choices=LandUse.choices, required=False, label=gettext_lazy("land use")
        )
        address = serializers.CharField(
            max_length=200, required=False, allow_blank=True, label=gettext_lazy("address")
        )
        # Null means "leave as is": the service cannot clear a built area (see its contract).
        built_area_m2 = _built_area_field()

    @extend_schema(request=InputSerializer, responses={200: {"type": "object"}})
    def patch(self, request, pk):
        parcel = _editable_parcel(pk)
        data = self.validated(self.InputSerializer, request.data)
        parcel = parcel_update_attributes(
            parcel=parcel,
            land_use=data.get("land_use"),
            address=data.get("address"),
            built_area_m2=data.get("built_area_m2"),
            user=request.user,
        )
        return Response(_feature(parcel))


class BlockListApi(ParcelEditApiBase):
    """Block outlines in a bbox, for context and snapping in the editor."""

    permission_classes = [CanViewParcels]

    @extend_schema(
        parameters=[BBOX_PARAMETER],
        responses={200: {"type": "object", "description": "GeoJSON FeatureCollection"}},
    )
    def get(self, request):
        envelope = _bbox_envelope(request)
        rows = list(block_in_bbox_list(envelope=envelope)[: BBOX_MAX_FEATURES + 1])

        def feature(block):
            return {
                "type": "Feature",
                "id": block.pk,
                "geometry": json.loads(block.geojson),
                "properties": {"id": block.pk, "code": block.code},
            }

        return Response(_collection(rows, feature, limit=BBOX_MAX_FEATURES))
