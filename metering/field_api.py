"""The field app's API (meter readers only): today's work, the sync of readings, their photos.

- ``GET  work/``   the reader's books scheduled for today, meters in route order, and the
                   observation catalog. Never a previous reading, a consumption or anything
                   else that would tell the reader what value to expect.
- ``POST sync/``   a batch of captured readings → :func:`metering.services.sync_readings`
                   (the client id of each reading makes a replayed batch a no-op).
- ``POST photo/``  the photo of a synced reading → :func:`metering.services.reading_photo_attach`
                   (idempotent too).

Who: the meter-reader role, checked by group rather than by ``metering.add_reading``, which
administrators also hold; the field app is the readers' tool, not a back door for others.
"""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from metering import selectors, services
from metering.models import ObservationCode, RuleCode

# The photo the phone sends: the long side at most this many pixels (the phone resizes).
PHOTO_MAX_SIDE_PX = 1600
# Readings per sync request: small requests survive a weak signal; the service takes 5,000.
SYNC_BATCH_SIZE = 50
# The flags a reader may see about their own reading. The others (below the previous reading,
# high or zero consumption) would tell them what value the office expects.
READER_VISIBLE_FLAGS = frozenset({RuleCode.CONFLICT, RuleCode.GPS_FAR, RuleCode.PHOTO_MISSING})


def is_meter_reader(user) -> bool:
    return bool(user and user.is_authenticated and services.user_is_meter_reader(user))


class IsMeterReader(BasePermission):
    message = _("The field app is for meter readers. Ask an administrator for the role.")

    def has_permission(self, request, view):
        return is_meter_reader(request.user)


def _error(error: services.MeteringError, http_status=status.HTTP_400_BAD_REQUEST) -> Response:
    return Response(
        {"code": error.code, "message": error.message, "detail": error.message},
        status=http_status,
    )


# --- Today's work ----------------------------------------------------------------------------


def _observation_catalog() -> list[dict]:
    """The active observation codes; labels through the catalog (they are stored in English)."""
    return [
        {
            "code": o.code,
            "label": gettext(o.label),
            "value_allowed": o.value_allowed,
            "requires_photo": o.requires_photo,
        }
        for o in ObservationCode.objects.filter(active=True).order_by("sort_order", "code")
    ]


@extend_schema_serializer(component_name="FieldStop")
class StopSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    meter_id = serializers.IntegerField()
    serial = serializers.CharField()
    dials = serializers.IntegerField()
    account = serializers.CharField(help_text="account number")
    address = serializers.CharField(allow_blank=True)
    lon = serializers.FloatField(help_text="WGS 84 degrees")
    lat = serializers.FloatField(help_text="WGS 84 degrees")
    visited = serializers.BooleanField(help_text="read in the period already (by anyone)")


@extend_schema_serializer(component_name="FieldRoute")
class RouteSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="the reading assignment")
    book = serializers.CharField(help_text="the reading book's code")
    name = serializers.CharField()
    period = serializers.CharField()
    stops = StopSerializer(many=True)


@extend_schema_serializer(component_name="FieldObservation")
class ObservationSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    value_allowed = serializers.BooleanField()
    requires_photo = serializers.BooleanField()


class FieldWorkApi(APIView):
    """``GET``: the signed-in reader's routes for today (their reading assignments scheduled
    today in open periods), each book's meters in route order, and the observation catalog."""

    permission_classes = [IsAuthenticated, IsMeterReader]

    @extend_schema_serializer(component_name="FieldWork")
    class OutputSerializer(serializers.Serializer):
        date = serializers.DateField()
        routes = RouteSerializer(many=True)
        observations = ObservationSerializer(many=True)

    @extend_schema(operation_id="field_work_today", responses=OutputSerializer)
    def get(self, request):
        today = timezone.localdate()
        routes = [
            {
                "id": assignment.pk,
                "book": assignment.book.code,
                "name": f"{assignment.book.code} {assignment.book.name}",
                "period": assignment.period.code,
                "stops": _book_stops(assignment),
            }
            for assignment in selectors.reader_assignments(user=request.user).filter(
                scheduled_on=today
            )
        ]
        data = {"date": today, "routes": routes, "observations": _observation_catalog()}
        return Response(self.OutputSerializer(data).data)


