"""CFDI API under /api/cfdi/ for billing clerks and cashiers (issue) and clerks, managers and
admins (cancel).

Views validate input, call :mod:`billing.cfdi.services` / :mod:`billing.cfdi.selectors` and
serialize. A refusal answers 400 (409 for "the thing changed state meanwhile", 502 when the PAC
refuses, 503 when CFDI is not configured) with ``{"code", "field", "detail"}``.

- ``cfdi/`` GET list (``?bill=&payment=&customer=&kind=&status=``); ``cfdi/<id>/`` GET detail;
  ``cfdi/<id>/xml/`` GET the stamped XML (attachment); ``cfdi/<id>/cancel/`` POST
  ``{"reason": "01".."04", "replacement": id}``; ``cfdi/<id>/cancel/refresh/`` POST asks SAT
  how a requested cancellation stands.
- ``bills/<id>/invoice/`` POST ``{"receiver": {...}}`` (optional overrides of the customer's
  CFDI defaults); ``payments/<id>/complement/`` POST; ``payments/<id>/invoice/`` POST
  ``{"receiver": {...}}``; ``global/`` POST ``{"periodicity": "01"|"04", "year", "month",
  "day"}``.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.cfdi import selectors, services
from billing.cfdi.errors import CfdiError
from billing.cfdi.models import CancelReason, Cfdi, CfdiKind, CfdiStatus, Periodicity
from billing.models import Bill
from billing.payments.models import Payment
from core.api import domain_error_response, require_perms

ISSUE = "cfdi.issue_cfdi"
CANCEL = "cfdi.cancel_cfdi"
VIEW = "cfdi.view_cfdi"


def _refused(error: CfdiError) -> Response:
    return domain_error_response(error)


class CfdiOutputSerializer(serializers.ModelSerializer):
    # A plain string here: the cancel input's ``reason`` is the one enum of SAT's reasons.
    cancel_reason = serializers.CharField(
        read_only=True, help_text=_("SAT cancellation reason: 01, 02, 03, 04, or empty.")
    )

    class Meta:
        model = Cfdi
        fields = [
            "id",
            "kind",
            "serie",
            "folio",
            "status",
            "uuid",
            "issuer_rfc",
            "receiver_rfc",
            "receiver_name",
            "receiver_tax_regime",
            "receiver_cfdi_use",
            "receiver_postal_code",
            "payment_method",
            "payment_form",
            "subtotal",
            "discount",
            "tax",
            "total",
            "bill",
            "payment",
            "periodicity",
            "period_start",
            "period_end",
            "created_at",
            "stamped_at",
            "cancel_reason",
            "replacement",
            "cancel_requested_at",
            "cancelled_at",
        ]


class ReceiverSerializer(serializers.Serializer):
    """Overrides of the customer's CFDI defaults for one invoice; omitted fields keep them."""

    rfc = serializers.CharField(max_length=13, required=False)
    name = serializers.CharField(max_length=254, required=False)
    tax_regime = serializers.CharField(max_length=3, required=False)
    cfdi_use = serializers.CharField(max_length=4, required=False)
    postal_code = serializers.CharField(max_length=5, required=False)


class InvoiceInputSerializer(serializers.Serializer):
    receiver = ReceiverSerializer(required=False)


