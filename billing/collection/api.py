"""Collections API under /api/collection/.

Views validate input, call :mod:`billing.collection.services` / ``selectors`` and serialize.
Money is a decimal string; days are dates in the utility's zone (default: today). A refusal
answers 400, 403 or 409 with ``{"code", "field", "detail"}``.

- ``aging/`` GET (``?day=&group_by=sector|zone|use_type|collector|total&sector=&zone=
  &use_type=&collector=&overdue_only=``) the aging report; ``aging/csv/`` the same as CSV.
- ``accounts/<id>/aging/`` GET one account's aging and the documents it owes.
- ``accounts/<id>/collection-type/`` GET the account's collection type (normal, judicial,
  special) and who changed it, when and why; POST ``{"collection_type", "reason"}`` changes
  it (judicial: a "turned to legal" action whose ``notice.pdf`` is the demand letter).
- ``actions/`` GET (``?account=&day=&kind=&status=``, newest first, at most 500);
  ``actions/<id>/cancel/`` POST ``{"reason"}``; ``actions/<id>/notice.pdf`` GET the notice.
- ``evaluate/`` POST ``{"day", "accounts"}``: with ``accounts`` evaluates those now; without,
  queues the evaluation of every account (202).
- ``large-consumers/`` GET the list / POST ``{"top", "by", "executive"}`` marks the top
  accounts by consumption or debt.
"""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.collection import selectors, services
from billing.collection.aging import account_aging, document_aging
from billing.collection.errors import CollectionError
from billing.collection.models import (
    ActionKind,
    ActionStatus,
    CollectionAction,
    CollectionType,
    CollectionTypeChange,
    LargeConsumerBasis,
)
from billing.collection.notices import formal_notice_pdf
from cadastre.models import ServiceAccount, UseType
from core.api import domain_error_response, require_perms

MONEY = {"max_digits": 14, "decimal_places": 2}
LIST_LIMIT = 500
VIEW_AGING = "collection.view_aging"
VIEW_ACTIONS = "collection.view_collectionaction"


def _refused(error: CollectionError) -> Response:
    return domain_error_response(error, conflict_codes=("not_open", "type_unchanged"))


# --- aging --------------------------------------------------------------------------------------


class CollectionAgingFilterSerializer(serializers.Serializer):
    day = serializers.DateField(required=False)
    group_by = serializers.ChoiceField(choices=selectors.GROUPS, default="sector")
    sector = serializers.IntegerField(required=False)
    zone = serializers.IntegerField(required=False)
    use_type = serializers.ChoiceField(choices=UseType.choices, required=False)
    collector = serializers.IntegerField(required=False)
    overdue_only = serializers.BooleanField(required=False, default=False)


class CollectionAgingRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField(allow_blank=True)
    accounts = serializers.IntegerField()
    balance = serializers.DecimalField(**MONEY)
    current = serializers.DecimalField(**MONEY)
    d0_30 = serializers.DecimalField(**MONEY)
    d31_60 = serializers.DecimalField(**MONEY)
    d61_90 = serializers.DecimalField(**MONEY)
    d91_180 = serializers.DecimalField(**MONEY)
    d180 = serializers.DecimalField(**MONEY)
    overdue = serializers.DecimalField(**MONEY)
    n_current = serializers.IntegerField()
    n_d0_30 = serializers.IntegerField()
    n_d31_60 = serializers.IntegerField()
    n_d61_90 = serializers.IntegerField()
    n_d91_180 = serializers.IntegerField()
    n_d180 = serializers.IntegerField()
    n_overdue = serializers.IntegerField()


def _report(request) -> tuple[list[dict], str]:
    params = CollectionAgingFilterSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    rows = selectors.aging_report(
        day=data.get("day") or timezone.localdate(),
        group_by=data["group_by"],
        sector=data.get("sector"),
        zone=data.get("zone"),
        use_type=data.get("use_type"),
        collector=data.get("collector"),
        overdue_only=data["overdue_only"],
    )
    return rows, data["group_by"]


