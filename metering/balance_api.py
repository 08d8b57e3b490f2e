"""Macrometers and the water balance (mounted under /api/metering/).

- ``macrometers/`` — the macrometers, with the districts their forward flow enters and leaves;
- ``macrometers/readings/`` — one reading typed by hand (JSON);
- ``macrometers/readings/file/`` — a CSV file of readings (see :mod:`metering.macrometers`);
- ``macrometers/telemetry/`` — readings pushed by a SCADA/telemetry gateway (JSON); the same
  payload sent again adds nothing;
- ``water-balance/?month=YYYY-MM`` — every district's balance of a month;
  ``water-balance/compute/`` recomputes a month;
- ``water-balance/<code>/`` — a district's history.

A refused batch answers 400 with ``{"code", "field", "detail", "errors": [...]}``: ``errors``
lists every problem by line or position, translated.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response, require_perms
from gis_core.srid import lonlat as lonlat_of
from metering import selectors
from metering.api import COORD_DECIMALS, invalid_response
from metering.macrometers import (
    MacrometerBatchError,
    MacrometerImportReport,
    MacrometerRow,
    macrometer_readings_record,
    macrometer_rows_from_csv,
)
from metering.models import Macrometer, MacrometerSource, WaterBalance
from metering.services import MeteringError
from metering.water_balance import parse_month, water_balance_compute
from sectors.models import Dma


def _refused(error: MeteringError) -> Response:
    response = domain_error_response(error)
    if isinstance(error, MacrometerBatchError):
        response.data["errors"] = error.errors
    return response


class ImportReportSerializer(serializers.Serializer):
    batch_id = serializers.IntegerField(allow_null=True)
    rows = serializers.IntegerField()
    added = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    replay = serializers.BooleanField()


def _report(report: MacrometerImportReport) -> Response:
    data = ImportReportSerializer(report).data
    return Response(data, status=status.HTTP_200_OK if report.replay else status.HTTP_201_CREATED)


class MacrometerListApi(APIView):
    """Every macrometer, with where its forward flow goes."""

    permission_classes = [require_perms("metering.view_macrometer")]

    class OutputSerializer(serializers.ModelSerializer):
        dma_in = serializers.CharField(source="dma_in.code", allow_null=True, default=None)
        dma_out = serializers.CharField(source="dma_out.code", allow_null=True, default=None)
        lonlat = serializers.SerializerMethodField()

        class Meta:
            model = Macrometer
            fields = [
                "id",
                "code",
                "name",
                "dma_in",
                "dma_out",
                "diameter_mm",
                "bidirectional",
                "in_service_from",
                "in_service_until",
                "lonlat",
            ]

        def get_lonlat(self, obj) -> list[float]:
            return lonlat_of(obj.location, COORD_DECIMALS)

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        meters = Macrometer.objects.select_related("dma_in", "dma_out").order_by("code")
        return Response(self.OutputSerializer(meters, many=True).data)


class ReadingInputSerializer(serializers.Serializer):
    macrometer = serializers.CharField(max_length=30)
    read_at = serializers.CharField(help_text="ISO 8601; without an offset: the utility's zone.")
    forward_m3 = serializers.CharField(max_length=20)
    reverse_m3 = serializers.CharField(max_length=20, required=False, allow_blank=True)


class MacrometerReadingApi(APIView):
    """One reading typed by hand."""

    permission_classes = [require_perms("metering.add_macrometerreading")]
    parser_classes = [JSONParser]

    @extend_schema(request=ReadingInputSerializer, responses={201: ImportReportSerializer})
    def post(self, request):
        data = ReadingInputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        row = MacrometerRow(where=str(_("Reading")), **data.validated_data)
        try:
            report = macrometer_readings_record(
                rows=[row], source=MacrometerSource.MANUAL, user=request.user
            )
        except MeteringError as error:
            return _refused(error)
        return _report(report)


class MacrometerFileApi(APIView):
    """A CSV file of readings; the same file again adds nothing."""

    permission_classes = [
        require_perms("metering.add_macrometerreading", "metering.add_macrometerimport")
    ]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()

    @extend_schema(request=InputSerializer, responses={200: ImportReportSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        upload = data.validated_data["file"]
        content = upload.read()
        try:
            report = macrometer_readings_record(
                rows=macrometer_rows_from_csv(content),
                source=MacrometerSource.FILE,
                user=request.user,
                content=content,
                name=upload.name,
            )
        except MeteringError as error:
            return _refused(error)
        return _report(report)


class MacrometerTelemetryApi(APIView):
    """Readings pushed by telemetry: ``{"readings": [{macrometer, read_at, forward_m3,
    reverse_m3?}, …]}``. The body's bytes key the batch: a retried push adds nothing."""

    permission_classes = [
        require_perms("metering.add_macrometerreading", "metering.add_macrometerimport")
    ]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        readings = ReadingInputSerializer(many=True, allow_empty=False)

    @extend_schema(request=InputSerializer, responses={200: ImportReportSerializer})
    def post(self, request):
        # The raw body is read before the parser consumes it: it is the batch's key.
        content = request.body
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        rows = [
            MacrometerRow(where=_("Reading %(number)d") % {"number": n}, **item)
            for n, item in enumerate(data.validated_data["readings"], start=1)
        ]
        try:
            report = macrometer_readings_record(
                rows=rows,
                source=MacrometerSource.TELEMETRY,
                user=request.user,
                content=content,
                name="telemetry",
            )
        except MeteringError as error:
            return _refused(error)
        return _report(report)