def _book_stops(assignment) -> list[dict]:
    """The book's meters in route order (:func:`metering.selectors.assignment_meters`: the
    account number), as the phone needs them: WGS 84 degrees, and whether the meter was
    visited in the period already (another phone, or this one before a reset). Nothing from
    the readings themselves."""
    return [
        {
            "sequence": n,
            "meter_id": m["meter_id"],
            "serial": m["serial"],
            "dials": m["dials"],
            "account": m["account"],
            "address": m["address"] or "",
            "lon": round(m["lon"], 7),
            "lat": round(m["lat"], 7),
            "visited": bool(m["visited"]),
        }
        for n, m in enumerate(selectors.assignment_meters(assignment=assignment), start=1)
    ]


# --- Sync ----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="FieldSyncResult")
class SyncResultSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    # Plain text, not an enum: the schema would otherwise name one enum per "status" field and
    # collide with other apps' (drf-spectacular W001).
    status = serializers.CharField(help_text="accepted, duplicate or rejected")
    reading_id = serializers.IntegerField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())
    code = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)


class FieldSyncApi(APIView):
    """``POST``: captured readings (see :mod:`metering.services` for the format). One result
    per reading: accepted, duplicate (sent before: nothing written) or rejected (why)."""

    permission_classes = [IsAuthenticated, IsMeterReader]
    parser_classes = [JSONParser]

    @extend_schema_serializer(component_name="FieldSyncOutput")
    class OutputSerializer(serializers.Serializer):
        results = SyncResultSerializer(many=True)
        accepted = serializers.IntegerField()
        duplicate = serializers.IntegerField()
        rejected = serializers.IntegerField()

    @extend_schema(
        operation_id="field_sync",
        request=inline_serializer(
            "FieldSyncInput",
            {
                "device_id": serializers.CharField(required=False),
                "readings": serializers.ListField(child=serializers.DictField()),
            },
        ),
        responses=OutputSerializer,
    )
    def post(self, request):
        try:
            result = services.sync_readings(user=request.user, batch=request.data)
        except services.MeteringError as error:
            return _error(error)
        data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
        for item in data["results"]:
            item["flags"] = [f for f in item.get("flags") or () if f in READER_VISIBLE_FLAGS]
        return Response(self.OutputSerializer(data).data)


class FieldPhotoApi(APIView):
    """``POST`` (multipart: ``client_id``, ``photo``): the photo of a reading this reader has
    synced. Sending it again answers the same and stores nothing new."""

    permission_classes = [IsAuthenticated, IsMeterReader]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema_serializer(component_name="FieldPhotoInput")
    class InputSerializer(serializers.Serializer):
        client_id = serializers.UUIDField()
        photo = serializers.FileField()

    @extend_schema_serializer(component_name="FieldPhotoOutput")
    class OutputSerializer(serializers.Serializer):
        client_id = serializers.UUIDField()
        reading_id = serializers.IntegerField()
        stored = serializers.BooleanField()

    @extend_schema(operation_id="field_photo", request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            return Response(
                {"code": "invalid", "message": _first_error(data.errors), "errors": data.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        client_id = data.validated_data["client_id"]
        try:
            reading = services.reading_photo_attach(
                user=request.user, client_id=client_id, photo=data.validated_data["photo"]
            )
        except services.MeteringError as error:
            not_found = error.code in {"unknown_reading", "not_found"}
            return _error(error, status.HTTP_404_NOT_FOUND if not_found else 400)
        return Response(
            self.OutputSerializer(
                {"client_id": client_id, "reading_id": reading.pk, "stored": bool(reading.photo)}
            ).data
        )


def _first_error(errors) -> str:
    for messages in errors.values():
        for message in messages:
            return str(message)
    return ""
