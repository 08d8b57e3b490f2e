"""Census and reconciliation endpoints under /api/census/.

Permissions are explicit model-permission checks (not ``DjangoModelPermissions``, whose
method→permission mapping does not fit "read the report" or "turn findings into orders"):

- run campaigns (create, close): ``cadastre.add_censuscampaign`` — cadastre editors, admins;
- record visits: ``cadastre.add_censusvisit`` — field crews (granted by orders migration 0002),
  cadastre editors, admins;
- read campaigns, visits and the reconciliation report: ``cadastre.view_censusvisit`` — every role;
- turn findings into inspection orders: ``cadastre.add_censuscampaign`` and
  ``orders.add_workorder`` — cadastre editors and admins.
"""

import csv
import json

from django.contrib.gis.geos import Point
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from cadastre.census_selectors import (
    FINDING_KINDS,
    MAX_KEYS_PER_REQUEST,
    FindingKeyError,
    ReconciliationFilter,
    census_campaign_list,
    census_visit_list,
    max_service_point_offset_m,
    parse_finding_key,
    reconciliation_findings,
    reconciliation_findings_by_keys,
    reconciliation_findings_iter,
)
from cadastre.census_services import (
    CensusError,
    census_campaign_close,
    census_campaign_create,
    census_visit_record,
)
from cadastre.models import CampaignStatus, CensusCampaign, CensusVisit, LandUse, Locality, Parcel
from core.api import domain_error_response, require_perms
from gis_core.api_fields import GeoJSONGeometryInput, lonlat_bbox_parse
from gis_core.srid import storage_srid
from orders.api import WorkOrderOutputSerializer, work_order_error_response
from orders.models import WorkOrderKind, WorkOrderSource
from orders.services import WorkOrderError, work_order_create

CAN_RUN_CAMPAIGNS = "cadastre.add_censuscampaign"
CAN_RECORD_VISITS = "cadastre.add_censusvisit"
CAN_READ = "cadastre.view_censusvisit"
CAN_CREATE_ORDERS = "orders.add_workorder"


def census_error_response(error: CensusError) -> Response:
    return domain_error_response(error, conflict_codes=("conflict",))


@extend_schema_field({"type": "object", "description": "GeoJSON Point in WGS 84 (EPSG:4326)"})
class Wgs84PointField(GeometryField):
    """A point read from a ``Transform(…, 4326)`` annotation."""


# Choice fields are plain strings in these serializers (the services validate them): the
# OpenAPI schema would otherwise name one enum per field and collide with other apps' "status",
# "kind" and "land_use" enums (drf-spectacular W001) until SPECTACULAR_SETTINGS gets
# ENUM_NAME_OVERRIDES for them.


class CampaignOutputSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display")
    area = GeoJSONGeometryInput(read_only=True)

    class Meta:
        model = CensusCampaign
        fields = ("id", "name", "starts_on", "ends_on", "status", "status_label", "area")