class BalanceSerializer(serializers.ModelSerializer):
    dma = serializers.CharField(source="dma.code")
    dma_name = serializers.CharField(source="dma.name")
    month = serializers.DateField(format="%Y-%m")
    nrw_class_label = serializers.CharField(source="get_nrw_class_display")

    class Meta:
        model = WaterBalance
        fields = [
            "dma",
            "dma_name",
            "month",
            "system_input_m3",
            "billed_metered_m3",
            "billed_unmetered_m3",
            "non_revenue_m3",
            "non_revenue_pct",
            "nrw_class",
            "nrw_class_label",
            "accounts",
            "macrometers",
            "missing_macrometers",
            "computed_at",
        ]


MONTH_PARAMETER = OpenApiParameter("month", str, description="YYYY-MM", required=True)


class WaterBalanceApi(APIView):
    """Every district's water balance of a month."""

    permission_classes = [require_perms("metering.view_waterbalance")]

    @extend_schema(parameters=[MONTH_PARAMETER], responses={200: BalanceSerializer(many=True)})
    def get(self, request):
        try:
            month = parse_month(request.query_params.get("month", ""))
        except MeteringError as error:
            return _refused(error)
        rows = selectors.water_balance_month(month=month)
        return Response(BalanceSerializer(rows, many=True).data)


class WaterBalanceComputeApi(APIView):
    """Recompute every district's balance of a month (after late readings or a new meter)."""

    permission_classes = [
        require_perms("metering.add_waterbalance", "metering.change_waterbalance")
    ]
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        month = serializers.CharField(max_length=7)

    @extend_schema(request=InputSerializer, responses={200: BalanceSerializer(many=True)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        try:
            month = parse_month(data.validated_data["month"])
            water_balance_compute(month=month)
        except MeteringError as error:
            return _refused(error)
        rows = selectors.water_balance_month(month=month)
        return Response(BalanceSerializer(rows, many=True).data)


class WaterBalanceHistoryApi(APIView):
    """A district's balances, newest first (24 months)."""

    permission_classes = [require_perms("metering.view_waterbalance")]

    @extend_schema(
        operation_id="api_metering_water_balance_history",
        responses={200: BalanceSerializer(many=True)},
    )
    def get(self, request, code: str):
        dma = get_object_or_404(Dma, code=code)
        rows = selectors.water_balance_history(dma=dma)
        return Response(BalanceSerializer(rows, many=True).data)
