"""Water network API under /api/network/: the isolation trace, outages, the topology report,
districts from the network, feasibility, and EPANET import/export.

Views validate input, call :mod:`network.services`, :mod:`network.selectors` or
:mod:`network.epanet` and serialize. Points travel as WGS 84 longitude/latitude; geometries out
as GeoJSON in WGS 84. Every office role and field crews read (``view_pipe``); tracing an outage
into being needs ``add_outage``, importing needs ``add_pipe`` (planners and administrators).
Refusals answer 400 ``{"code", "field", "detail"}``.
"""

from django.contrib.gis.geos import Point
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response, require_perms
from gis_core.edit_api import geometry_4326
from gis_core.srid import COORDINATE_PRECISION, WGS84, lonlat
from network import selectors, services
from network.epanet import EpanetError, Transform, epanet_export, epanet_import
from network.models import NetworkError, Outage, OutageStatus
from network.topology import topology_build


class PointInput(serializers.Serializer):
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)

    def point(self):
        return Point(self.validated_data["lon"], self.validated_data["lat"], srid=WGS84)


class TraceInput(PointInput):
    pipe = serializers.IntegerField(required=False, min_value=1)


def _trace_output(trace):
    return {
        "pipe": trace.pipe_id,
        "break_point": lonlat(trace.break_point, COORDINATE_PRECISION),
        "valves": trace.valves,
        "passed_valves": trace.passed_valves,
        "closed_valves": trace.closed_valves,
        "pipes": trace.pipes,
        "accounts": trace.accounts,
        "account_count": len(trace.accounts),
        "unbounded": trace.unbounded,
        "geometry": geometry_4326(trace.geom),
    }


class TraceApi(APIView):
    """The valves to close, isolated pipes and affected accounts for a break (nothing written)."""

    permission_classes = [require_perms("network.view_pipe")]

    @extend_schema(
        operation_id="network_trace", request=TraceInput, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request):
        data = TraceInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            trace = selectors.isolation_trace(
                point=data.point(), pipe_id=data.validated_data.get("pipe")
            )
        except NetworkError as error:
            return domain_error_response(error)
        return Response(_trace_output(trace))


class OutageInput(TraceInput):
    expected_end = serializers.DateTimeField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _outage_output(outage: Outage):
    return {
        "id": outage.pk,
        "pipe": outage.pipe_id,
        "status": outage.status,
        "break_point": lonlat(outage.break_point, COORDINATE_PRECISION),
        "valves": outage.valves,
        "pipes": outage.pipes,
        "accounts": sorted(a.account_id for a in outage.accounts.all()),
        "started_at": outage.started_at,
        "expected_end": outage.expected_end,
        "ended_at": outage.ended_at,
        "work_order": outage.work_order_id,
        "geometry": geometry_4326(outage.geom),
    }