class CampaignListCreateApi(APIView):
    """``GET``: campaigns, newest first. ``POST``: create a campaign (cadastre editors)."""

    @extend_schema_serializer(component_name="CensusCampaignInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120)
        starts_on = serializers.DateField()
        ends_on = serializers.DateField()
        area = GeoJSONGeometryInput(required=False, allow_null=True)
        status = serializers.CharField(
            required=False, help_text=f"{CampaignStatus.PLANNED} or {CampaignStatus.ACTIVE}"
        )

    OutputSerializer = CampaignOutputSerializer

    def get_permissions(self):
        perm = CAN_RUN_CAMPAIGNS if self.request.method == "POST" else CAN_READ
        return [require_perms(perm)()]

    @extend_schema(
        operation_id="census_campaign_list", responses=CampaignOutputSerializer(many=True)
    )
    def get(self, request):
        return Response(self.OutputSerializer(census_campaign_list(), many=True).data)

    @extend_schema(
        operation_id="census_campaign_create",
        request=InputSerializer,
        responses={201: CampaignOutputSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            campaign = census_campaign_create(**data.validated_data, user=request.user)
        except CensusError as error:
            return census_error_response(error)
        return Response(self.OutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignCloseApi(APIView):
    permission_classes = [require_perms(CAN_RUN_CAMPAIGNS)]
    OutputSerializer = CampaignOutputSerializer

    @extend_schema(
        operation_id="census_campaign_close", request=None, responses=CampaignOutputSerializer
    )
    def post(self, request, pk: int):
        campaign = get_object_or_404(CensusCampaign, pk=pk)
        try:
            campaign = census_campaign_close(campaign=campaign, user=request.user)
        except CensusError as error:
            return census_error_response(error)
        return Response(self.OutputSerializer(campaign).data)


class VisitListRecordApi(APIView):
    """``GET``: the campaign's visits as GeoJSON (WGS 84, 6 decimals), paginated.
    ``POST`` (multipart with ``photo``, or JSON): record a visit; 201 when stored, 200 when the
    same record was already received, 409 when the record id came with different content."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="CensusVisitInput")
    class InputSerializer(serializers.Serializer):
        client_uuid = serializers.UUIDField()
        parcel = serializers.PrimaryKeyRelatedField(queryset=Parcel.objects.all())
        visited_at = serializers.DateTimeField()
        land_use_found = serializers.CharField(help_text=", ".join(LandUse.values))
        has_building = serializers.BooleanField()
        occupants = serializers.IntegerField(
            required=False, allow_null=True, default=None, min_value=0, max_value=32767
        )
        has_connection = serializers.BooleanField()
        meter_serial_seen = serializers.CharField(
            required=False, allow_blank=True, max_length=40, default=""
        )
        # Plain file field: the service checks it is an image (format, size) with its own
        # messages, so the rules live in one place.
        photo = serializers.FileField(required=False, allow_null=True)
        position = GeoJSONGeometryInput(required=False, allow_null=True)
        notes = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="CensusVisit")
    class OutputSerializer(GeoFeatureModelSerializer):
        # Named after the model field (for the OpenAPI schema), read from the WGS 84 annotation
        # (the GPS fix, or a point on the parcel when there was none).
        position = Wgs84PointField(source="point_wgs84", precision=6, read_only=True)
        cadastral_key = serializers.CharField(source="parcel.cadastral_key", read_only=True)
        visited_by = serializers.CharField(source="visited_by.username", read_only=True)
        land_use_found = serializers.CharField(read_only=True)
        photo = serializers.SerializerMethodField()

        class Meta:
            model = CensusVisit
            geo_field = "position"
            fields = (
                "id",
                "client_uuid",
                "campaign",
                "parcel",
                "cadastral_key",
                "visited_at",
                "visited_by",
                "land_use_found",
                "has_building",
                "occupants",
                "has_connection",
                "meter_serial_seen",
                "photo",
                "notes",
            )

        def get_photo(self, obj) -> str | None:
            return obj.photo.url if obj.photo else None

    def get_permissions(self):
        perm = CAN_RECORD_VISITS if self.request.method == "POST" else CAN_READ
        return [require_perms(perm)()]

    @extend_schema(operation_id="census_visit_list", responses=OutputSerializer(many=True))
    def get(self, request, pk: int):
        campaign = get_object_or_404(CensusCampaign, pk=pk)
        paginator = GeoJsonPagination()
        page = paginator.paginate_queryset(census_visit_list(campaign=campaign), request, self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="census_visit_record",
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        responses={201: OutputSerializer, 200: OutputSerializer},
    )
    def post(self, request, pk: int):
        campaign = get_object_or_404(CensusCampaign, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            visit = census_visit_record(
                campaign=campaign, visited_by=request.user, **data.validated_data
            )
        except CensusError as error:
            return census_error_response(error)
        out = census_visit_list(campaign=campaign).get(pk=visit.pk)
        return Response(
            self.OutputSerializer(out).data,
            status=status.HTTP_201_CREATED if visit.was_created else status.HTTP_200_OK,
        )


class FindingOutputSerializer(serializers.Serializer):
    key = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    description = serializers.CharField()
    parcel_id = serializers.IntegerField()
    cadastral_key = serializers.CharField()
    account_id = serializers.IntegerField(allow_null=True)
    account_number = serializers.CharField(allow_null=True)
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class ReconciliationPageOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    max_service_point_offset_m = serializers.FloatField()
    results = FindingOutputSerializer(many=True)


class ReconciliationFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, help_text="comma-separated finding kinds")
    locality = serializers.CharField(required=False, help_text="locality id or code")
    campaign = serializers.IntegerField(required=False)
    bbox = serializers.CharField(required=False, help_text="min lon,min lat,max lon,max lat")

    def validate_kind(self, value):
        kinds = tuple(k.strip() for k in value.split(",") if k.strip())
        unknown = [k for k in kinds if k not in FINDING_KINDS]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown finding kind %(kind)s; use one of %(kinds)s.")
                % {"kind": unknown[0], "kinds": ", ".join(FINDING_KINDS)}
            )
        return kinds

    def validate_locality(self, value):
        qs = Locality.objects.filter(pk=int(value)) if value.isdigit() else Locality.objects.none()
        pk = qs.values_list("pk", flat=True).first() or (
            Locality.objects.filter(code=value).values_list("pk", flat=True).first()
        )
        if pk is None:
            raise serializers.ValidationError(
                _("No locality with id or code %(value)s.") % {"value": value}
            )
        return pk

    def validate_campaign(self, value):
        if not CensusCampaign.objects.filter(pk=value).exists():
            raise serializers.ValidationError(_("No census campaign %(id)s.") % {"id": value})
        return value

    def validate_bbox(self, value):
        try:
            return lonlat_bbox_parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_filter(self) -> ReconciliationFilter:
        v = self.validated_data
        return ReconciliationFilter(
            kinds=v.get("kind") or tuple(FINDING_KINDS),
            locality_id=v.get("locality"),
            campaign_id=v.get("campaign"),
            bbox=v.get("bbox"),
        )


class _Echo:
    def write(self, value):
        return value


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` (or ``Accept: text/csv``) through content negotiation; the view
    streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only errors reach here (the view streams CSV itself): keep them readable.
        return json.dumps(data, ensure_ascii=False).encode()


class ReconciliationReportApi(APIView):
    """Findings of the cadastre against the customer roll (``cadastre.census_selectors``).

    ``?kind=no_account,use_mismatch&locality=<id or code>&campaign=<id>&bbox=…``;
    ``limit``/``offset`` paginate; ``?format=csv`` exports every finding (streamed).
    """

    permission_classes = [require_perms(CAN_READ)]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    FilterSerializer = ReconciliationFilterSerializer
    OutputSerializer = FindingOutputSerializer

    class PageSerializer(serializers.Serializer):
        limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=100)
        offset = serializers.IntegerField(required=False, min_value=0, default=0)

    @extend_schema(
        operation_id="census_reconciliation_report",
        parameters=[ReconciliationFilterSerializer, PageSerializer],
        responses=ReconciliationPageOutputSerializer,
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        flt = filters.to_filter()
        if request.accepted_renderer.format == "csv":
            return self._csv(flt)
        page = self.PageSerializer(data=request.query_params)
        page.is_valid(raise_exception=True)
        findings, total = reconciliation_findings(filters=flt, **page.validated_data)
        return Response(
            {
                "count": total,
                "limit": page.validated_data["limit"],
                "offset": page.validated_data["offset"],
                "max_service_point_offset_m": max_service_point_offset_m(),
                "results": self.OutputSerializer(findings, many=True).data,
            }
        )

    def _csv(self, flt: ReconciliationFilter) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())
        header = [
            "key",
            "kind",
            "kind_label",
            "description",
            "parcel_id",
            "cadastral_key",
            "account_id",
            "account_number",
            "lon",
            "lat",
        ]

        def rows():
            yield "\ufeff"  # BOM: spreadsheet programs then read the accents right
            yield writer.writerow(header)
            for f in reconciliation_findings_iter(filters=flt):
                yield writer.writerow(
                    [
                        f.key,
                        f.kind,
                        f.kind_label,
                        f.description,
                        f.parcel_id,
                        f.cadastral_key,
                        f.account_id or "",
                        f.account_number or "",
                        f"{f.lon:.6f}",
                        f"{f.lat:.6f}",
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="reconciliation.csv"'
        return response


class InspectionRequestApi(APIView):
    """Turn findings into inspection work orders, one per finding key, all or none.

    A finding that already has an open order gets that order back (``created: false``); keys
    that are malformed or no longer reported refuse the whole request, naming the key.
    """

    permission_classes = [require_perms(CAN_RUN_CAMPAIGNS, CAN_CREATE_ORDERS)]

    @extend_schema_serializer(component_name="InspectionRequestInput")
    class InputSerializer(serializers.Serializer):
        keys = serializers.ListField(
            child=serializers.CharField(max_length=120),
            allow_empty=False,
            max_length=MAX_KEYS_PER_REQUEST,
        )

        def validate_keys(self, keys):
            keys = list(dict.fromkeys(k.strip() for k in keys))
            for key in keys:
                try:
                    parse_finding_key(key)
                except FindingKeyError as error:
                    raise serializers.ValidationError(error.message) from None
            return keys

    @extend_schema_serializer(component_name="InspectionOrder")
    class OutputSerializer(WorkOrderOutputSerializer):
        created = serializers.BooleanField(source="was_created")

        class Meta(WorkOrderOutputSerializer.Meta):
            fields = (*WorkOrderOutputSerializer.Meta.fields, "created")

    @extend_schema(
        operation_id="census_reconciliation_inspections",
        request=InputSerializer,
        responses={201: OutputSerializer(many=True)},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        keys = data.validated_data["keys"]
        try:
            with transaction.atomic():
                findings = reconciliation_findings_by_keys(keys=keys)
                missing = [k for k in keys if k not in findings]
                if missing:
                    return Response(
                        {
                            "code": "finding_not_reported",
                            "field": "keys",
                            "detail": _(
                                "%(key)s is no longer reported by the reconciliation; refresh "
                                "the report."
                            )
                            % {"key": missing[0]},
                            "keys": missing,
                        },
                        status=status.HTTP_400_BAD_REQUEST,
                    )
                orders = [self._order_for(f, request.user) for f in (findings[k] for k in keys)]
        except WorkOrderError as error:
            return work_order_error_response(error)
        return Response(
            self.OutputSerializer(orders, many=True).data, status=status.HTTP_201_CREATED
        )

    @staticmethod
    def _order_for(finding, user):
        parcel = Parcel.objects.get(pk=finding.parcel_id)
        account = parcel.accounts.get(pk=finding.account_id) if finding.account_id else None
        return work_order_create(
            kind=WorkOrderKind.INSPECTION,
            reason=finding.description,
            location=Point(finding.x, finding.y, srid=storage_srid()),
            parcel=parcel,
            account=account,
            source=WorkOrderSource.CENSUS_RECONCILIATION,
            source_ref=finding.key,
            user=user,
        )
