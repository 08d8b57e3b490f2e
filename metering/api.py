"""Metering endpoints (mounted at /api/metering/): field sync and photos, the review queue,
readings, bulk files, reading periods, assignments and meter changes.

Views validate input, call a service or selector and serialize; the rules live in
``metering.services`` / ``metering.validation``. Errors answer 400 (409 for a refused state
change) with ``{"code", "field", "detail"}``, ``detail`` translated.

Expected values (previous reading, consumption, history average) appear only in the office
endpoints (readings, review), which refuse meter readers (``selectors.can_see_expected``).
"""

import io

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response
from core.api import require_perms as core_require_perms
from gis_core.srid import lonlat as lonlat_of
from metering import selectors
from metering.ingest import IngestReport, readings_file_ingest, rejections_csv
from metering.models import (
    IngestBatch,
    Meter,
    ObservationCode,
    Reading,
    ReadingPeriod,
    RuleCode,
)
from metering.services import (
    MeteringError,
    ReviewAction,
    meter_change,
    reading_assignment_set,
    reading_inspection_open,
    reading_period_close,
    reading_period_create,
    reading_photo_attach,
    reading_review,
    sync_readings,
    user_is_meter_reader,
)
from metering.validation import REJECTION_MESSAGES

COORD_DECIMALS = 7  # GPS positions of readings: ~1 cm, what the device sent

# Labels of the shipped observation codes (the catalog's own labels are the fallback for codes
# a utility adds in the admin).
OBSERVATION_LABELS = {
    "no_access": gettext_lazy("No access"),
    "house_closed": gettext_lazy("House closed"),
    "dog": gettext_lazy("Dog"),
    "meter_not_found": gettext_lazy("Meter not found"),
    "illegible": gettext_lazy("Illegible dials"),
    "broken_meter": gettext_lazy("Broken meter"),
    "leak": gettext_lazy("Leak"),
    "tampered": gettext_lazy("Tampered meter"),
    "buried": gettext_lazy("Meter box buried or flooded"),
}


def observation_label(code: ObservationCode) -> str:
    return str(OBSERVATION_LABELS.get(code.code, code.label))


# --- Permissions ---------------------------------------------------------------------------


def require_perms(*perms: str, office: bool = False) -> type[BasePermission]:
    """The signed-in user must hold every one of ``perms``; ``office``: and not be a meter
    reader (these endpoints show expected values)."""
    return core_require_perms(*perms, unless=user_is_meter_reader if office else None)


def error_response(error: MeteringError) -> Response:
    return domain_error_response(error, conflict_codes=("transition_not_allowed",))


def invalid_response(serializer) -> Response:
    return Response(
        {"code": "invalid", "field": None, "detail": serializer.errors},
        status=status.HTTP_400_BAD_REQUEST,
    )


# --- Field sync ----------------------------------------------------------------------------


class SyncApi(APIView):
    """Field capture: a batch of readings, each applied once (see metering.services)."""

    permission_classes = [require_perms("metering.add_reading")]
    parser_classes = [JSONParser]

    class ItemOutputSerializer(serializers.Serializer):
        client_id = serializers.CharField()
        status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
        reading_id = serializers.IntegerField(allow_null=True)
        flags = serializers.ListField(child=serializers.CharField())
        code = serializers.CharField()
        message = serializers.CharField()

    class OutputSerializer(serializers.Serializer):
        results = serializers.ListField(child=serializers.DictField())
        accepted = serializers.IntegerField()
        duplicate = serializers.IntegerField()
        rejected = serializers.IntegerField()

    @extend_schema(
        request={"application/json": {"type": "object"}},
        responses={200: OutputSerializer},
        description="Body: {device_id, readings: [...]}; see metering/services.py.",
    )
    def post(self, request):
        try:
            result = sync_readings(user=request.user, batch=request.data)
        except MeteringError as error:
            return error_response(error)
        # Built directly: a thousand items through serializer fields costs more than the sync.
        return Response(result.as_dict())


class PhotoApi(APIView):
    """The photo of a synced reading (multipart: client_id, photo). Idempotent."""

    permission_classes = [require_perms("metering.add_reading")]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        client_id = serializers.UUIDField()
        photo = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        client_id = serializers.UUIDField()
        reading_id = serializers.IntegerField()
        photo = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        try:
            reading = reading_photo_attach(
                user=request.user,
                client_id=data.validated_data["client_id"],
                photo=data.validated_data["photo"],
            )
        except MeteringError as error:
            return error_response(error)
        return Response(
            {"client_id": str(reading.client_id), "reading_id": reading.pk, "photo": True}
        )


