"""Work order endpoints (office): list, detail, create, assign (by hand or to the nearest crew),
cancel; the catalogue of types, crews with their load, and performance figures.

Permissions are explicit model permissions (``orders.view_workorder`` to read,
``orders.add_workorder`` to create, ``orders.dispatch_workorder`` to assign,
``orders.change_workorder`` to cancel), granted to roles by migrations 0002 and 0005.
"""

import datetime as dt

from django.contrib.gis.geos import Point
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from cadastre.models import ServiceAccount
from core.api import domain_error_response, require_perms
from gis_core.srid import WGS84
from gis_core.srid import lonlat as lonlat_of
from orders.models import Crew, Priority, WorkOrder, WorkOrderStatus, WorkOrderType
from orders.selectors import PERFORMANCE_DIMENSIONS, work_order_list, work_order_performance
from orders.services import (
    WorkOrderError,
    crew_open_load,
    work_order_assign,
    work_order_assign_nearest,
    work_order_cancel,
    work_order_create,
)


def work_order_error_response(error: WorkOrderError) -> Response:
    return domain_error_response(error, conflict_codes=("transition_not_allowed",))


class WorkOrderOutputSerializer(serializers.ModelSerializer):
    """A work order as JSON; the location as [lon, lat] in WGS 84 (6 decimals, ~0.1 m)."""

    # Plain strings, not enums: see cadastre/census_api.py on OpenAPI enum name collisions.
    kind = serializers.CharField(source="kind_id", read_only=True)
    status = serializers.CharField(read_only=True)
    kind_label = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    lonlat = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")
    crew = serializers.CharField(source="crew.code", default=None, allow_null=True)
    result = serializers.CharField(source="result.code", default=None, allow_null=True)
    late = serializers.BooleanField(source="is_late")
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = (
            "id",
            "number",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "reason",
            "source",
            "source_ref",
            "parcel",
            "account",
            "lonlat",
            "asset_ref",
            "priority",
            "created_at",
            "created_by",
            "due_at",
            "late",
            "crew",
            "assigned_at",
            "en_route_at",
            "started_at",
            "finished_at",
            "visits",
            "result",
            "completion",
            "conflict",
            "attachments",
            "cancelled_at",
            "cancel_reason",
        )

    def get_attachments(self, obj) -> list[dict]:
        return [
            {"kind": a.kind, "url": reverse("orders:attachment-file", args=[a.pk])}
            for a in obj.attachments.all()
        ]

    def get_lonlat(self, obj) -> list[float]:
        return lonlat_of(getattr(obj, "location_wgs84", None) or obj.location)


