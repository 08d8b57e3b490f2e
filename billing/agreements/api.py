"""Adjustments and payment agreements API under /api/agreements/.

Views validate input, call :mod:`billing.agreements.services` / ``selectors`` and serialize.
Money is a decimal string. A refusal answers 400, 403 (not yours to decide) or 409 (the thing
changed state meanwhile: reload) with ``{"code", "field", "detail"}``.

- ``reasons/`` GET the active adjustment reasons.
- ``adjustments/`` GET (``?status=&account=&requested_by=&reason=&kind=&date_from=&date_to=``)
  / POST a request; ``adjustments/<id>/`` GET; ``…/approve/``, ``…/reject/`` (POST
  ``{"note"}``); ``…/cancel/`` (POST ``{"reason"}``: reverse an approved one).
- ``adjustments/report/`` GET (``?date_from=&date_to=&status=``) and ``…/report/csv/``.
- ``agreements/`` GET (``?status=&account=``) / POST sign (after credit control, as the desk:
  ``credit_authorization`` carries an authorized check when it asks for one);
  ``agreements/simulate/`` POST (nothing written); ``agreements/<id>/`` GET with its
  schedule, paid and open per line;
  ``…/cancel/`` POST ``{"reason"}``; ``agreements/check/`` POST ``{"day"}`` runs the breach
  check as of a day (staff with the permission; the daily task does it on its own).
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.agreements import selectors, services
from billing.agreements.errors import AgreementError
from billing.agreements.models import (
    Adjustment,
    AdjustmentKind,
    AdjustmentReason,
    AdjustmentStatus,
    Agreement,
    AgreementStatus,
)
from billing.credit.control import credit_enforce
from billing.credit.models import Point as CreditPoint
from billing.errors import BillingError
from billing.models import Bill
from cadastre.models import ServiceAccount
from core.api import domain_error_response, require_perms

CONFLICTS = ("not_pending", "not_approved", "agreement_exists", "not_current", "already_reversed")
MONEY = {"max_digits": 14, "decimal_places": 2}
LIST_LIMIT = 500


def _refused(error: BillingError) -> Response:
    return domain_error_response(error, conflict_codes=CONFLICTS)


class DecisionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CancelReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


# --- adjustments --------------------------------------------------------------------------------


class AdjustmentReasonOutputSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="display_label")

    class Meta:
        model = AdjustmentReason
        fields = ["code", "label", "kind", "active"]


class AdjustmentOutputSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(source="reason.code")
    reason_label = serializers.CharField(source="reason.display_label")
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True)
    approved_under = serializers.SerializerMethodField()
    ledger_entry = serializers.IntegerField(source="ledger_entry_id", allow_null=True)

    class Meta:
        model = Adjustment
        fields = [
            "id",
            "account",
            "kind",
            "amount",
            "reason",
            "reason_label",
            "note",
            "bill",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "approved_under",
            "ledger_entry",
            "cancelled_at",
            "cancel_reason",
        ]

    def get_approved_under(self, obj) -> str | None:
        """The role (and its limit) under which it was approved."""
        return str(obj.approval_rule) if obj.approval_rule_id else None


class ReasonListApi(APIView):
    permission_classes = [require_perms("agreements.view_adjustmentreason")]

    @extend_schema(responses={200: AdjustmentReasonOutputSerializer(many=True)})
    def get(self, request):
        reasons = AdjustmentReason.objects.filter(active=True).order_by("code")
        return Response(AdjustmentReasonOutputSerializer(reasons, many=True).data)


class AdjustmentListApi(APIView):
    permission_classes = [require_perms("agreements.view_adjustment")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AdjustmentStatus.choices, required=False)
        account = serializers.IntegerField(required=False)
        requested_by = serializers.IntegerField(required=False)
        reason = serializers.CharField(required=False)
        kind = serializers.ChoiceField(choices=AdjustmentKind.choices, required=False)
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)

    class InputSerializer(serializers.Serializer):
        account = serializers.PrimaryKeyRelatedField(queryset=ServiceAccount.objects.all())
        # Checked by the service (its choices are documented once, on AdjustmentOutput).
        kind = serializers.CharField(max_length=12, help_text="credit_note | debit_note")
        amount = serializers.DecimalField(**MONEY)
        reason = serializers.CharField(max_length=30)
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        bill = serializers.PrimaryKeyRelatedField(
            queryset=Bill.objects.all(), required=False, allow_null=True, default=None
        )

    def get_permissions(self):
        if self.request.method == "POST":
            return [require_perms("agreements.add_adjustment")()]
        return super().get_permissions()

    @extend_schema(
        parameters=[FilterSerializer], responses={200: AdjustmentOutputSerializer(many=True)}
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        adjustments = selectors.adjustments_list(**filters.validated_data)[:LIST_LIMIT]
        return Response(AdjustmentOutputSerializer(adjustments, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AdjustmentOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            adjustment = services.adjustment_request(user=request.user, **data.validated_data)
        except BillingError as error:
            return _refused(error)
        return Response(AdjustmentOutputSerializer(adjustment).data, status=201)


class AdjustmentDetailApi(APIView):
    permission_classes = [require_perms("agreements.view_adjustment")]

    @extend_schema(responses={200: AdjustmentOutputSerializer})
    def get(self, request, pk: int):
        adjustment = get_object_or_404(Adjustment, pk=pk)
        return Response(AdjustmentOutputSerializer(adjustment).data)


class AdjustmentDecideApi(APIView):
    """POST approve/ or reject/ (``action`` set in the URL conf)."""

    permission_classes = [require_perms("agreements.approve_adjustment")]
    action: str = "approve"

    @extend_schema(request=DecisionNoteSerializer, responses={200: AdjustmentOutputSerializer})
    def post(self, request, pk: int):
        adjustment = get_object_or_404(Adjustment, pk=pk)
        data = DecisionNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decide = (
            services.adjustment_approve if self.action == "approve" else services.adjustment_reject
        )
        try:
            adjustment = decide(
                adjustment=adjustment, user=request.user, note=data.validated_data["note"]
            )
        except BillingError as error:
            return _refused(error)
        return Response(AdjustmentOutputSerializer(adjustment).data)


class AdjustmentCancelApi(APIView):
    permission_classes = [require_perms("agreements.cancel_adjustment")]

    @extend_schema(request=CancelReasonSerializer, responses={200: AdjustmentOutputSerializer})
    def post(self, request, pk: int):
        adjustment = get_object_or_404(Adjustment, pk=pk)
        data = CancelReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            adjustment = services.adjustment_cancel(
                adjustment=adjustment, user=request.user, reason=data.validated_data["reason"]
            )
        except BillingError as error:
            return _refused(error)
        return Response(AdjustmentOutputSerializer(adjustment).data)


class ReportFilterSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    status = serializers.ChoiceField(
        choices=AdjustmentStatus.choices, required=False, default=AdjustmentStatus.APPROVED
    )

    def validate(self, attrs):
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError(
                {"date_to": _("The end date comes before the start date.")}
            )
        return attrs


class ReportRowSerializer(serializers.Serializer):
    requested_by = serializers.IntegerField()
    requested_by_username = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    sector = serializers.IntegerField(allow_null=True)
    sector_code = serializers.CharField(allow_null=True)
    sector_name = serializers.CharField(allow_null=True)
    credit_count = serializers.IntegerField()
    credit_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    debit_count = serializers.IntegerField()
    debit_amount = serializers.DecimalField(max_digits=16, decimal_places=2)


def _report_rows(request) -> list[dict]:
    filters = ReportFilterSerializer(data=request.query_params)
    filters.is_valid(raise_exception=True)
    data = filters.validated_data
    return selectors.adjustments_report(
        date_from=data["date_from"], date_to=data["date_to"], statuses=(data["status"],)
    )


class AdjustmentReportApi(APIView):
    permission_classes = [require_perms("agreements.report_adjustment")]

    @extend_schema(
        parameters=[ReportFilterSerializer], responses={200: ReportRowSerializer(many=True)}
    )
    def get(self, request):
        return Response(ReportRowSerializer(_report_rows(request), many=True).data)


class AdjustmentReportCsvApi(APIView):
    permission_classes = [require_perms("agreements.report_adjustment")]

    @extend_schema(
        parameters=[ReportFilterSerializer], responses={(200, "text/csv"): OpenApiTypes.STR}
    )
    def get(self, request):
        out = io.StringIO()
        selectors.adjustments_report_csv(_report_rows(request), out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="adjustments.csv"'
        return response


# --- agreements ---------------------------------------------------------------------------------


class AgreementOutputSerializer(serializers.ModelSerializer):
    signed_by = serializers.CharField(source="signed_by.username")

    class Meta:
        model = Agreement
        fields = [
            "id",
            "account",
            "debt",
            "due_before",
            "down_payment",
            "installments",
            "monthly_rate",
            "first_due_date",
            "grace_days",
            "status",
            "note",
            "signed_by",
            "signed_at",
            "closed_at",
            "close_reason",
        ]


class LineOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    due_date = serializers.DateField()
    principal = serializers.DecimalField(**MONEY)
    interest = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)
    paid = serializers.DecimalField(**MONEY)
    open = serializers.DecimalField(**MONEY)
    state = serializers.ChoiceField(choices=["paid", "open", "overdue", "void"])


class AgreementDetailOutputSerializer(AgreementOutputSerializer):
    # The status's choices are documented once, on AgreementOutput (one enum component).
    status = serializers.CharField(help_text="current | completed | breached | cancelled")
    schedule = serializers.SerializerMethodField()

    class Meta(AgreementOutputSerializer.Meta):
        fields = [*AgreementOutputSerializer.Meta.fields, "schedule"]

    @extend_schema_field(LineOutputSerializer(many=True))
    def get_schedule(self, obj):
        return LineOutputSerializer(selectors.agreement_lines(agreement=obj), many=True).data


class TermsSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=ServiceAccount.objects.all())
    down_payment = serializers.DecimalField(**MONEY, min_value=0)
    installments = serializers.IntegerField(min_value=1)
    first_due_date = serializers.DateField()
    monthly_rate = serializers.DecimalField(
        max_digits=7, decimal_places=6, min_value=0, required=False, default=Decimal("0")
    )
    due_before = serializers.DateField(required=False, allow_null=True, default=None)


class CreditOutcomeSerializer(serializers.Serializer):
    check = serializers.IntegerField(source="check_id")
    # The decision's choices are documented once, on the credit API's check.
    decision = serializers.CharField(help_text="inform | warn | authorize")
    reasons = serializers.ListField(child=serializers.CharField())


class AgreementSignedOutputSerializer(AgreementDetailOutputSerializer):
    credit = CreditOutcomeSerializer(help_text="the credit-control decision: show its reasons")

    class Meta(AgreementDetailOutputSerializer.Meta):
        fields = [*AgreementDetailOutputSerializer.Meta.fields, "credit"]


class AgreementListApi(APIView):
    """GET the agreements; POST signs one after credit control (point ``agreement``), as the
    service desk does: *refuse* answers 409 ``credit_refused`` with the reasons, *authorize*
    409 ``authorization_required`` naming the check a manager authorizes (then sign again with
    ``credit_authorization``); *warn* and *inform* sign and return the reasons."""

    permission_classes = [require_perms("agreements.view_agreement")]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=AgreementStatus.choices, required=False)
        account = serializers.IntegerField(required=False)

    class InputSerializer(TermsSerializer):
        grace_days = serializers.IntegerField(
            min_value=0, max_value=365, required=False, allow_null=True, default=None
        )
        note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        credit_authorization = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text="an authorized credit check (when credit control asks)",
        )

    def get_permissions(self):
        if self.request.method == "POST":
            return [require_perms("agreements.add_agreement")()]
        return super().get_permissions()

    @extend_schema(
        parameters=[FilterSerializer], responses={200: AgreementOutputSerializer(many=True)}
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        agreements = selectors.agreements_list(**filters.validated_data)[:LIST_LIMIT]
        return Response(AgreementOutputSerializer(agreements, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: AgreementSignedOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = dict(data.validated_data)
        authorization = terms.pop("credit_authorization")
        try:
            # Checked before, not inside, the signing transaction: a refusal or a request for
            # authorization stays logged, and its check id is the one a manager authorizes.
            credit = credit_enforce(
                point=CreditPoint.AGREEMENT,
                account=terms["account"],
                user=request.user,
                authorization=authorization,
            )
            agreement = services.agreement_sign(user=request.user, **terms)
        except BillingError as error:
            return _refused(error)
        agreement.credit = credit
        return Response(AgreementSignedOutputSerializer(agreement).data, status=201)


class AgreementSimulateApi(APIView):
    permission_classes = [require_perms("agreements.add_agreement")]

    class OutputSerializer(serializers.Serializer):
        debt = serializers.DecimalField(**MONEY)
        total = serializers.DecimalField(**MONEY)
        interest = serializers.DecimalField(**MONEY)
        schedule = LineOutputSerializer(many=True)

    @extend_schema(request=TermsSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = TermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            debt, lines = services.agreement_simulate(**data.validated_data)
        except BillingError as error:
            return _refused(error)
        interest = sum((line.interest for line in lines), services.ZERO)
        schedule = [
            {
                "number": line.number,
                "due_date": line.due_date,
                "principal": line.principal,
                "interest": line.interest,
                "amount": line.amount,
                "paid": services.ZERO,
                "open": line.amount,
                "state": "open",
            }
            for line in lines
        ]
        out = {"debt": debt, "total": debt + interest, "interest": interest, "schedule": schedule}
        return Response(self.OutputSerializer(out).data)


class AgreementDetailApi(APIView):
    permission_classes = [require_perms("agreements.view_agreement")]

    @extend_schema(responses={200: AgreementDetailOutputSerializer})
    def get(self, request, pk: int):
        agreement = get_object_or_404(Agreement, pk=pk)
        return Response(AgreementDetailOutputSerializer(agreement).data)


class AgreementCancelApi(APIView):
    permission_classes = [require_perms("agreements.cancel_agreement")]

    @extend_schema(request=CancelReasonSerializer, responses={200: AgreementDetailOutputSerializer})
    def post(self, request, pk: int):
        agreement = get_object_or_404(Agreement, pk=pk)
        data = CancelReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            agreement = services.agreement_cancel(
                agreement=agreement, user=request.user, reason=data.validated_data["reason"]
            )
        except BillingError as error:
            return _refused(error)
        return Response(AgreementDetailOutputSerializer(agreement).data)


class AgreementCheckApi(APIView):
    permission_classes = [require_perms("agreements.check_agreement")]

    class InputSerializer(serializers.Serializer):
        day = serializers.DateField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        day = serializers.DateField()
        breached = serializers.ListField(child=serializers.IntegerField())
        completed = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        day = data.validated_data["day"] or timezone.localdate()
        try:
            done = services.agreements_check(today=day, user=request.user)
        except AgreementError as error:
            return _refused(error)
        return Response(self.OutputSerializer({"day": day, **done}).data)