class AgingReportApi(APIView):
    permission_classes = [require_perms(VIEW_AGING)]

    @extend_schema(
        operation_id="collection_aging_report",
        parameters=[CollectionAgingFilterSerializer],
        responses={200: CollectionAgingRowSerializer(many=True)},
    )
    def get(self, request):
        rows, _group = _report(request)
        return Response(CollectionAgingRowSerializer(rows, many=True).data)


class AgingReportCsvApi(APIView):
    permission_classes = [require_perms(VIEW_AGING)]

    @extend_schema(
        operation_id="collection_aging_report_csv",
        parameters=[CollectionAgingFilterSerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request):
        rows, group = _report(request)
        out = io.StringIO()
        selectors.aging_report_csv(rows, out, group_by=group)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="antiguedad-saldos.csv"'
        return response


class CollectionDocumentSerializer(serializers.Serializer):
    document_type = serializers.CharField()
    document_id = serializers.IntegerField()
    due_date = serializers.DateField()
    owed = serializers.DecimalField(**MONEY)
    days_overdue = serializers.IntegerField()


class CollectionAccountAgingSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    day = serializers.DateField()
    balance = serializers.DecimalField(**MONEY)
    current = serializers.DecimalField(**MONEY)
    d0_30 = serializers.DecimalField(**MONEY)
    d31_60 = serializers.DecimalField(**MONEY)
    d61_90 = serializers.DecimalField(**MONEY)
    d91_180 = serializers.DecimalField(**MONEY)
    d180 = serializers.DecimalField(**MONEY)
    overdue = serializers.DecimalField(**MONEY)
    oldest_due = serializers.DateField(allow_null=True)
    days_overdue = serializers.IntegerField()
    recent_days = serializers.IntegerField()
    periods = serializers.IntegerField()
    collection_type = serializers.ChoiceField(choices=CollectionType.choices)
    documents = CollectionDocumentSerializer(many=True)


class AccountAgingApi(APIView):
    permission_classes = [require_perms(VIEW_AGING)]

    @extend_schema(
        operation_id="collection_account_aging",
        parameters=[OpenApiParameter("day", OpenApiTypes.DATE, required=False)],
        responses={200: CollectionAccountAgingSerializer},
    )
    def get(self, request, pk: int):
        account = get_object_or_404(ServiceAccount, pk=pk)
        field = serializers.DateField(required=False)
        day = field.run_validation(request.query_params.get("day") or timezone.localdate())
        figures = account_aging(account=account, day=day)
        zero = {k: 0 for k in ("balance", "current", "d0_30", "d31_60", "d61_90")}
        zero |= {"d91_180": 0, "d180": 0, "overdue": 0, "oldest_due": None}
        zero |= {"days_overdue": 0, "recent_days": 0, "periods": 0}
        data = dict(figures.__dict__) if figures else zero
        data.update(
            account=account.pk,
            day=day,
            collection_type=selectors.collection_type_of(account=account),
            documents=document_aging(account=account, day=day),
        )
        return Response(CollectionAccountAgingSerializer(data).data)


# --- actions ------------------------------------------------------------------------------------


class CollectionActionFilterSerializer(serializers.Serializer):
    account = serializers.IntegerField(required=False)
    day = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=ActionKind.choices, required=False)
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)


class CollectionActionSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(source="account.number")
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    work_order_number = serializers.CharField(source="work_order.number", allow_null=True)
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True)

    class Meta:
        model = CollectionAction
        fields = [
            "id",
            "account",
            "account_number",
            "kind",
            "kind_label",
            "step",
            "status",
            "status_label",
            "day",
            "deadline",
            "amount_owed",
            "periods_overdue",
            "days_overdue",
            "assigned_to",
            "work_order",
            "work_order_number",
            "parent",
            "ref",
            "note",
            "created_at",
            "issued_at",
            "closed_at",
        ]


