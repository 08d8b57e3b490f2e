"""Service-desk endpoints (under /api/orders/): tickets and their flows, and the 360° view of a
customer. Views validate input, call orders.desk or a selector, and serialize."""

from decimal import Decimal

from django.contrib.gis.geos import Point
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from cadastre.models import Customer, Parcel, ServiceAccount
from cadastre.roll_services import RollError
from core.api import domain_error_response, require_perms
from core.errors import DomainError
from gis_core.srid import WGS84
from gis_core.srid import lonlat as lonlat_of
from orders import desk
from orders.models import Ticket, TicketChannel, TicketKind
from orders.selectors import customer_overview


def _refused(error) -> Response:
    if isinstance(error, RollError):
        detail = {k: [str(m) for m in v] for k, v in error.message_dict.items()}
        return Response(
            {"code": "roll_refused", "field": next(iter(detail), None), "detail": detail},
            status=400,
        )
    return domain_error_response(error, conflict_codes=("ticket_closed",))


class TicketMessageSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField()
    public = serializers.BooleanField()
    by = serializers.CharField(source="by.username")
    sent_at = serializers.DateTimeField(allow_null=True)


@extend_schema_serializer(component_name="TicketOutput")
class TicketSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    account = serializers.CharField(source="account.number", default=None, allow_null=True)
    customer = serializers.CharField(source="customer.__str__", default=None, allow_null=True)
    work_order = serializers.CharField(source="work_order.number", default=None, allow_null=True)
    late = serializers.BooleanField(source="is_late")
    lonlat = serializers.SerializerMethodField()
    messages = TicketMessageSerializer(many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = (
            "id",
            "number",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "channel",
            "customer",
            "account",
            "description",
            "request",
            "work_order",
            "created_at",
            "due_at",
            "late",
            "closed_at",
            "resolution",
            "lonlat",
            "messages",
        )

    def get_lonlat(self, obj) -> list[float] | None:
        return lonlat_of(obj.location)


def _ticket(pk: int) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related("account", "customer", "work_order").prefetch_related(
            "messages__by"
        ),
        pk=pk,
    )