class CfdiListApi(APIView):
    permission_classes = [require_perms(VIEW)]

    class FilterSerializer(serializers.Serializer):
        bill = serializers.IntegerField(required=False)
        payment = serializers.IntegerField(required=False)
        customer = serializers.IntegerField(required=False)
        kind = serializers.ChoiceField(choices=CfdiKind.choices, required=False)
        status = serializers.ChoiceField(choices=CfdiStatus.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses={200: CfdiOutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        cfdis = selectors.cfdi_list(**filters.validated_data)
        return Response(CfdiOutputSerializer(cfdis, many=True).data)


class CfdiDetailApi(APIView):
    permission_classes = [require_perms(VIEW)]

    @extend_schema(responses={200: CfdiOutputSerializer})
    def get(self, request, pk: int):
        return Response(CfdiOutputSerializer(get_object_or_404(Cfdi, pk=pk)).data)


class CfdiXmlApi(APIView):
    permission_classes = [require_perms(VIEW)]

    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        xml, name = selectors.cfdi_xml(cfdi=get_object_or_404(Cfdi, pk=pk))
        response = HttpResponse(xml, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class CfdiCancelApi(APIView):
    permission_classes = [require_perms(CANCEL)]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=CancelReason.choices)
        replacement = serializers.IntegerField(required=False, allow_null=True)

    @extend_schema(request=InputSerializer, responses={200: CfdiOutputSerializer})
    def post(self, request, pk: int):
        cfdi = get_object_or_404(Cfdi, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        replacement = None
        if data.validated_data.get("replacement"):
            replacement = get_object_or_404(Cfdi, pk=data.validated_data["replacement"])
        try:
            cfdi = services.cfdi_cancel(
                cfdi=cfdi,
                reason=data.validated_data["reason"],
                replacement=replacement,
                user=request.user,
            )
        except CfdiError as error:
            return _refused(error)
        return Response(CfdiOutputSerializer(cfdi).data)


class CfdiCancelRefreshApi(APIView):
    """Ask SAT how a requested cancellation stands (the receiver may accept or reject it)."""

    permission_classes = [require_perms(CANCEL)]

    @extend_schema(request=None, responses={200: CfdiOutputSerializer})
    def post(self, request, pk: int):
        try:
            cfdi = services.cfdi_cancel_refresh(cfdi=get_object_or_404(Cfdi, pk=pk))
        except CfdiError as error:
            return _refused(error)
        return Response(CfdiOutputSerializer(cfdi).data)


class BillInvoiceApi(APIView):
    permission_classes = [require_perms(ISSUE)]

    @extend_schema(request=InvoiceInputSerializer, responses={201: CfdiOutputSerializer})
    def post(self, request, pk: int):
        bill = get_object_or_404(Bill, pk=pk)
        data = InvoiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            cfdi = services.invoice_bill(
                bill=bill, receiver=data.validated_data.get("receiver"), user=request.user
            )
        except CfdiError as error:
            return _refused(error)
        return Response(CfdiOutputSerializer(cfdi).data, status=201)


def _payment(pk: int):
    return get_object_or_404(Payment, pk=pk)


class PaymentComplementApi(APIView):
    permission_classes = [require_perms(ISSUE)]

    @extend_schema(request=None, responses={201: CfdiOutputSerializer})
    def post(self, request, pk: int):
        try:
            cfdi = services.payment_complement(payment=_payment(pk), user=request.user)
        except CfdiError as error:
            return _refused(error)
        return Response(CfdiOutputSerializer(cfdi).data, status=201)


class PaymentInvoiceApi(APIView):
    permission_classes = [require_perms(ISSUE)]

    @extend_schema(request=InvoiceInputSerializer, responses={201: CfdiOutputSerializer})
    def post(self, request, pk: int):
        payment = _payment(pk)
        data = InvoiceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            cfdi = services.invoice_payment(
                payment=payment, receiver=data.validated_data.get("receiver"), user=request.user
            )
        except CfdiError as error:
            return _refused(error)
        return Response(CfdiOutputSerializer(cfdi).data, status=201)


class GlobalInvoiceApi(APIView):
    permission_classes = [require_perms(ISSUE)]

    class InputSerializer(serializers.Serializer):
        periodicity = serializers.ChoiceField(choices=Periodicity.choices)
        year = serializers.IntegerField(min_value=2022, max_value=2100)
        month = serializers.IntegerField(min_value=1, max_value=12)
        day = serializers.IntegerField(min_value=1, max_value=31, required=False)

    @extend_schema(request=InputSerializer, responses={201: CfdiOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            cfdi = services.global_invoice(**data.validated_data, user=request.user)
        except CfdiError as error:
            return _refused(error)
        return Response(CfdiOutputSerializer(cfdi).data, status=201)
