"""Network editing API under /api/network/edit/: pipes and valves of a map view, and their
create / change / delete (the map editor's endpoints).

Views validate input, call :mod:`network.editing` and serialize; the rules (snapping, splits,
connections) are the services'. Geometry travels as GeoJSON in WGS 84 both ways. Reading needs
``view_pipe``; each write needs the model's add / change / delete permission (administrators
and planners, migration 0002). A refused edit answers 400 with the domain-error shape plus
``message`` (the same translated text) and ``where`` (the GeoJSON geometry to highlight)::

    {"code": "...", "field": "...", "detail": "...", "message": "...", "where": {...} | null}
"""

import json

from django.contrib.gis.geos import Polygon
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api import domain_error_response, require_perms
from gis_core.api_fields import lonlat_bbox_parse, storage_envelope
from gis_core.edit_api import EditApiBase, GeoJsonInputField, geometry_4326
from gis_core.srid import geojson_4326_sql
from network import editing
from network.models import (
    PIPE_MAX_DIAMETER_MM,
    AssetStatus,
    Material,
    NetworkError,
    Pipe,
    Valve,
    ValveState,
)

# A street-level view holds tens of pipes; beyond this the answer says it was capped.
BBOX_MAX_FEATURES = 3000

BBOX_PARAMETER = OpenApiParameter(
    "bbox", str, required=True, description="minlon,minlat,maxlon,maxlat in WGS 84 degrees"
)
FEATURE = {"type": "object", "description": "GeoJSON Feature (WGS 84)"}
COLLECTION = {"type": "object", "description": "GeoJSON FeatureCollection (WGS 84)"}


class NetworkEditApiBase(EditApiBase):
    """The map editors' input handling (labelled validation messages); network refusals in
    the domain-error shape with the place to highlight."""

    perms: dict[str, str] = {}

    def get_permissions(self):
        # HEAD and OPTIONS ask no more than the first (reading or least) permission listed.
        perm = self.perms.get(self.request.method) or next(iter(self.perms.values()))
        return [require_perms(perm)()]

    def handle_exception(self, exc):
        if isinstance(exc, NetworkError):
            response = domain_error_response(exc)
            response.data["message"] = exc.message
            response.data["where"] = geometry_4326(exc.where)
            return response
        return super().handle_exception(exc)


def _bbox(request) -> Polygon:
    try:
        return storage_envelope(*lonlat_bbox_parse(request.query_params.get("bbox", "")))
    except ValueError as exc:
        raise ValidationError({"bbox": [str(exc)]}) from None


def pipe_editor_queryset():
    return Pipe.objects.annotate(
        geojson=geojson_4326_sql("geom"), connection_count=Count("connections")
    ).order_by("pk")


def valve_editor_queryset():
    return Valve.objects.annotate(geojson=geojson_4326_sql("geom")).order_by("pk")


def _pipe_feature(pipe) -> dict:
    return {
        "type": "Feature",
        "id": pipe.pk,
        "geometry": json.loads(pipe.geojson),
        "properties": {
            "id": pipe.pk,
            "kind": "pipe",
            "code": pipe.code,
            "material": pipe.material,
            "diameter_mm": pipe.diameter_mm,
            "status": pipe.status,
            "install_year": pipe.install_year,
            "length_m": None if pipe.length_m is None else str(pipe.length_m),
            "connections": pipe.connection_count,
        },
    }


def _valve_feature(valve) -> dict:
    return {
        "type": "Feature",
        "id": valve.pk,
        "geometry": json.loads(valve.geojson),
        "properties": {
            "id": valve.pk,
            "kind": "valve",
            "code": valve.code,
            "diameter_mm": valve.diameter_mm,
            "normal_status": valve.normal_status,
            "current_status": valve.current_status,
            "operable": valve.operable,
        },
    }


def _collection(rows, feature) -> dict:
    truncated = len(rows) > BBOX_MAX_FEATURES
    return {
        "type": "FeatureCollection",
        "features": [feature(r) for r in rows[:BBOX_MAX_FEATURES]],
        "truncated": truncated,
        "limit": BBOX_MAX_FEATURES,
    }