class ObservationListApi(APIView):
    """The observation catalog the field app offers (active codes)."""

    class OutputSerializer(serializers.Serializer):
        code = serializers.CharField()
        label = serializers.CharField()
        value_allowed = serializers.BooleanField()
        requires_photo = serializers.BooleanField()

    permission_classes = [require_perms("metering.view_observationcode")]

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        rows = [
            {
                "code": o.code,
                "label": observation_label(o),
                "value_allowed": o.value_allowed,
                "requires_photo": o.requires_photo,
            }
            for o in ObservationCode.objects.filter(active=True)
        ]
        return Response(rows)


# --- Readings and review (office) --------------------------------------------------------


class ReadingOutputSerializer(serializers.ModelSerializer):
    """A reading as office staff see it (with what was expected, when given)."""

    meter_serial = serializers.CharField(source="meter.serial")
    account = serializers.CharField(source="account.number")
    period = serializers.SerializerMethodField()
    observation_label = serializers.SerializerMethodField()
    position = serializers.SerializerMethodField()
    expected = serializers.SerializerMethodField()
    # Photos of people's homes are not public media: the URL is the permission-checked view.
    photo = serializers.SerializerMethodField()

    class Meta:
        model = Reading
        fields = (
            "id",
            "client_id",
            "meter_id",
            "meter_serial",
            "account",
            "period",
            "kind",
            "source",
            "value",
            "consumption",
            "rollover",
            "observation_id",
            "observation_label",
            "flags",
            "status",
            "captured_at",
            "received_at",
            "device_id",
            "reader_id",
            "position",
            "position_accuracy_m",
            "photo_expected",
            "photo",
            "reviewed_at",
            "reviewed_by_id",
            "review_note",
            "work_order_id",
            "expected",
        )

    def get_period(self, obj) -> str | None:
        return None if obj.period is None else obj.period.code

    def get_observation_label(self, obj) -> str | None:
        return None if obj.observation is None else observation_label(obj.observation)

    def get_position(self, obj) -> list | None:
        return lonlat_of(obj.position, COORD_DECIMALS)

    def get_photo(self, obj) -> str | None:
        return reverse("metering:reading-photo-file", args=[obj.pk]) if obj.photo else None

    def get_expected(self, obj) -> dict | None:
        values = self.context.get("expected", {}).get(obj.pk)
        if values is None:
            return None
        avg, previous = values["history_average_m3"], values["previous_value"]
        at = values["previous_captured_at"]
        # Decimals as strings, like the model's decimal fields (never through float).
        return {
            "previous_value": None if previous is None else str(previous),
            "previous_captured_at": None if at is None else at.isoformat(),
            "history_average_m3": None if avg is None else str(round(avg, 3)),
            "history_readings": values["history_readings"],
        }


