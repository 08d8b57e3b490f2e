"""The crews' side of the field app (mounted under /field/api/orders/, inside the service
worker's scope): my crew's open orders with what closing each requires, the sync of steps,
and photo/signature uploads. Expected consumption or debts are never sent to the phone."""

import uuid

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response, require_perms
from orders.field_sync import orders_field_sync
from orders.models import COMPLETION_FIELDS, AttachmentKind, ResultCode, WorkOrder
from orders.selectors import crew_open_orders
from orders.services import WorkOrderError, user_crew, work_order_attachment_add

COORD_DECIMALS = 6
ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024


@extend_schema_serializer(component_name="FieldOrder")
class FieldOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    priority = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()
    account = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_blank=True)
    due_at = serializers.DateTimeField(allow_null=True)
    late = serializers.BooleanField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    required = serializers.ListField(child=serializers.DictField())
    photos_required = serializers.IntegerField()
    photos_uploaded = serializers.IntegerField()
    materials = serializers.ListField(child=serializers.DictField())


def _field_order(o: WorkOrder) -> dict:
    attachments = [a.kind for a in o.attachments.all()]
    return {
        "id": o.pk,
        "number": o.number,
        "kind": o.kind_id,
        "kind_label": o.kind_label,
        "priority": o.priority,
        "status": o.status,
        "reason": o.reason,
        "account": o.account.number if o.account_id else None,
        "address": (o.parcel.address if o.parcel_id else "") or "",
        "due_at": o.due_at,
        "late": o.is_late,
        "lon": round(o.location_wgs84.x, COORD_DECIMALS),
        "lat": round(o.location_wgs84.y, COORD_DECIMALS),
        "required": [
            {"name": name, "label": str(COMPLETION_FIELDS.get(name, name))}
            for name in o.kind.required_fields
        ],
        "photos_required": o.kind.photos_required,
        "photos_uploaded": attachments.count(AttachmentKind.PHOTO),
        "materials": [
            {"code": m.code, "name": m.name, "unit": m.unit} for m in o.kind.materials.all()
        ],
    }


class FieldOrdersApi(APIView):
    """``GET``: the signed-in crew member's open orders (most urgent first) and the result
    codes a visit can end with."""

    permission_classes = [require_perms("orders.add_workorderstep")]

    @extend_schema_serializer(component_name="FieldOrders")
    class OutputSerializer(serializers.Serializer):
        crew = serializers.CharField(allow_null=True)
        orders = FieldOrderSerializer(many=True)
        results = serializers.ListField(child=serializers.DictField())

    @extend_schema(operation_id="field_orders_mine", responses=OutputSerializer)
    def get(self, request):
        crew = user_crew(request.user)
        orders = crew_open_orders(crew=crew) if crew is not None else []
        results = [
            {"code": r.code, "label": r.label, "success": r.success}
            for r in ResultCode.objects.filter(active=True)
        ]
        data = {
            "crew": crew.code if crew else None,
            "orders": [_field_order(o) for o in orders],
            "results": results,
        }
        return Response(self.OutputSerializer(data).data)


class FieldOrderSyncApi(APIView):
    """``POST {device_id, steps: [...]}`` (see orders/field_sync.py): each step applied once."""

    permission_classes = [require_perms("orders.add_workorderstep")]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="field_orders_sync",
        request={"application/json": {"type": "object"}},
        responses={200: {"type": "object"}},
    )
    def post(self, request):
        try:
            results = orders_field_sync(user=request.user, batch=request.data)
        except WorkOrderError as error:
            return domain_error_response(error)
        items = [r.as_dict() for r in results]
        counts = {
            s: sum(1 for r in items if r["status"] == s)
            for s in ("accepted", "duplicate", "conflict", "rejected")
        }
        return Response({"results": items, **counts})


class FieldAttachmentApi(APIView):
    """A photo or the customer's signature of an order (multipart), once per client id."""

    permission_classes = [require_perms("orders.add_workorderattachment")]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        client_id = serializers.UUIDField()
        order_id = serializers.IntegerField()
        kind = serializers.ChoiceField(choices=AttachmentKind.values)
        file = serializers.ImageField()

    @extend_schema(
        operation_id="field_orders_attachment", request=InputSerializer, responses={201: dict}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return Response(
                {"code": "invalid", "field": None, "detail": data.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        v = data.validated_data
        if v["file"].size > ATTACHMENT_MAX_BYTES:
            return domain_error_response(
                WorkOrderError(
                    "too_large",
                    _("The picture weighs %(size)s MB; send one of %(max)s MB at most.")
                    % {
                        "size": round(v["file"].size / 2**20, 1),
                        "max": ATTACHMENT_MAX_BYTES // 2**20,
                    },
                    field="file",
                )
            )
        order = WorkOrder.objects.filter(pk=v["order_id"]).first()
        if order is None:
            return domain_error_response(
                WorkOrderError(
                    "order_unknown",
                    _("Work order %(id)s does not exist.") % {"id": v["order_id"]},
                    field="order_id",
                    status=status.HTTP_404_NOT_FOUND,
                )
            )
        try:
            attachment = work_order_attachment_add(
                order=order,
                kind=v["kind"],
                client_id=uuid.UUID(str(v["client_id"])),
                image=v["file"],
                user=request.user,
            )
        except WorkOrderError as error:
            return domain_error_response(error)
        return Response({"id": attachment.pk, "client_id": str(attachment.client_id)}, status=201)