def _pipe_answer(edit: editing.PipeEdit) -> dict:
    body = _pipe_feature(pipe_editor_queryset().get(pk=edit.pipe.pk))
    body["split"] = edit.split
    return body


def _choice_field(choices, **kwargs):
    """A ChoiceField documented as a plain string with its codes: the same choice sets under
    several names (``status`` of many apps, ``normal_status``/``current_status``) would make
    drf-spectacular's enum components collide."""
    codes = ", ".join(value for value, _label in choices)
    field_class = extend_schema_field({"type": "string", "description": f"One of: {codes}"})(
        type("CodeChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)


def _line_field(**kwargs):
    return GeoJsonInputField(
        geom_type="LineString", label_text=gettext_lazy("pipe route"), **kwargs
    )


def _point_field(**kwargs):
    return GeoJsonInputField(geom_type="Point", label_text=gettext_lazy("location"), **kwargs)


def _diameter_field(**kwargs):
    return serializers.IntegerField(
        min_value=1, max_value=PIPE_MAX_DIAMETER_MM, label=gettext_lazy("diameter (mm)"), **kwargs
    )


def _year_field():
    return serializers.IntegerField(
        min_value=1850,
        max_value=2100,
        required=False,
        allow_null=True,
        label=gettext_lazy("install year"),
    )


def _code_field():
    return serializers.CharField(
        max_length=40, required=False, allow_blank=True, label=gettext_lazy("code")
    )


class PipeListCreateApi(NetworkEditApiBase):
    """GET: pipes in a bbox (readers). POST: draw a pipe; its ends snap onto the network and the
    pipes it joins at a vertex or in their interior are split (``split``: their ids)."""

    perms = {"GET": "network.view_pipe", "POST": "network.add_pipe"}

    @extend_schema_serializer(component_name="NetworkPipeCreateInput")
    class InputSerializer(serializers.Serializer):
        geometry = _line_field()
        code = _code_field()
        material = _choice_field(
            Material.choices, default=Material.UNKNOWN, label=gettext_lazy("material")
        )
        diameter_mm = _diameter_field()
        status = _choice_field(
            AssetStatus.choices, default=AssetStatus.ACTIVE, label=gettext_lazy("status")
        )
        install_year = _year_field()

    @extend_schema(
        operation_id="network_edit_pipes_list",
        parameters=[BBOX_PARAMETER],
        responses={200: COLLECTION},
    )
    def get(self, request):
        rows = list(
            pipe_editor_queryset().filter(geom__intersects=_bbox(request))[: BBOX_MAX_FEATURES + 1]
        )
        return Response(_collection(rows, _pipe_feature))

    @extend_schema(
        operation_id="network_edit_pipes_create", request=InputSerializer, responses={201: FEATURE}
    )
    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        edit = editing.pipe_create(
            geom=data["geometry"],
            code=data.get("code") or None,
            material=data["material"],
            diameter_mm=data["diameter_mm"],
            status=data["status"],
            install_year=data.get("install_year"),
            user=request.user,
        )
        return Response(_pipe_answer(edit), status=status.HTTP_201_CREATED)


class PipeDetailApi(NetworkEditApiBase):
    """PATCH: a new route (``geometry``) and/or attributes (only the fields sent). DELETE: a pipe
    without service connections."""

    perms = {"PATCH": "network.change_pipe", "DELETE": "network.delete_pipe"}

    @extend_schema_serializer(component_name="NetworkPipeChangeInput")
    class InputSerializer(serializers.Serializer):
        geometry = _line_field(required=False)
        code = serializers.CharField(max_length=40, required=False, label=gettext_lazy("code"))
        material = _choice_field(Material.choices, required=False, label=gettext_lazy("material"))
        diameter_mm = _diameter_field(required=False)
        status = _choice_field(AssetStatus.choices, required=False, label=gettext_lazy("status"))
        install_year = _year_field()

    @extend_schema(
        operation_id="network_edit_pipe_change", request=InputSerializer, responses={200: FEATURE}
    )
    def patch(self, request, pk):
        pipe = get_object_or_404(Pipe, pk=pk)
        data = dict(self.validated(self.InputSerializer, request.data))
        geometry = data.pop("geometry", None)
        edit = editing.PipeEdit(pipe, [])
        # One edit of the form: a refused attribute undoes the new route too.
        with transaction.atomic():
            if geometry is not None:
                edit = editing.pipe_reshape(pipe=pipe, geom=geometry, user=request.user)
            if data:
                edit.pipe = editing.pipe_update_attributes(pipe=pipe, user=request.user, **data)
        return Response(_pipe_answer(edit))

    @extend_schema(operation_id="network_edit_pipe_delete", request=None, responses={204: None})
    def delete(self, request, pk):
        editing.pipe_delete(pipe=get_object_or_404(Pipe, pk=pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ValveListCreateApi(NetworkEditApiBase):
    """GET: valves in a bbox (readers). POST: place a valve; it snaps onto the nearest pipe."""

    perms = {"GET": "network.view_valve", "POST": "network.add_valve"}

    @extend_schema_serializer(component_name="NetworkValveCreateInput")
    class InputSerializer(serializers.Serializer):
        geometry = _point_field()
        code = _code_field()
        diameter_mm = _diameter_field(default=100)
        normal_status = _choice_field(
            ValveState.choices, default=ValveState.OPEN, label=gettext_lazy("normal status")
        )
        current_status = _choice_field(
            ValveState.choices, required=False, label=gettext_lazy("current status")
        )
        operable = serializers.BooleanField(default=True, label=gettext_lazy("operable"))

    @extend_schema(
        operation_id="network_edit_valves_list",
        parameters=[BBOX_PARAMETER],
        responses={200: COLLECTION},
    )
    def get(self, request):
        rows = list(
            valve_editor_queryset().filter(geom__intersects=_bbox(request))[: BBOX_MAX_FEATURES + 1]
        )
        return Response(_collection(rows, _valve_feature))

    @extend_schema(
        operation_id="network_edit_valves_create", request=InputSerializer, responses={201: FEATURE}
    )
    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        valve = editing.valve_create(
            point=data["geometry"],
            code=data.get("code") or None,
            diameter_mm=data["diameter_mm"],
            normal_status=data["normal_status"],
            current_status=data.get("current_status"),
            operable=data["operable"],
            user=request.user,
        )
        return Response(
            _valve_feature(valve_editor_queryset().get(pk=valve.pk)), status=status.HTTP_201_CREATED
        )


class ValveDetailApi(NetworkEditApiBase):
    """PATCH: move (``geometry``, snapped onto a pipe) and/or attributes. DELETE: a valve."""

    perms = {"PATCH": "network.change_valve", "DELETE": "network.delete_valve"}

    @extend_schema_serializer(component_name="NetworkValveChangeInput")
    class InputSerializer(serializers.Serializer):
        geometry = _point_field(required=False)
        code = serializers.CharField(max_length=40, required=False, label=gettext_lazy("code"))
        diameter_mm = _diameter_field(required=False)
        normal_status = _choice_field(
            ValveState.choices, required=False, label=gettext_lazy("normal status")
        )
        current_status = _choice_field(
            ValveState.choices, required=False, label=gettext_lazy("current status")
        )
        operable = serializers.BooleanField(required=False, label=gettext_lazy("operable"))

    @extend_schema(
        operation_id="network_edit_valve_change", request=InputSerializer, responses={200: FEATURE}
    )
    def patch(self, request, pk):
        valve = get_object_or_404(Valve, pk=pk)
        data = dict(self.validated(self.InputSerializer, request.data))
        geometry = data.pop("geometry", None)
        with transaction.atomic():
            if geometry is not None:
                valve = editing.valve_move(valve=valve, point=geometry, user=request.user)
            if data:
                valve = editing.valve_update_attributes(valve=valve, user=request.user, **data)
        return Response(_valve_feature(valve_editor_queryset().get(pk=valve.pk)))

    @extend_schema(operation_id="network_edit_valve_delete", request=None, responses={204: None})
    def delete(self, request, pk):
        editing.valve_delete(valve=get_object_or_404(Valve, pk=pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
