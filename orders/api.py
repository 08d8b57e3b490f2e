"""Work order endpoints: list, detail, cancel. Orders are created by the apps that need them
(the census reconciliation today) through ``orders.services.work_order_create``.

Permissions are explicit model permissions (``orders.view_workorder`` to read,
``orders.change_workorder`` to cancel), granted to roles by migration 0002.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response, require_perms
from orders.models import WorkOrder, WorkOrderStatus
from orders.selectors import work_order_list
from orders.services import WorkOrderError, work_order_cancel

COORD_DECIMALS = 6


def work_order_error_response(error: WorkOrderError) -> Response:
    return domain_error_response(error, conflict_codes=("transition_not_allowed",))


class WorkOrderOutputSerializer(serializers.ModelSerializer):
    """A work order as JSON; the location as [lon, lat] in WGS 84 (6 decimals, ~0.1 m)."""

    # Plain strings, not enums: see cadastre/census_api.py on OpenAPI enum name collisions.
    kind = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    lonlat = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")

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
            "created_at",
            "created_by",
            "cancelled_at",
            "cancel_reason",
        )

    def get_lonlat(self, obj) -> list[float]:
        point = getattr(obj, "location_wgs84", None)
        if point is None:
            point = obj.location.transform(4326, clone=True)
        return [round(point.x, COORD_DECIMALS), round(point.y, COORD_DECIMALS)]


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