class _Page(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class ReadingListApi(APIView):
    """Readings for office staff, newest first; filters meter, account, period, status, flag."""

    permission_classes = [require_perms("metering.view_reading", office=True)]

    @extend_schema(
        parameters=[
            OpenApiParameter(name, int if name.endswith("id") else str, required=False)
            for name in ("meter_id", "account_id", "period_id", "status", "flag")
        ],
        responses={200: ReadingOutputSerializer(many=True)},
    )
    def get(self, request):
        q = request.query_params
        try:
            ids = {
                k: int(q[k]) if q.get(k) else None for k in ("meter_id", "account_id", "period_id")
            }
        except ValueError:
            return Response(
                {"code": "invalid", "field": None, "detail": _("Ids must be whole numbers.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        qs = selectors.readings(**ids, status=q.get("status"), flag=q.get("flag"))
        pager = _Page()
        page = pager.paginate_queryset(qs, request, view=self)
        expected = selectors.expected_values(reading_ids=[r.pk for r in page])
        data = ReadingOutputSerializer(page, many=True, context={"expected": expected}).data
        return pager.get_paginated_response(data)


class ReviewQueueApi(APIView):
    """Flagged readings waiting for a decision, with the expected values next to them."""

    permission_classes = [require_perms("metering.change_reading", office=True)]

    @extend_schema(
        parameters=[
            OpenApiParameter("period_id", int, required=False),
            OpenApiParameter("flag", str, required=False, enum=RuleCode.values),
            OpenApiParameter("cycle", str, required=False),
            OpenApiParameter("account_id", int, required=False),
        ],
        responses={200: ReadingOutputSerializer(many=True)},
    )
    def get(self, request):
        q = request.query_params
        flag = q.get("flag") or None
        if flag and flag not in RuleCode.values:
            return Response(
                {
                    "code": "flag_invalid",
                    "field": "flag",
                    "detail": _("Unknown flag %(flag)s. Known: %(known)s.")
                    % {"flag": flag[:40], "known": ", ".join(RuleCode.values)},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            period_id = int(q["period_id"]) if q.get("period_id") else None
            account_id = int(q["account_id"]) if q.get("account_id") else None
        except ValueError:
            return Response(
                {"code": "invalid", "field": None, "detail": _("Ids must be whole numbers.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        qs = selectors.review_queue(
            period_id=period_id, flag=flag, cycle=q.get("cycle") or None, account_id=account_id
        )
        pager = _Page()
        page = pager.paginate_queryset(qs, request, view=self)
        expected = selectors.expected_values(reading_ids=[r.pk for r in page])
        data = ReadingOutputSerializer(page, many=True, context={"expected": expected}).data
        return pager.get_paginated_response(data)


class ReviewDecisionApi(APIView):
    """Decide on a reading: accept, reject, reread (ask for another) or inspect (open an
    inspection work order)."""

    permission_classes = [require_perms("metering.change_reading", office=True)]

    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=ReviewAction.ALL)
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: ReadingOutputSerializer})
    def post(self, request, pk: int):
        reading = get_object_or_404(Reading, pk=pk)
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        action = data.validated_data["action"]
        note = data.validated_data.get("note", "")
        try:
            if action == ReviewAction.INSPECT:
                reading = reading_inspection_open(reading=reading, user=request.user, reason=note)
            else:
                reading = reading_review(
                    reading=reading, action=action, user=request.user, note=note
                )
        except MeteringError as error:
            return error_response(error)
        reading = Reading.objects.select_related("meter", "account", "period", "observation").get(
            pk=reading.pk
        )
        return Response(ReadingOutputSerializer(reading).data)


class ReadingPhotoFileApi(APIView):
    """The photo of a reading, for office staff (never public media: it shows a home)."""

    permission_classes = [require_perms("metering.view_reading", office=True)]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        reading = get_object_or_404(Reading, pk=pk)
        if not reading.photo:
            raise Http404
        response = FileResponse(reading.photo.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response


# --- Bulk files ----------------------------------------------------------------------------


class FileUploadApi(APIView):
    """A CSV file of one period's readings (see metering.ingest for its columns)."""

    permission_classes = [require_perms("metering.add_ingestbatch", office=True)]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        period = serializers.CharField(max_length=20, help_text="Period code, e.g. 2026-03.")
        file = serializers.FileField()

    @extend_schema(request=InputSerializer, responses={200: dict, 201: dict})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        upload = data.validated_data["file"]
        try:
            report: IngestReport = readings_file_ingest(
                period_code=data.validated_data["period"],
                fileobj=upload,
                name=upload.name,
                user=request.user,
            )
        except MeteringError as error:
            return error_response(error)
        return Response(
            report.as_dict(),
            status=status.HTTP_200_OK if report.replay else status.HTTP_201_CREATED,
        )


class FileRejectionsApi(APIView):
    """The whole rejection report of a file, as CSV (row, meter, code, message)."""

    permission_classes = [require_perms("metering.view_ingestbatch", office=True)]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        batch = get_object_or_404(IngestBatch, pk=pk)
        out = io.StringIO()
        rejections_csv(batch=batch, out=out)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="rejections-{batch.pk}.csv"'
        return response


class RejectionCodesApi(APIView):
    """Codes a reading can be rejected with, and what each means (translated)."""

    permission_classes = [require_perms("metering.add_reading")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({code: str(message) for code, message in REJECTION_MESSAGES.items()})


# --- Periods, assignments, meter changes -------------------------------------------------


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReadingPeriod
        fields = ("id", "cycle", "code", "starts_on", "ends_on", "status")
        read_only_fields = ("id", "status")


class PeriodListApi(APIView):
    def get_permissions(self):
        perm = (
            "metering.add_readingperiod"
            if self.request.method == "POST"
            else "metering.view_readingperiod"
        )
        return [require_perms(perm)()]

    @extend_schema(responses={200: PeriodSerializer(many=True)})
    def get(self, request):
        qs = ReadingPeriod.objects.order_by("-starts_on", "cycle")
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        pager = _Page()
        page = pager.paginate_queryset(qs, request, view=self)
        return pager.get_paginated_response(PeriodSerializer(page, many=True).data)

    @extend_schema(request=PeriodSerializer, responses={201: PeriodSerializer})
    def post(self, request):
        data = PeriodSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        try:
            period = reading_period_create(**data.validated_data)
        except MeteringError as error:
            return error_response(error)
        return Response(PeriodSerializer(period).data, status=status.HTTP_201_CREATED)


class PeriodCloseApi(APIView):
    """Close a period; its consumption is then computed in the background."""

    permission_classes = [require_perms("metering.change_readingperiod", office=True)]

    @extend_schema(request=None, responses={200: PeriodSerializer})
    def post(self, request, pk: int):
        period = get_object_or_404(ReadingPeriod, pk=pk)
        return Response(PeriodSerializer(reading_period_close(period=period)).data)


class AssignmentApi(APIView):
    """Give a reader a book of a period, on a day."""

    permission_classes = [require_perms("metering.change_readingassignment")]

    class InputSerializer(serializers.Serializer):
        period_id = serializers.IntegerField()
        book_id = serializers.IntegerField()
        reader_id = serializers.IntegerField()
        scheduled_on = serializers.DateField()

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        period_id = serializers.IntegerField()
        book_id = serializers.IntegerField()
        reader_id = serializers.IntegerField()
        scheduled_on = serializers.DateField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request):
        from django.contrib.auth import get_user_model

        from sectors.models import CommercialArea

        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        v = data.validated_data
        period = get_object_or_404(ReadingPeriod, pk=v["period_id"])
        book = get_object_or_404(CommercialArea, pk=v["book_id"])
        reader = get_object_or_404(get_user_model(), pk=v["reader_id"])
        try:
            assignment = reading_assignment_set(
                period=period, book=book, reader=reader, scheduled_on=v["scheduled_on"]
            )
        except MeteringError as error:
            return error_response(error)
        return Response(self.OutputSerializer(assignment).data)


class MeterChangeApi(APIView):
    """Take an account's meter off and/or put another on, with both readings."""

    permission_classes = [require_perms("metering.add_meterchange")]

    class InputSerializer(serializers.Serializer):
        account_id = serializers.IntegerField()
        changed_at = serializers.DateTimeField()
        removal_value = serializers.DecimalField(
            max_digits=12, decimal_places=3, required=False, allow_null=True
        )
        new_meter_serial = serializers.CharField(required=False, allow_blank=True)
        installation_value = serializers.DecimalField(
            max_digits=12, decimal_places=3, required=False, allow_null=True
        )
        reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        removed_meter_id = serializers.IntegerField(allow_null=True)
        installed_meter_id = serializers.IntegerField(allow_null=True)
        removal_reading_id = serializers.IntegerField(allow_null=True)
        installation_reading_id = serializers.IntegerField(allow_null=True)
        changed_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        from cadastre.models import ServiceAccount

        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return invalid_response(data)
        v = data.validated_data
        account = get_object_or_404(ServiceAccount, pk=v["account_id"])
        new_meter = None
        if v.get("new_meter_serial"):
            new_meter = Meter.objects.filter(serial=v["new_meter_serial"].strip()).first()
            if new_meter is None:
                return Response(
                    {
                        "code": "unknown_meter",
                        "field": "new_meter_serial",
                        "detail": str(REJECTION_MESSAGES["unknown_meter"])
                        % {"meter": v["new_meter_serial"][:40]},
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
        try:
            change = meter_change(
                account=account,
                user=request.user,
                changed_at=v["changed_at"],
                removal_value=v.get("removal_value"),
                new_meter=new_meter,
                installation_value=v.get("installation_value"),
                reason=v.get("reason", ""),
            )
        except MeteringError as error:
            return error_response(error)
        return Response(self.OutputSerializer(change).data, status=status.HTTP_201_CREATED)


class RuleListApi(APIView):
    """The validation rules as configured (thresholds: edit them in the admin)."""

    permission_classes = [require_perms("metering.view_validationrule", office=True)]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        rules = selectors.rules_load()
        return Response(
            [
                {
                    "code": code,
                    "label": str(RuleCode(code).label),
                    "enabled": code in rules.enabled,
                    "params": rules.params[code],
                }
                for code in RuleCode.values
            ]
        )
