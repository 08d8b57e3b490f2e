"""Credit control and collection log API under /api/credit/.

Views validate input, call :mod:`billing.credit.control` / ``services`` / ``selectors`` and
serialize. Money is a decimal string. A refusal answers ``{"code", "field", "detail"}`` with
400, 403, 404 or 409 (the thing changed state meanwhile: reload).

- ``check/`` GET ``?point=&customer=|account=|parcel=``: the decision now, as the clerk's
  screen shows it (every call is logged as a credit check).
- ``checks/<id>/authorize/`` POST ``{"note"}``: a manager authorizes an *authorize* decision.
- ``contacts/`` GET ``?account=`` / POST a contact (and its promise of payment).
- ``worklist/`` and ``route/`` GET ``?day=&collector=``: a collector's accounts of the day and
  their visiting order (``collector`` of another user: managers only).
- ``escalations/`` GET: broken promises brought to managers.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point as GeoPoint
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.credit import control, selectors, services
from billing.credit.models import (
    CollectionContact,
    ContactKind,
    ContactResult,
    CreditError,
    Decision,
    Escalation,
    Point,
)
from cadastre.models import Customer, Parcel, ServiceAccount
from core.api import domain_error_response, require_perms
from gis_core.srid import WGS84, lonlat

CONFLICTS = ("not_authorizable", "already_authorized", "promise_open")
MONEY = {"max_digits": 14, "decimal_places": 2}
LIST_LIMIT = 500


@extend_schema_field({"type": "string", "pattern": "^(" + "|".join(ContactKind.values) + ")$"})
class CreditContactKindField(serializers.ChoiceField):
    """The kind of contact, described by a pattern in the schema: an enum becomes a component
    named after the field, which would clash with the other apps' "kind" fields."""

    def __init__(self, **kwargs):
        super().__init__(choices=ContactKind.choices, **kwargs)


def _refused(error: CreditError) -> Response:
    return domain_error_response(error, conflict_codes=CONFLICTS)


class CreditRuleSerializer(serializers.Serializer):
    figure = serializers.CharField()
    value = serializers.CharField()
    threshold = serializers.CharField()
    months = serializers.IntegerField(allow_null=True)
    decision = serializers.ChoiceField(choices=Decision.choices)


class CreditDecisionOutputSerializer(serializers.Serializer):
    check_id = serializers.IntegerField()
    point = serializers.CharField()
    level = serializers.CharField()
    decision = serializers.ChoiceField(choices=Decision.choices)
    decision_label = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.CharField())
    figures = serializers.DictField()
    rules = CreditRuleSerializer(many=True)

    def get_decision_label(self, obj) -> str:
        return str(Decision(obj.decision).label)


class CreditCheckQuerySerializer(serializers.Serializer):
    point = serializers.ChoiceField(choices=Point.choices)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.all(), required=False, allow_null=True, default=None
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=ServiceAccount.objects.select_related("customer", "parcel"),
        required=False,
        allow_null=True,
        default=None,
    )
    parcel = serializers.PrimaryKeyRelatedField(
        queryset=Parcel.objects.all(), required=False, allow_null=True, default=None
    )


class CreditCheckApi(APIView):
    permission_classes = [require_perms("credit.run_creditcheck")]

    @extend_schema(
        operation_id="credit_check",
        parameters=[CreditCheckQuerySerializer],
        responses={200: CreditDecisionOutputSerializer},
    )
    def get(self, request):
        query = CreditCheckQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            decision = control.credit_check(user=request.user, **query.validated_data)
        except CreditError as error:
            return _refused(error)
        return Response(CreditDecisionOutputSerializer(decision).data)


class CreditNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500)


class CreditCheckOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    point = serializers.CharField()
    decision = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    checked_by = serializers.CharField(source="checked_by.username", allow_null=True)
    checked_at = serializers.DateTimeField()
    authorized_by = serializers.CharField(source="authorized_by.username", allow_null=True)
    authorized_at = serializers.DateTimeField(allow_null=True)
    authorization_note = serializers.CharField()


class CreditAuthorizeApi(APIView):
    permission_classes = [require_perms("credit.authorize_creditcheck")]

    @extend_schema(
        operation_id="credit_check_authorize",
        request=CreditNoteSerializer,
        responses={200: CreditCheckOutputSerializer},
    )
    def post(self, request, pk: int):
        data = CreditNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            check = control.credit_authorize(
                check_id=pk, user=request.user, note=data.validated_data["note"]
            )
        except CreditError as error:
            return _refused(error)
        return Response(CreditCheckOutputSerializer(check).data)


class CreditContactOutputSerializer(serializers.ModelSerializer):
    collector = serializers.CharField(source="collector.username")
    kind = CreditContactKindField()
    lonlat = serializers.SerializerMethodField()
    promise_date = serializers.DateField(source="promise.promised_date", allow_null=True)
    promise_amount = serializers.DecimalField(source="promise.amount", allow_null=True, **MONEY)
    promise_status = serializers.CharField(source="promise.status", allow_null=True)

    class Meta:
        model = CollectionContact
        fields = [
            "id",
            "account",
            "collector",
            "kind",
            "at",
            "result",
            "note",
            "next_contact",
            "lonlat",
            "promise_date",
            "promise_amount",
            "promise_status",
        ]

    def get_lonlat(self, obj) -> list[float] | None:
        return lonlat(obj.position)


class CreditContactInputSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=ServiceAccount.objects.all())
    kind = CreditContactKindField()
    result = serializers.ChoiceField(choices=ContactResult.choices)
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    next_contact = serializers.DateField(required=False, allow_null=True, default=None)
    lon = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    promise_date = serializers.DateField(required=False, allow_null=True, default=None)
    promise_amount = serializers.DecimalField(
        required=False, allow_null=True, default=None, **MONEY
    )


class CreditContactFilterSerializer(serializers.Serializer):
    account = serializers.IntegerField(required=False)


class CreditContactListApi(APIView):
    permission_classes = [require_perms("credit.view_collectioncontact")]

    def get_permissions(self):
        if self.request.method == "POST":
            return [require_perms("credit.add_collectioncontact")()]
        return super().get_permissions()

    @extend_schema(
        operation_id="credit_contacts_list",
        parameters=[CreditContactFilterSerializer],
        responses={200: CreditContactOutputSerializer(many=True)},
    )
    def get(self, request):
        filters = CreditContactFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        contacts = CollectionContact.objects.select_related("collector", "promise")
        if "account" in filters.validated_data:
            contacts = contacts.filter(account_id=filters.validated_data["account"])
        return Response(
            CreditContactOutputSerializer(
                contacts.order_by("-at", "-pk")[:LIST_LIMIT], many=True
            ).data
        )

    @extend_schema(
        operation_id="credit_contacts_create",
        request=CreditContactInputSerializer,
        responses={201: CreditContactOutputSerializer},
    )
    def post(self, request):
        data = CreditContactInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = dict(data.validated_data)
        lon, lat = args.pop("lon"), args.pop("lat")
        position = GeoPoint(lon, lat, srid=WGS84) if lon is not None and lat is not None else None
        try:
            contact = services.contact_log(collector=request.user, position=position, **args)
        except CreditError as error:
            return _refused(error)
        contact = CollectionContact.objects.select_related("collector", "promise").get(
            pk=contact.pk
        )
        return Response(CreditContactOutputSerializer(contact).data, status=201)


class CreditWorkItemSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    number = serializers.CharField()
    customer = serializers.CharField()
    phone = serializers.CharField()
    status = serializers.CharField()
    overdue = serializers.DecimalField(**MONEY)
    days_overdue = serializers.IntegerField()
    next_contact = serializers.DateField(allow_null=True)
    last_contact_at = serializers.DateTimeField(allow_null=True)
    last_result = serializers.CharField()
    promise_date = serializers.DateField(allow_null=True)
    promise_amount = serializers.DecimalField(allow_null=True, **MONEY)
    lonlat = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class CreditRouteOutputSerializer(serializers.Serializer):
    method = serializers.CharField(help_text="routing, straight_line or none")
    km = serializers.FloatField()
    stops = CreditWorkItemSerializer(many=True)


class CreditDayQuerySerializer(serializers.Serializer):
    day = serializers.DateField(required=False)
    collector = serializers.IntegerField(required=False)


def _collector_and_day(request):
    query = CreditDayQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    day = query.validated_data.get("day") or timezone.localdate()
    wanted = query.validated_data.get("collector")
    if wanted is None or wanted == request.user.pk:
        return request.user, day
    # Another collector's day: supervisors (who authorize credit) only.
    if not request.user.has_perm("credit.authorize_creditcheck"):
        raise CreditError(
            "not_allowed", _("You may only see your own worklist."), field="collector", status=403
        )
    collector = get_user_model().objects.filter(pk=wanted).first()
    if collector is None:
        # Not the supervisor's own list in its place: they would act on the wrong accounts.
        raise CreditError(
            "collector_unknown",
            _("There is no user %(id)s: choose the collector from the list.") % {"id": wanted},
            field="collector",
            status=404,
        )
    return collector, day


class CreditWorklistApi(APIView):
    permission_classes = [require_perms("credit.view_worklist")]

    @extend_schema(
        operation_id="credit_worklist",
        parameters=[CreditDayQuerySerializer],
        responses={200: CreditWorkItemSerializer(many=True)},
    )
    def get(self, request):
        try:
            collector, day = _collector_and_day(request)
        except CreditError as error:
            return _refused(error)
        rows = selectors.worklist(collector=collector, day=day)
        return Response(CreditWorkItemSerializer(rows, many=True).data)


class CreditRouteApi(APIView):
    permission_classes = [require_perms("credit.view_worklist")]

    @extend_schema(
        operation_id="credit_route",
        parameters=[CreditDayQuerySerializer],
        responses={200: CreditRouteOutputSerializer},
    )
    def get(self, request):
        try:
            collector, day = _collector_and_day(request)
        except CreditError as error:
            return _refused(error)
        return Response(
            CreditRouteOutputSerializer(selectors.visit_route(collector=collector, day=day)).data
        )


class CreditEscalationOutputSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.number")
    promised_date = serializers.DateField(source="promise.promised_date")
    amount = serializers.DecimalField(source="promise.amount", **MONEY)
    paid = serializers.DecimalField(source="promise.paid", **MONEY)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "account",
            "account_number",
            "promised_date",
            "amount",
            "paid",
            "reason",
            "created_at",
            "notified_at",
            "notified",
        ]


class CreditEscalationListApi(APIView):
    permission_classes = [require_perms("credit.view_escalation")]

    @extend_schema(
        operation_id="credit_escalations",
        responses={200: CreditEscalationOutputSerializer(many=True)},
    )
    def get(self, request):
        rows = Escalation.objects.select_related("account", "promise").order_by("-created_at")
        return Response(CreditEscalationOutputSerializer(rows[:LIST_LIMIT], many=True).data)