class TicketListApi(APIView):
    """``GET``: tickets, newest first (``?status=&kind=&account=``); ``POST``: receive one."""

    def get_permissions(self):
        perm = "orders.add_ticket" if self.request.method == "POST" else "orders.view_ticket"
        return [require_perms(perm)()]

    @extend_schema_serializer(component_name="TicketOpenInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=TicketKind.choices)
        description = serializers.CharField(max_length=4000)
        channel = serializers.ChoiceField(choices=TicketChannel.choices, required=False)
        account = serializers.CharField(required=False, help_text="account number")
        customer = serializers.IntegerField(required=False)
        parcel = serializers.CharField(required=False, help_text="cadastral key")
        lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        request = serializers.DictField(required=False)

    @extend_schema(operation_id="tickets_list", responses=TicketSerializer(many=True))
    def get(self, request):
        qs = Ticket.objects.select_related("account", "customer", "work_order").prefetch_related(
            "messages__by"
        )
        for name in ("status", "kind"):
            if value := request.query_params.get(name):
                qs = qs.filter(**{name: value})
        if value := request.query_params.get("account"):
            qs = qs.filter(account__number=value)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs.order_by("-created_at", "-id"), request, view=self)
        return paginator.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(
        operation_id="tickets_open", request=InputSerializer, responses={201: TicketSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        account = customer = parcel = None
        if v.get("account"):
            account = get_object_or_404(ServiceAccount, number=v["account"])
        if v.get("customer"):
            customer = get_object_or_404(Customer, pk=v["customer"])
        if v.get("parcel"):
            parcel = get_object_or_404(Parcel, cadastral_key=v["parcel"])
        location = Point(v["lon"], v["lat"], srid=WGS84) if "lon" in v and "lat" in v else None
        try:
            ticket = desk.ticket_open(
                kind=v["kind"],
                description=v["description"],
                channel=v.get("channel", TicketChannel.COUNTER),
                account=account,
                customer=customer,
                parcel=parcel,
                location=location,
                request=v.get("request"),
                user=request.user,
            )
        except desk.TicketError as error:
            return _refused(error)
        return Response(TicketSerializer(_ticket(ticket.pk)).data, status=201)


class TicketDetailApi(APIView):
    permission_classes = [require_perms("orders.view_ticket")]

    @extend_schema(operation_id="tickets_retrieve", responses=TicketSerializer)
    def get(self, request, pk: int):
        return Response(TicketSerializer(_ticket(pk)).data)


class FeasibilityLetterApi(APIView):
    """The feasibility result letter (PDF with a map) of an answered feasibility request."""

    permission_classes = [require_perms("orders.view_ticket")]

    @extend_schema(
        operation_id="tickets_feasibility_letter",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int):
        from orders.letters import feasibility_letter_pdf

        ticket = _ticket(pk)
        try:
            content = feasibility_letter_pdf(ticket=ticket)
        except desk.TicketError as error:
            return _refused(error)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="factibilidad-{ticket.number}.pdf"'
        return response


# What a missing action field is called on the desk's form, for the message the clerk reads.
REQUIRED_LABELS = {
    "amount": gettext_lazy("the amount"),
    "adjustment_reason": gettext_lazy("the reason for the adjustment"),
    "down_payment": gettext_lazy("the down payment"),
    "installments": gettext_lazy("the number of installments"),
    "first_due_date": gettext_lazy("the first due date"),
}


def _require(values: dict, *names: str) -> None:
    for name in names:
        if values.get(name) in (None, ""):
            raise desk.TicketError(
                "field_required",
                _("Give %(what)s.") % {"what": REQUIRED_LABELS[name]},
                field=name,
            )


class TicketActionApi(APIView):
    """``POST`` an action on a ticket: ``message`` {text, public}, ``inspection`` {reason},
    ``resolve`` {resolution, granted, credit_authorization}, ``cancel`` {reason}, ``feasibility`` (answered from the
    network layer), ``adjustment`` {amount, adjustment_reason, adjustment_kind} (a bill
    clarification asks billing for a credit/debit note), ``agreement`` {down_payment,
    installments, first_due_date, monthly_rate, credit_authorization} (signs the payment agreement asked for)."""

    permission_classes = [require_perms("orders.change_ticket")]

    @extend_schema_serializer(component_name="TicketActionInput")
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(required=False, allow_blank=True, max_length=4000)
        public = serializers.BooleanField(required=False, default=True)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        resolution = serializers.CharField(required=False, allow_blank=True, max_length=4000)
        granted = serializers.BooleanField(required=False, default=True)
        amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
        adjustment_reason = serializers.CharField(required=False, max_length=40)
        adjustment_kind = serializers.ChoiceField(
            choices=("credit_note", "debit_note"), required=False, default="credit_note"
        )
        down_payment = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
        installments = serializers.IntegerField(required=False, min_value=1, max_value=120)
        first_due_date = serializers.DateField(required=False)
        monthly_rate = serializers.DecimalField(
            max_digits=7, decimal_places=6, required=False, default=Decimal("0")
        )
        credit_authorization = serializers.IntegerField(
            required=False,
            help_text="resolve (change of holder), agreement: an authorized credit check "
            "(when credit control asks for one)",
        )

    @extend_schema(
        operation_id="tickets_action", request=InputSerializer, responses=TicketSerializer
    )
    def post(self, request, pk: int, action: str):
        ticket = _ticket(pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            if action == "message":
                desk.ticket_message_add(
                    ticket=ticket, text=v.get("text", ""), public=v["public"], user=request.user
                )
            elif action == "inspection":
                desk.ticket_inspection_request(
                    ticket=ticket, reason=v.get("reason", ""), user=request.user
                )
            elif action == "resolve":
                desk.ticket_resolve(
                    ticket=ticket,
                    resolution=v.get("resolution", ""),
                    granted=v["granted"],
                    credit_authorization=v.get("credit_authorization"),
                    user=request.user,
                )
            elif action == "feasibility":
                desk.ticket_feasibility_answer(ticket=ticket, user=request.user)
            elif action == "cancel":
                desk.ticket_cancel(ticket=ticket, reason=v.get("reason", ""), user=request.user)
            elif action == "adjustment":
                _require(v, "amount", "adjustment_reason")
                desk.ticket_adjustment_request(
                    ticket=ticket,
                    amount=v["amount"],
                    reason=v["adjustment_reason"],
                    kind=v["adjustment_kind"],
                    note=v.get("text", ""),
                    user=request.user,
                )
            elif action == "agreement":
                _require(v, "down_payment", "installments", "first_due_date")
                desk.ticket_agreement_sign(
                    ticket=ticket,
                    down_payment=v["down_payment"],
                    installments=v["installments"],
                    first_due_date=v["first_due_date"],
                    monthly_rate=v["monthly_rate"],
                    credit_authorization=v.get("credit_authorization"),
                    user=request.user,
                )
            else:
                raise desk.TicketError(
                    "action_unknown",
                    _(
                        "“%(action)s” is not something a request can do; use message, inspection, resolve, feasibility, adjustment, agreement or cancel."
                    )
                    % {"action": action},
                    status=404,
                )
        except (DomainError, RollError) as error:
            return _refused(error)
        return Response(TicketSerializer(_ticket(pk)).data)


class ContractApi(APIView):
    """A new contract in one transaction (see orders.desk.contract_open)."""

    permission_classes = [require_perms("orders.add_ticket", "cadastre.add_serviceaccount")]

    @extend_schema_serializer(component_name="ContractInput")
    class InputSerializer(serializers.Serializer):
        parcel = serializers.CharField(help_text="cadastral key")
        lon = serializers.FloatField(min_value=-180, max_value=180)
        lat = serializers.FloatField(min_value=-90, max_value=90)
        account = serializers.DictField(help_text="number, use_type, water, sewer, billing_cycle…")
        customer = serializers.IntegerField(required=False)
        new_customer = serializers.DictField(required=False)
        credit_authorization = serializers.IntegerField(
            required=False, help_text="an authorized credit check (when credit control asks)"
        )

    @extend_schema(
        operation_id="contract_open", request=InputSerializer, responses={201: TicketSerializer}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        parcel = get_object_or_404(Parcel, cadastral_key=v["parcel"])
        customer = get_object_or_404(Customer, pk=v["customer"]) if v.get("customer") else None
        try:
            ticket = desk.contract_open(
                parcel=parcel,
                service_point=Point(v["lon"], v["lat"], srid=WGS84),
                account=v["account"],
                customer=customer,
                new_customer=v.get("new_customer"),
                credit_authorization=v.get("credit_authorization"),
                user=request.user,
            )
        except (DomainError, RollError) as error:
            return _refused(error)
        return Response(TicketSerializer(_ticket(ticket.pk)).data, status=201)


class AccountOverviewApi(APIView):
    """The 360° view of an account's customer (the desk finds people by account number)."""

    permission_classes = [require_perms("cadastre.view_customer", "orders.view_ticket")]

    @extend_schema(operation_id="account_overview", responses={200: dict})
    def get(self, request, pk: int):
        account = get_object_or_404(ServiceAccount.objects.select_related("customer"), pk=pk)
        return Response(customer_overview(customer=account.customer, user=request.user))


class CustomerOverviewApi(APIView):
    """The 360° view of a customer: accounts (with place, sectors, last readings and
    consumption), open work orders and tickets."""

    permission_classes = [require_perms("cadastre.view_customer", "orders.view_ticket")]

    @extend_schema(operation_id="customer_overview", responses={200: dict})
    def get(self, request, pk: int):
        customer = get_object_or_404(Customer, pk=pk)
        return Response(customer_overview(customer=customer, user=request.user))