class OutageListApi(APIView):
    """GET: active outages. POST: trace a break and record the outage, its accounts, pending
    notices and the repair work order (one transaction)."""

    def get_permissions(self):
        perm = "network.add_outage" if self.request.method == "POST" else "network.view_outage"
        return [require_perms(perm)()]

    @extend_schema(operation_id="network_outages_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        outages = (
            Outage.objects.filter(status=OutageStatus.ACTIVE)
            .order_by("-started_at")
            .prefetch_related("accounts")[:200]
        )
        return Response({"results": [_outage_output(o) for o in outages]})

    @extend_schema(
        operation_id="network_outages_create",
        request=OutageInput,
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = OutageInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            outage = services.outage_create(
                point=data.point(),
                pipe_id=data.validated_data.get("pipe"),
                expected_end=data.validated_data.get("expected_end"),
                reason=data.validated_data.get("reason", ""),
                user=request.user,
            )
        except NetworkError as error:
            return domain_error_response(error)
        return Response(_outage_output(outage), status=201)


class OutageCloseApi(APIView):
    permission_classes = [require_perms("network.change_outage")]

    @extend_schema(
        operation_id="network_outage_close", request=None, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request, pk: int):
        outage = get_object_or_404(Outage, pk=pk)
        try:
            outage = services.outage_close(outage=outage, user=request.user)
        except NetworkError as error:
            return domain_error_response(error, conflict_codes=("outage_closed",))
        return Response(_outage_output(outage))


class TopologyReportApi(APIView):
    """Dangles, unconnected parts, overlapping pipes, far connections, valves off the network."""

    permission_classes = [require_perms("network.view_pipe")]

    @extend_schema(
        operation_id="network_topology_report",
        parameters=[
            OpenApiParameter("connection_max_m", float, description="Farthest a connection may be")
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        try:
            limit = float(request.query_params.get("connection_max_m", selectors.CONNECTION_MAX_M))
        except ValueError:
            limit = -1
        if not 0 < limit <= 1000:
            return domain_error_response(
                NetworkError(
                    "parameter_invalid",
                    _("connection_max_m must be a number of metres between 0 and 1000."),
                    field="connection_max_m",
                )
            )
        return Response(selectors.topology_report(connection_max_m=limit))


class TopologyRebuildApi(APIView):
    permission_classes = [require_perms("network.change_pipe")]

    @extend_schema(
        operation_id="network_topology_rebuild", request=None, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request):
        return Response(topology_build())


class DistrictReportApi(APIView):
    """Areas bounded by closed valves compared with the DMA polygons."""

    permission_classes = [require_perms("network.view_pipe", "sectors.view_dma")]

    @extend_schema(operation_id="network_districts", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(selectors.district_report())


class FeasibilityApi(APIView):
    """Nearest water main and sewer for a point (service desk)."""

    permission_classes = [require_perms("network.view_pipe")]

    @extend_schema(
        operation_id="network_feasibility",
        parameters=[
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        data = PointInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        return Response(selectors.feasibility(point=data.point()))


class TransformInput(serializers.Serializer):
    a = serializers.FloatField(default=1.0)
    b = serializers.FloatField(default=0.0)
    xoff = serializers.FloatField(default=0.0)
    d = serializers.FloatField(default=0.0)
    e = serializers.FloatField(default=1.0)
    yoff = serializers.FloatField(default=0.0)

    def transform(self):
        keys = ("a", "b", "xoff", "d", "e", "yoff")
        return Transform(**{k: self.validated_data[k] for k in keys})


class EpanetImportInput(TransformInput):
    file = serializers.FileField()


MAX_INP_BYTES = 100 * 1024 * 1024


class EpanetImportApi(APIView):
    """Import an EPANET .inp file (multipart ``file``) with the affine transform ``a b xoff d e
    yoff`` from model coordinates to the installation's CRS; all or nothing."""

    permission_classes = [require_perms("network.add_pipe")]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="network_epanet_import",
        request={"multipart/form-data": EpanetImportInput},
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = EpanetImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > MAX_INP_BYTES:
            return domain_error_response(
                NetworkError("file_too_large", _("The file is larger than 100 MB."), field="file")
            )
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        try:
            if text is None:
                raise NetworkError("file_encoding", _("The file is not UTF-8 text."), field="file")
            counts = epanet_import(text=text, transform=data.transform())
        except NetworkError as error:
            body = domain_error_response(error)
            if isinstance(error, EpanetError):
                body.data["errors"] = [{"line": n, "message": m} for n, m in error.errors]
            return body
        return Response(counts, status=201)


class EpanetExportApi(APIView):
    permission_classes = [require_perms("network.view_pipe")]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="network_epanet_export",
        parameters=[OpenApiParameter(k, float) for k in ("a", "b", "xoff", "d", "e", "yoff")],
        responses={(200, "text/plain"): OpenApiTypes.STR},
    )
    def get(self, request):
        data = TransformInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        try:
            text = epanet_export(transform=data.transform())
        except NetworkError as error:
            return domain_error_response(error)
        response = HttpResponse(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="caudal.inp"'
        return response
