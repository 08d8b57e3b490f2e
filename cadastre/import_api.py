"""Upload and download of cadastre layers: thin views over cadastre.importers / exporters."""

import json
import shutil
import tempfile
from pathlib import Path

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cadastre.exporters import EXPORTS, layer_export
from cadastre.importers import LAYERS, MODES, layer_import
from cadastre.models import Locality
from gis_core.io import FORMATS, LayerIOError


def _export_model(layer: str):
    """The model whose view permission an export needs (import layers register at start-up)."""
    if layer == "localities":
        return Locality
    spec = LAYERS.get(layer)
    return spec.model if spec else None


def _perm(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class LayerImportApi(APIView):
    """POST a layer file; 201 with the report when written, 400 with the report when any
    feature was rejected (nothing written), 400 with ``error`` when the file was refused."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        mapping = serializers.CharField(required=False, allow_blank=True)
        source_srid = serializers.IntegerField(required=False, min_value=1, max_value=999999)
        mode = serializers.ChoiceField(choices=MODES, default="create")
        layer_name = serializers.CharField(required=False, max_length=200)

        def validate_mapping(self, value):
            if not value:
                return {}
            try:
                data = json.loads(value)
            except ValueError:
                raise serializers.ValidationError(
                    _("The field mapping is not valid JSON.")
                ) from None
            if not isinstance(data, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in data.items()
            ):
                raise serializers.ValidationError(
                    _("The field mapping must be an object of source attribute → field.")
                )
            return data

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        operation_id="cadastre_layer_import",
    )
    def post(self, request, layer):
        spec = LAYERS.get(layer)
        if spec is None:
            raise NotFound(_("Unknown layer “%(layer)s”.") % {"layer": layer})
        if not request.user.has_perm(_perm(spec.model, "add")):
            raise PermissionDenied(_("You may not import this layer."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            report = layer_import(
                layer=layer,
                chunks=upload.chunks(),
                name=upload.name,
                field_map=data.validated_data.get("mapping") or {},
                source_srid=data.validated_data.get("source_srid"),
                mode=data.validated_data["mode"],
                layer_name=data.validated_data.get("layer_name"),
            )
        except LayerIOError as exc:
            return Response({"error": exc.code, "detail": exc.message}, status=400)
        code = status.HTTP_201_CREATED if report.written else status.HTTP_400_BAD_REQUEST
        return Response(report.as_dict(), status=code)


class _TempFileResponse(FileResponse):
    """Removes the export's temp directory once the file has been sent."""

    def __init__(self, *args, workdir: Path, **kwargs):
        super().__init__(*args, **kwargs)
        self._workdir = workdir

    def close(self):
        super().close()
        shutil.rmtree(self._workdir, ignore_errors=True)


class LayerExportApi(APIView):
    """GET a layer as a file; filters: locality, land_use, status, bbox (lon/lat)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(name, str, description=description)
            for name, description in (
                ("locality", "Locality id"),
                ("land_use", "Land use code"),
                ("status", "Parcel status"),
                ("bbox", "min_lon,min_lat,max_lon,max_lat"),
            )
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        operation_id="cadastre_layer_export",
    )
    def get(self, request, layer, fmt):
        model = _export_model(layer)
        if model is None or layer not in EXPORTS or fmt not in FORMATS:
            raise NotFound(_("Unknown layer or format."))
        if not request.user.has_perm(_perm(model, "view")):
            raise PermissionDenied(_("You may not export this layer."))
        filters = {
            k: request.query_params.get(k) for k in ("locality", "land_use", "status", "bbox")
        }
        workdir = Path(tempfile.mkdtemp(prefix="caudal-export-"))
        try:
            path = layer_export(layer=layer, fmt=fmt, filters=filters, workdir=workdir)
        except LayerIOError as exc:
            shutil.rmtree(workdir, ignore_errors=True)
            return Response({"error": exc.code, "detail": exc.message}, status=400)
        return _TempFileResponse(
            path.open("rb"), as_attachment=True, filename=path.name, workdir=workdir
        )