class ActionListApi(APIView):
    permission_classes = [require_perms(VIEW_ACTIONS)]

    @extend_schema(
        operation_id="collection_actions_list",
        parameters=[CollectionActionFilterSerializer],
        responses={200: CollectionActionSerializer(many=True)},
    )
    def get(self, request):
        params = CollectionActionFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        qs = selectors.actions_list(
            account=data.get("account"),
            day=data.get("day"),
            kind=data.get("kind", ""),
            status=data.get("status", ""),
        )[:LIST_LIMIT]
        return Response(CollectionActionSerializer(qs, many=True).data)


class CollectionCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class ActionCancelApi(APIView):
    permission_classes = [require_perms("collection.change_collectionaction")]

    @extend_schema(
        operation_id="collection_action_cancel",
        request=CollectionCancelSerializer,
        responses={200: CollectionActionSerializer},
    )
    def post(self, request, pk: int):
        action = get_object_or_404(CollectionAction, pk=pk)
        data = CollectionCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            action = services.collection_action_cancel(
                action=action, user=request.user, reason=data.validated_data["reason"]
            )
        except CollectionError as exc:
            return _refused(exc)
        return Response(CollectionActionSerializer(action).data)


class ActionNoticePdfApi(APIView):
    permission_classes = [require_perms(VIEW_ACTIONS)]

    @extend_schema(
        operation_id="collection_action_notice_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int):
        action = get_object_or_404(
            CollectionAction.objects.select_related("account", "account__customer"), pk=pk
        )
        response = HttpResponse(formal_notice_pdf(action=action), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="requerimiento-{action.pk}.pdf"'
        return response


# --- collection type ----------------------------------------------------------------------------


class CollectionTypeChangeSerializer(serializers.ModelSerializer):
    # The type's choices are documented once, on collection_type (one enum component).
    from_type = serializers.CharField(help_text="normal | judicial | special")
    to_type = serializers.CharField(help_text="normal | judicial | special")
    decided_by = serializers.CharField(source="decided_by.username")
    action_kind = serializers.CharField(source="action.kind", allow_null=True)

    class Meta:
        model = CollectionTypeChange
        fields = [
            "id",
            "account",
            "episode",
            "from_type",
            "to_type",
            "reason",
            "decided_by",
            "decided_at",
            "action",
            "action_kind",
        ]


class CollectionTypeSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    collection_type = serializers.ChoiceField(choices=CollectionType.choices)
    label = serializers.CharField()
    changes = CollectionTypeChangeSerializer(many=True)


class CollectionTypeInputSerializer(serializers.Serializer):
    collection_type = serializers.ChoiceField(choices=CollectionType.choices)
    reason = serializers.CharField(max_length=200)
    day = serializers.DateField(required=False)


def _collection_type(account) -> dict:
    current = selectors.collection_type_of(account=account)
    changes = CollectionTypeChange.objects.filter(account=account).select_related(
        "decided_by", "action"
    )[:LIST_LIMIT]
    return {
        "account": account.pk,
        "collection_type": current,
        "label": CollectionType(current).label,
        "changes": changes,
    }


class AccountCollectionTypeApi(APIView):
    """GET an account's collection type and its log of changes; POST moves it to judicial or
    special collection or back to normal (``{"collection_type", "reason"}``). Judicial: the
    "turned to legal" action's demand letter is ``actions/<action>/notice.pdf``."""

    permission_classes = [require_perms("collection.view_accountcollectiontype")]

    def get_permissions(self):
        if self.request.method == "POST":
            return [require_perms("collection.change_accountcollectiontype")()]
        return super().get_permissions()

    @extend_schema(
        operation_id="collection_account_type", responses={200: CollectionTypeSerializer}
    )
    def get(self, request, pk: int):
        account = get_object_or_404(ServiceAccount, pk=pk)
        return Response(CollectionTypeSerializer(_collection_type(account)).data)

    @extend_schema(
        operation_id="collection_account_type_change",
        request=CollectionTypeInputSerializer,
        responses={201: CollectionTypeChangeSerializer},
    )
    def post(self, request, pk: int):
        account = get_object_or_404(ServiceAccount, pk=pk)
        data = CollectionTypeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            change = services.collection_type_change(
                account=account, user=request.user, **data.validated_data
            )
        except CollectionError as exc:
            return _refused(exc)
        return Response(CollectionTypeChangeSerializer(change).data, status=status.HTTP_201_CREATED)


# --- evaluation ---------------------------------------------------------------------------------


class CollectionEvaluateInputSerializer(serializers.Serializer):
    day = serializers.DateField(required=False)
    accounts = serializers.ListField(
        child=serializers.IntegerField(), required=False, max_length=1000
    )


class CollectionEvaluationSerializer(serializers.Serializer):
    day = serializers.DateField()
    queued = serializers.BooleanField(default=False)
    overdue_accounts = serializers.IntegerField(default=0)
    paused = serializers.IntegerField(default=0)
    episodes_opened = serializers.IntegerField(default=0)
    episodes_closed = serializers.IntegerField(default=0)
    actions = serializers.DictField(child=serializers.IntegerField(), default=dict)
    orders = serializers.IntegerField(default=0)
    order_errors = serializers.IntegerField(default=0)
    reconnections = serializers.IntegerField(default=0)


class EvaluateApi(APIView):
    permission_classes = [require_perms("collection.evaluate_collection")]

    @extend_schema(
        operation_id="collection_evaluate",
        request=CollectionEvaluateInputSerializer,
        responses={200: CollectionEvaluationSerializer, 202: CollectionEvaluationSerializer},
    )
    def post(self, request):
        data = CollectionEvaluateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        day = data.validated_data.get("day") or timezone.localdate()
        accounts = data.validated_data.get("accounts")
        if accounts:
            result = services.collection_evaluate(day=day, account_ids=accounts, user=request.user)
            return Response(CollectionEvaluationSerializer(result.__dict__).data)
        from billing.collection.tasks import collection_evaluate_task

        # Every account: minutes of work, so a worker does it (after this request commits).
        transaction.on_commit(lambda: collection_evaluate_task.delay(day.isoformat()))
        return Response(
            CollectionEvaluationSerializer({"day": day, "queued": True}).data,
            status=status.HTTP_202_ACCEPTED,
        )


# --- large consumers ----------------------------------------------------------------------------


class CollectionLargeConsumerSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account_id")
    account_number = serializers.CharField(source="account.number")
    executive = serializers.CharField(source="executive.username", allow_null=True)
    basis = serializers.CharField()
    since = serializers.DateField()


class CollectionLargeConsumerMarkSerializer(serializers.Serializer):
    top = serializers.IntegerField(min_value=1, max_value=100_000)
    by = serializers.ChoiceField(choices=LargeConsumerBasis.choices)
    executive = serializers.IntegerField(required=False)
    day = serializers.DateField(required=False)


class CollectionLargeConsumerMarkedSerializer(serializers.Serializer):
    added = serializers.IntegerField()


class LargeConsumerListApi(APIView):
    def get_permissions(self):
        perm = (
            "collection.view_largeconsumer"
            if self.request.method == "GET"
            else "collection.add_largeconsumer"
        )
        return [require_perms(perm)()]

    @extend_schema(
        operation_id="collection_large_consumers_list",
        responses={200: CollectionLargeConsumerSerializer(many=True)},
    )
    def get(self, request):
        rows = selectors.large_consumers_list()[:LIST_LIMIT]
        return Response(CollectionLargeConsumerSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="collection_large_consumers_mark",
        request=CollectionLargeConsumerMarkSerializer,
        responses={200: CollectionLargeConsumerMarkedSerializer},
    )
    def post(self, request):
        data = CollectionLargeConsumerMarkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        executive = None
        if v.get("executive"):
            executive = get_object_or_404(get_user_model(), pk=v["executive"])
        try:
            added = services.large_consumers_mark(
                top=v["top"],
                by=v["by"],
                day=v.get("day") or timezone.localdate(),
                executive=executive,
            )
        except CollectionError as exc:
            return _refused(exc)
        return Response({"added": added})
