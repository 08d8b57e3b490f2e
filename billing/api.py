"""Billing API under /api/billing/ for billing clerks (and managers, admins).

Views validate input, call :mod:`billing.services` / :mod:`billing.selectors` /
:mod:`billing.simulation` and serialize. A refusal answers 400 (409 for "the thing changed
state meanwhile") with ``{"code", "field", "detail"}``.

- ``tariff-sets/`` GET list; POST ``{"content": "<YAML or JSON>"}`` imports a draft.
- ``tariff-sets/<id>/export/?fmt=yaml|json``, ``…/adopt/`` (POST), ``…/simulate/`` (POST).
- ``runs/`` POST ``{"period": id, "chunk_size": n}`` starts a run (queued after commit);
  ``runs/<id>/`` GET its progress; ``…/cancel/``, ``…/resume/``, ``…/reverse/`` (POST).
- ``bills/held/`` GET held bills (``?run=``); ``bills/<id>/`` GET a bill with its lines;
  ``bills/<id>/release/`` and ``…/correct/`` POST (with a reason).
- ``accounts/<id>/balance/`` GET balance, aging and latest ledger entries.
"""

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import receipts, selectors, services
from billing.errors import BillingError
from billing.models import Bill, BillingRun, BillLine, LedgerEntry, TariffSet
from billing.simulation import tariff_simulate
from billing.tariff_io import tariff_file_load, tariff_set_dumps, tariff_set_parse
from cadastre.models import ServiceAccount
from core.api import domain_error_response, require_perms
from metering.models import ReadingPeriod

CONFLICTS = (
    "run_exists",
    "not_resumable",
    "not_cancellable",
    "run_in_progress",
    "already_reversed",
    "not_held",
    "no_tariff",
)


def _refused(error: BillingError) -> Response:
    return domain_error_response(error, conflict_codes=CONFLICTS)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


# --- tariffs ------------------------------------------------------------------------------------


class TariffSetOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = TariffSet
        fields = [
            "id",
            "code",
            "name",
            "valid_from",
            "valid_to",
            "status",
            "vat_rate",
            "rounding_unit",
            "late_fee_pct",
        ]


