"""Orthophotos over HTTP: list and upload (API), tiles (PNG). Thin views over
gis_core.orthophotos and tiles.raster."""

from django.contrib.gis.db.models.functions import Transform
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.models import Orthophoto
from gis_core.orthophotos import (
    OrthophotoError,
    max_bytes,
    orthophoto_list,
    orthophoto_upload,
    too_big_error,
)
from gis_core.srid import WGS84
from tiles.raster import RasterTileError, orthophoto_tile_render, tile_etag

VIEW_PERMISSION = "gis_core.view_orthophoto"
ADD_PERMISSION = "gis_core.add_orthophoto"
# An orthophoto's tiles never change (a new survey is a new orthophoto, with a new id): a
# browser may keep them for a year. "private": they are for signed-in users only.
TILE_CACHE_CONTROL = "private, max-age=31536000, immutable"


def _item(orthophoto: Orthophoto) -> dict:
    west, south, east, north = orthophoto.bounds_wgs84.extent
    tile_prefix = reverse("ortho:list")
    return {
        "id": orthophoto.pk,
        "name": orthophoto.name,
        "bounds": [round(v, 7) for v in (west, south, east, north)],
        "tile_url": f"{tile_prefix}{orthophoto.pk}/{{z}}/{{x}}/{{y}}.png",
        "min_zoom": orthophoto.min_zoom,
        "max_zoom": orthophoto.max_zoom,
        "resolution_m": orthophoto.resolution_m,
        "created_at": orthophoto.created_at.isoformat(),
    }


def _with_wgs84(qs):
    return qs.annotate(bounds_wgs84=Transform("bounds", WGS84))


class OrthophotoApi(APIView):
    """GET: the active orthophotos (for the map shell's base-layer switcher). POST (multipart,
    cadastre editors and admins): upload a GeoTIFF; 201 with the new orthophoto, 400/413 with
    ``error`` and a translated ``detail`` when the file is refused (nothing is stored)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="OrthophotoUploadInput")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, operation_id="orthophoto_list")
    def get(self, request):
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied(_("You may not see orthophotos."))
        return Response([_item(o) for o in _with_wgs84(orthophoto_list())])

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 413: OpenApiTypes.OBJECT},
        operation_id="orthophoto_upload",
    )
    def post(self, request):
        if not request.user.has_perm(ADD_PERMISSION):
            raise PermissionDenied(_("You may not upload orthophotos."))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            # Refused before a byte is copied (the web server's body limit should be in line).
            if upload.size > max_bytes():
                raise too_big_error(upload.name)
            orthophoto = orthophoto_upload(
                chunks=upload.chunks(),
                filename=upload.name,
                name=data.validated_data.get("name", ""),
                user=request.user,
            )
        except OrthophotoError as exc:
            return Response({"error": exc.code, "detail": exc.message}, status=exc.status)
        orthophoto = _with_wgs84(Orthophoto.objects.filter(pk=orthophoto.pk)).get()
        return Response(_item(orthophoto), status=status.HTTP_201_CREATED)


@require_GET
def orthophoto_tile(request, pk: int, z: int, x: int, y: int):
    """``/tiles/ortho/<id>/<z>/<x>/<y>.png``: a transparent PNG outside the image."""
    if not request.user.has_perm(VIEW_PERMISSION):
        return JsonResponse(
            {"error": "forbidden", "detail": _("You may not see orthophotos.")}, status=403
        )
    orthophoto = Orthophoto.objects.filter(pk=pk, active=True).only("pk", "file", "name").first()
    if orthophoto is None:
        return JsonResponse(
            {"error": "not_found", "detail": _("There is no orthophoto %(id)s.") % {"id": pk}},
            status=404,
        )
    etag = tile_etag(orthophoto=orthophoto, z=z, x=x, y=y)
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        try:
            png = orthophoto_tile_render(orthophoto=orthophoto, z=z, x=x, y=y)
        except RasterTileError as exc:
            return JsonResponse({"error": exc.code, "detail": exc.message}, status=exc.status)
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response