class WorkOrderListApi(APIView):
    """Work orders, newest first (``?status=&kind=&source=``), paginated (limit/offset)."""

    permission_classes = [require_perms("orders.view_workorder")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, help_text=", ".join(WorkOrderStatus.values))
        kind = serializers.CharField(required=False)
        source = serializers.CharField(required=False, allow_blank=True)

    OutputSerializer = WorkOrderOutputSerializer

    @extend_schema(
        operation_id="orders_work_order_list",
        parameters=[FilterSerializer],
        responses=WorkOrderOutputSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(
            work_order_list(**filters.validated_data), request, view=self
        )
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class WorkOrderDetailApi(APIView):
    permission_classes = [require_perms("orders.view_workorder")]
    OutputSerializer = WorkOrderOutputSerializer

    @extend_schema(operation_id="orders_work_order_retrieve", responses=WorkOrderOutputSerializer)
    def get(self, request, pk: int):
        order = get_object_or_404(work_order_list(), pk=pk)
        return Response(self.OutputSerializer(order).data)


class WorkOrderCancelApi(APIView):
    """Cancel an open order; 409 with the reason when its status does not allow it."""

    permission_classes = [require_perms("orders.change_workorder")]

    @extend_schema_serializer(component_name="WorkOrderCancelInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    OutputSerializer = WorkOrderOutputSerializer

    @extend_schema(
        operation_id="orders_work_order_cancel",
        request=InputSerializer,
        responses=WorkOrderOutputSerializer,
    )
    def post(self, request, pk: int):
        order = get_object_or_404(WorkOrder, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            order = work_order_cancel(
                order=order, user=request.user, reason=data.validated_data.get("reason", "")
            )
        except WorkOrderError as error:
            return work_order_error_response(error)
        return Response(self.OutputSerializer(work_order_list().get(pk=order.pk)).data)


class WorkOrderCreateApi(APIView):
    """Create an order at a point (``lon``/``lat``, WGS 84) or at an account's service point."""

    permission_classes = [require_perms("orders.add_workorder")]

    @extend_schema_serializer(component_name="WorkOrderCreateInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.CharField(max_length=20)
        reason = serializers.CharField(max_length=2000)
        account = serializers.CharField(required=False, help_text="account number")
        lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        asset_ref = serializers.CharField(required=False, allow_blank=True, max_length=60)
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)

    @extend_schema(
        operation_id="orders_work_order_create",
        request=InputSerializer,
        responses={201: WorkOrderOutputSerializer},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        account = None
        if v.get("account"):
            account = ServiceAccount.objects.filter(number=v["account"]).first()
            if account is None:
                return work_order_error_response(
                    WorkOrderError(
                        "account_unknown",
                        _("There is no account %(number)s.") % {"number": v["account"]},
                        field="account",
                    )
                )
        if "lon" in v and "lat" in v:
            location = Point(v["lon"], v["lat"], srid=WGS84)
        elif account is not None:
            location = account.service_point
        else:
            return work_order_error_response(
                WorkOrderError(
                    "location_required",
                    _("Give the order's place (lon and lat) or an account."),
                    field="lon",
                )
            )
        try:
            order = work_order_create(
                kind=v["kind"],
                reason=v["reason"],
                location=location,
                account=account,
                asset_ref=v.get("asset_ref", ""),
                priority=v.get("priority"),
                user=request.user,
            )
        except WorkOrderError as error:
            return work_order_error_response(error)
        return Response(
            WorkOrderOutputSerializer(work_order_list().get(pk=order.pk)).data, status=201
        )


class WorkOrderAssignApi(APIView):
    """Give an order to a crew (``{"crew": "C1"}``) or to the nearest free crew with the skill
    (``{"auto": true}``)."""

    permission_classes = [require_perms("orders.dispatch_workorder")]

    @extend_schema_serializer(component_name="WorkOrderAssignInput")
    class InputSerializer(serializers.Serializer):
        crew = serializers.CharField(required=False)
        auto = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="orders_work_order_assign",
        request=InputSerializer,
        responses=WorkOrderOutputSerializer,
    )
    def post(self, request, pk: int):
        order = get_object_or_404(WorkOrder.objects.select_related("kind"), pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            if data.validated_data["auto"]:
                order = work_order_assign_nearest(order=order, user=request.user)
            else:
                crew = Crew.objects.filter(code=data.validated_data.get("crew", "")).first()
                if crew is None:
                    raise WorkOrderError(
                        "crew_unknown",
                        _("Choose a crew (or ask for the nearest one)."),
                        field="crew",
                    )
                order = work_order_assign(order=order, crew=crew, user=request.user)
        except WorkOrderError as error:
            return work_order_error_response(error)
        return Response(WorkOrderOutputSerializer(work_order_list().get(pk=order.pk)).data)


class WorkOrderTypeListApi(APIView):
    """The catalogue of order types: SLA, priority, what closing one requires."""

    permission_classes = [require_perms("orders.view_workordertype")]

    class OutputSerializer(serializers.ModelSerializer):
        label = serializers.CharField(source="display_label")
        materials = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

        class Meta:
            model = WorkOrderType
            fields = (
                "code",
                "label",
                "skill",
                "priority",
                "sla_hours",
                "sla_working_hours",
                "required_fields",
                "photos_required",
                "materials",
            )

    @extend_schema(operation_id="orders_type_list", responses=OutputSerializer(many=True))
    def get(self, request):
        types = WorkOrderType.objects.filter(active=True).prefetch_related("materials")
        return Response(self.OutputSerializer(types, many=True).data)


class CrewListApi(APIView):
    """Active crews, their skills and how many open orders each holds."""

    permission_classes = [require_perms("orders.view_crew")]

    @extend_schema_serializer(component_name="CrewOutput")
    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        name = serializers.CharField()
        skills = serializers.ListField(child=serializers.CharField())
        daily_capacity = serializers.IntegerField()
        open_orders = serializers.IntegerField()
        members = serializers.ListField(child=serializers.CharField())

    @extend_schema(operation_id="orders_crew_list", responses=OutputSerializer(many=True))
    def get(self, request):
        load = crew_open_load()
        crews = Crew.objects.filter(active=True).prefetch_related("members__user")
        rows = [
            {
                "code": c.code,
                "name": c.name,
                "skills": c.skills,
                "daily_capacity": c.daily_capacity,
                "open_orders": load.get(c.pk, 0),
                "members": [m.user.username for m in c.members.all()],
            }
            for c in crews
        ]
        return Response(self.OutputSerializer(rows, many=True).data)


class PerformanceApi(APIView):
    """Field performance by ``kind``, ``crew``, ``sector`` or ``month`` of the orders created
    in [``since``, ``until``) (local dates); see ``orders.selectors.work_order_performance``."""

    permission_classes = [require_perms("orders.view_workorder")]

    class FilterSerializer(serializers.Serializer):
        by = serializers.ChoiceField(choices=tuple(PERFORMANCE_DIMENSIONS))
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)

    @extend_schema_serializer(component_name="OrderPerformanceRow")
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField(allow_null=True)
        orders = serializers.IntegerField()
        open = serializers.IntegerField()
        done = serializers.IntegerField()
        failed = serializers.IntegerField()
        cancelled = serializers.IntegerField()
        hours_to_attend = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
        hours_to_close = serializers.DecimalField(max_digits=12, decimal_places=1, allow_null=True)
        sla_met_pct = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
        first_time_fix_pct = serializers.DecimalField(
            max_digits=5, decimal_places=1, allow_null=True
        )
        efficacy_pct = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
        done_per_crew_day = serializers.DecimalField(
            max_digits=8, decimal_places=2, allow_null=True
        )

    @extend_schema(
        operation_id="orders_performance",
        parameters=[FilterSerializer],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        v = filters.validated_data
        zone = timezone.get_default_timezone()

        def local_midnight(day):
            return timezone.make_aware(dt.datetime.combine(day, dt.time()), zone)

        rows = work_order_performance(
            by=v["by"],
            since=local_midnight(v["since"]) if v.get("since") else None,
            until=local_midnight(v["until"]) if v.get("until") else None,
        )
        return Response(self.OutputSerializer(rows, many=True).data)


@extend_schema_serializer(component_name="CrewDayStop")
class CrewDayStopSerializer(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField()
    arrival = serializers.DateTimeField()


class CrewDayApi(APIView):
    """The order in which a crew should visit its open orders today (or ``?day=``), planned on
    the streets by the route engine (see orders.planning)."""

    permission_classes = [require_perms("orders.dispatch_workorder")]

    @extend_schema_serializer(component_name="CrewDayPlan")
    class OutputSerializer(serializers.Serializer):
        day = serializers.DateField()
        shift = serializers.ListField(child=serializers.DateTimeField())
        stops = CrewDayStopSerializer(many=True)
        km = serializers.FloatField()
        travel_minutes = serializers.FloatField()
        service_minutes = serializers.FloatField()
        left = serializers.ListField(child=serializers.CharField())
        solver = serializers.DictField()

    @extend_schema(
        operation_id="orders_crew_day",
        parameters=[OpenApiParameter("day", OpenApiTypes.DATE, required=False)],
        responses=OutputSerializer,
    )
    def get(self, request, code: str):
        from orders.planning import crew_day_plan

        crew = get_object_or_404(Crew, code=code)
        day = request.query_params.get("day")
        try:
            day = dt.date.fromisoformat(day) if day else None
        except ValueError:
            return work_order_error_response(
                WorkOrderError("day_invalid", _("Write the day as 2026-11-30."), field="day")
            )
        try:
            plan = crew_day_plan(crew=crew, day=day)
        except WorkOrderError as error:
            return work_order_error_response(error)
        return Response(self.OutputSerializer(plan).data)


class AttachmentFileApi(APIView):
    """A photo or signature of a work order, for who may read orders (never public media)."""

    permission_classes = [require_perms("orders.view_workorderattachment")]

    @extend_schema(
        operation_id="orders_attachment_file", responses={(200, "image/*"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk: int):
        from django.http import FileResponse

        from orders.models import WorkOrderAttachment

        attachment = get_object_or_404(WorkOrderAttachment, pk=pk)
        kind = "image/png" if attachment.image.name.lower().endswith(".png") else "image/jpeg"
        response = FileResponse(attachment.image.open("rb"), content_type=kind)
        response["Cache-Control"] = "private, max-age=3600"
        return response