class TariffSetListApi(APIView):
    permission_classes = [require_perms("billing.view_tariffset")]

    class InputSerializer(serializers.Serializer):
        content = serializers.CharField(help_text="The tariff file, YAML or JSON.")

    def get_permissions(self):
        if self.request.method == "POST":
            return [require_perms("billing.add_tariffset")()]
        return super().get_permissions()

    @extend_schema(responses={200: TariffSetOutputSerializer(many=True)})
    def get(self, request):
        return Response(TariffSetOutputSerializer(TariffSet.objects.all(), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: TariffSetOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            spec = tariff_set_parse(tariff_file_load(data.validated_data["content"]))
            tariff_set = services.tariff_set_import(spec=spec)
        except BillingError as error:
            return _refused(error)
        return Response(TariffSetOutputSerializer(tariff_set).data, status=201)


class TariffSetExportApi(APIView):
    permission_classes = [require_perms("billing.view_tariffset")]

    class OutputSerializer(serializers.Serializer):
        content = serializers.CharField()

    @extend_schema(
        parameters=[OpenApiParameter("fmt", str, enum=["yaml", "json"], required=False)],
        responses={200: OutputSerializer},
    )
    def get(self, request, pk: int):
        tariff_set = get_object_or_404(TariffSet, pk=pk)
        fmt = "json" if request.query_params.get("fmt") == "json" else "yaml"
        spec = services.tariff_set_spec(tariff_set)
        return Response({"content": tariff_set_dumps(spec, fmt=fmt)})


class TariffSetAdoptApi(APIView):
    permission_classes = [require_perms("billing.change_tariffset")]

    @extend_schema(request=None, responses={200: TariffSetOutputSerializer})
    def post(self, request, pk: int):
        tariff_set = get_object_or_404(TariffSet, pk=pk)
        try:
            tariff_set = services.tariff_set_adopt(tariff_set=tariff_set)
        except BillingError as error:
            return _refused(error)
        return Response(TariffSetOutputSerializer(tariff_set).data)


class TariffSimulationApi(APIView):
    permission_classes = [require_perms("billing.view_tariffset", "billing.view_bill")]

    class RowSerializer(serializers.Serializer):
        use_type = serializers.CharField()
        zone = serializers.CharField(allow_null=True)
        accounts = serializers.IntegerField()
        unpriced = serializers.IntegerField()
        current = serializers.DecimalField(max_digits=16, decimal_places=2)
        draft = serializers.DecimalField(max_digits=16, decimal_places=2)
        change = serializers.DecimalField(max_digits=16, decimal_places=2)
        change_pct = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
        distribution = serializers.DictField(child=serializers.IntegerField())

    class OutputSerializer(serializers.Serializer):
        draft = serializers.CharField()
        periods = serializers.ListField(child=serializers.CharField())
        current = serializers.DecimalField(max_digits=16, decimal_places=2)
        draft_revenue = serializers.DecimalField(max_digits=16, decimal_places=2)
        change = serializers.DecimalField(max_digits=16, decimal_places=2)
        change_pct = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
        rows = serializers.ListField(child=serializers.DictField())

    @extend_schema(request=None, responses={200: OutputSerializer})
    def post(self, request, pk: int):
        tariff_set = get_object_or_404(TariffSet, pk=pk)
        try:
            result = tariff_simulate(draft=tariff_set)
        except BillingError as error:
            return _refused(error)
        result["rows"] = self.RowSerializer(result["rows"], many=True).data
        return Response(self.OutputSerializer(result).data)


# --- runs ---------------------------------------------------------------------------------------


class RunOutputSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "cycle",
            "period",
            "tariff_set",
            "status",
            "chunk_size",
            "total_accounts",
            "done_accounts",
            "progress",
            "bills_issued",
            "bills_held",
            "amount_issued",
            "cancel_requested",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "reversed_at",
            "reverse_reason",
        ]


class RunStartApi(APIView):
    permission_classes = [require_perms("billing.add_billingrun")]

    class InputSerializer(serializers.Serializer):
        period = serializers.PrimaryKeyRelatedField(queryset=ReadingPeriod.objects.all())
        chunk_size = serializers.IntegerField(
            min_value=1, max_value=100_000, default=services.DEFAULT_CHUNK
        )

    @extend_schema(request=InputSerializer, responses={201: RunOutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            run = services.billing_run_start(
                period=data.validated_data["period"],
                chunk_size=data.validated_data["chunk_size"],
                user=request.user,
            )
        except BillingError as error:
            return _refused(error)
        return Response(RunOutputSerializer(run).data, status=201)


class RunDetailApi(APIView):
    permission_classes = [require_perms("billing.view_billingrun")]

    @extend_schema(responses={200: RunOutputSerializer})
    def get(self, request, pk: int):
        return Response(RunOutputSerializer(get_object_or_404(BillingRun, pk=pk)).data)


class RunActionApi(APIView):
    """cancel / resume / reverse (with a reason)."""

    permission_classes = [require_perms("billing.change_billingrun")]
    action = ""

    @extend_schema(request=ReasonSerializer, responses={200: RunOutputSerializer})
    def post(self, request, pk: int):
        run = get_object_or_404(BillingRun, pk=pk)
        try:
            if self.action == "cancel":
                run = services.billing_run_cancel(run=run)
            elif self.action == "resume":
                run = services.billing_run_resume(run=run)
            else:
                data = ReasonSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                run = services.billing_run_reverse(
                    run=run, user=request.user, reason=data.validated_data["reason"]
                )
        except BillingError as error:
            return _refused(error)
        return Response(RunOutputSerializer(run).data)


# --- bills --------------------------------------------------------------------------------------


class BillLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = BillLine
        fields = ["seq", "concept", "block", "quantity", "unit_price", "amount", "tax"]


class BillOutputSerializer(serializers.ModelSerializer):
    lines = BillLineSerializer(many=True, read_only=True)
    account_number = serializers.CharField(source="account.number", read_only=True)

    class Meta:
        model = Bill
        fields = [
            "id",
            "run",
            "account",
            "account_number",
            "period",
            "use_type",
            "method",
            "consumption_m3",
            "months",
            "previous_balance",
            "charges",
            "tax",
            "total",
            "due_date",
            "payment_reference",
            "status",
            "hold_reason",
            "resolution_note",
            "corrects",
            "lines",
        ]


class BillDetailApi(APIView):
    permission_classes = [require_perms("billing.view_bill")]

    @extend_schema(responses={200: BillOutputSerializer})
    def get(self, request, pk: int):
        bill = get_object_or_404(Bill.objects.select_related("account"), pk=pk)
        return Response(BillOutputSerializer(bill).data)


class HeldBillsApi(APIView):
    permission_classes = [require_perms("billing.view_bill")]

    @extend_schema(
        parameters=[OpenApiParameter("run", OpenApiTypes.INT, required=False)],
        responses={200: BillOutputSerializer(many=True)},
    )
    def get(self, request):
        run = request.query_params.get("run")
        bills = selectors.bills_held(run=int(run) if run and run.isdigit() else None)
        return Response(BillOutputSerializer(bills.prefetch_related("lines")[:500], many=True).data)


class BillReleaseApi(APIView):
    permission_classes = [require_perms("billing.change_bill")]

    @extend_schema(request=ReasonSerializer, responses={200: BillOutputSerializer})
    def post(self, request, pk: int):
        bill = get_object_or_404(Bill, pk=pk)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bill = services.bill_release(
                bill=bill, user=request.user, reason=data.validated_data["reason"]
            )
        except BillingError as error:
            return _refused(error)
        return Response(BillOutputSerializer(bill).data)


class BillCorrectApi(APIView):
    permission_classes = [require_perms("billing.change_bill")]

    class InputSerializer(ReasonSerializer):
        consumption_m3 = serializers.DecimalField(
            max_digits=12, decimal_places=3, allow_null=True, help_text="null: flat rate"
        )

    @extend_schema(request=InputSerializer, responses={200: BillOutputSerializer})
    def post(self, request, pk: int):
        bill = get_object_or_404(Bill, pk=pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            new = services.bill_correct(
                bill=bill,
                user=request.user,
                reason=data.validated_data["reason"],
                consumption_m3=data.validated_data["consumption_m3"],
            )
        except BillingError as error:
            return _refused(error)
        return Response(BillOutputSerializer(new).data)


# --- balances -----------------------------------------------------------------------------------


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "document_type",
            "document_id",
            "concept",
            "amount",
            "posted_at",
            "reversal_of",
            "note",
        ]


class AccountBalanceApi(APIView):
    permission_classes = [require_perms("billing.view_ledgerentry")]

    class OutputSerializer(serializers.Serializer):
        account = serializers.IntegerField()
        balance = serializers.DecimalField(max_digits=16, decimal_places=2)
        aging = serializers.DictField(
            child=serializers.DecimalField(max_digits=16, decimal_places=2)
        )
        entries = LedgerEntrySerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, pk: int):
        account = get_object_or_404(ServiceAccount, pk=pk)
        today = timezone.localdate()
        return Response(
            self.OutputSerializer(
                {
                    "account": account.pk,
                    "balance": selectors.account_balance(account=account),
                    "aging": selectors.account_aging(account=account, on=today),
                    "entries": selectors.account_statement(account=account, limit=100),
                }
            ).data
        )


# --- receipts -----------------------------------------------------------------------------------


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


class BillReceiptApi(APIView):
    permission_classes = [require_perms("billing.view_bill")]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        bill = get_object_or_404(Bill.objects.select_related("account", "period"), pk=pk)
        return _pdf(
            receipts.receipt_for_bill(bill_id=bill.pk),
            f"recibo-{bill.account.number}-{bill.period.code}.pdf",
        )


class RunReceiptsApi(APIView):
    """Every issued bill of a run in one PDF (bulk printing)."""

    permission_classes = [require_perms("billing.view_bill")]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        run = get_object_or_404(BillingRun, pk=pk)
        return _pdf(receipts.receipts_for_run(run_id=run.pk), f"recibos-corrida-{run.pk}.pdf")


class RunReceiptsEmailApi(APIView):
    """Queue the e-mail of a run's receipts (after commit)."""

    permission_classes = [require_perms("billing.change_billingrun")]

    @extend_schema(request=None, responses={202: None})
    def post(self, request, pk: int):
        from billing.tasks import receipts_email_task

        run = get_object_or_404(BillingRun, pk=pk)
        transaction.on_commit(lambda: receipts_email_task.delay(run.pk))
        return Response(status=202)
