"""Routing endpoints (mounted under /api/routing/): optimization runs and their plans, cost
matrices for any points, and visit plans for collectors and crews.

Permissions: reading a run needs ``routing.view_optimizationrun``; starting one
``routing.add_optimizationrun``; moving meters, locking routes and publishing
``routing.change_optimizationrun`` (planners and admins, routing migration 0002).
Coordinates in and out are WGS 84 longitude/latitude.
"""

from django.contrib.gis.geos import Point
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import domain_error_response, require_perms
from gis_core.srid import WGS84, storage_srid
from routing import services
from routing.matrix import cost_matrix
from routing.models import OptimizationRun, RoutingError
from sectors.models import CommercialArea, Level

CanView = require_perms("routing.view_optimizationrun")
CanRun = require_perms("routing.add_optimizationrun")
CanEdit = require_perms("routing.change_optimizationrun")
CONFLICTS = ("not_ready", "published")
MAX_API_POINTS = 200


def _storage_xy(lonlat) -> list[float]:
    point = Point(float(lonlat[0]), float(lonlat[1]), srid=WGS84)
    point.transform(storage_srid())
    return [point.x, point.y]


class LonLatField(serializers.ListField):
    child = serializers.FloatField()

    def __init__(self, **kwargs):
        super().__init__(min_length=2, max_length=2, **kwargs)


@extend_schema_serializer(component_name="OptimizationRun")
class RunOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = OptimizationRun
        fields = (
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "book",
            "base_run",
            "params",
            "result",
            "created_at",
            "started_at",
            "finished_at",
            "published_at",
        )


class RunCreateApi(APIView):
    """Start a reading-route optimization (a Celery worker runs it); poll the run for progress."""

    permission_classes = (CanRun,)

    @extend_schema_serializer(component_name="OptimizationRunInput")
    class InputSerializer(serializers.Serializer):
        book = serializers.IntegerField(required=False, allow_null=True)
        sector = serializers.IntegerField(required=False, allow_null=True)
        cycle = serializers.CharField(required=False, allow_null=True, max_length=10)
        account_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_null=True, max_length=20000
        )
        base_run = serializers.IntegerField(required=False, allow_null=True)
        readers = serializers.IntegerField(required=False, allow_null=True)
        max_meters = serializers.IntegerField(required=False, allow_null=True)
        max_minutes = serializers.FloatField(required=False, allow_null=True)
        service_minutes = serializers.FloatField(required=False, allow_null=True)
        profile = serializers.CharField(required=False, allow_null=True, max_length=20)
        speed_kmh = serializers.FloatField(required=False, allow_null=True)
        start = serializers.CharField(required=False, allow_null=True, max_length=10)
        office = LonLatField(required=False, allow_null=True, help_text="[lon, lat]")
        return_to_office = serializers.BooleanField(required=False, allow_null=True)
        balance_tolerance = serializers.FloatField(required=False, allow_null=True)
        method = serializers.CharField(
            required=False, allow_null=True, max_length=10, help_text="partition | vrp"
        )
        time_limit_s = serializers.FloatField(required=False, allow_null=True)
        stable = serializers.BooleanField(required=False, allow_null=True)
        locked_routes = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_null=True
        )

    @extend_schema(
        operation_id="routing_run_create",
        request=InputSerializer,
        responses={202: RunOutputSerializer, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = dict(data.validated_data)
        book_id = args.pop("book", None)
        book = get_object_or_404(CommercialArea, pk=book_id, level=Level.BOOK) if book_id else None
        base_id = args.pop("base_run", None)
        base = get_object_or_404(OptimizationRun, pk=base_id) if base_id else None
        if args.get("sector"):
            args["sector_id"] = args.pop("sector")
        else:
            args.pop("sector", None)
        if args.get("office"):
            args["office"] = _storage_xy(args["office"])
        try:
            run = services.run_create(
                params={k: v for k, v in args.items() if v is not None},
                user=request.user,
                book=book,
                base_run=base,
            )
        except RoutingError as error:
            return domain_error_response(error, conflict_codes=CONFLICTS)
        return Response(RunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunDetailApi(APIView):
    """A run: status, progress and, when done, its plan."""

    permission_classes = (CanView,)

    @extend_schema(operation_id="routing_run_detail", responses={200: RunOutputSerializer})
    def get(self, request, pk: int):
        return Response(RunOutputSerializer(get_object_or_404(OptimizationRun, pk=pk)).data)


class RunMoveApi(APIView):
    """Move one meter (by account id) to another route of the plan."""

    permission_classes = (CanEdit,)

    @extend_schema_serializer(component_name="RouteMoveInput")
    class InputSerializer(serializers.Serializer):
        account = serializers.IntegerField()
        to_route = serializers.IntegerField(min_value=0)

    @extend_schema(
        operation_id="routing_run_move",
        request=InputSerializer,
        responses={200: RunOutputSerializer, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = get_object_or_404(OptimizationRun, pk=pk)
        try:
            run = services.plan_move(
                run=run,
                account_id=data.validated_data["account"],
                to_route=data.validated_data["to_route"],
            )
        except RoutingError as error:
            return domain_error_response(error, conflict_codes=CONFLICTS)
        return Response(RunOutputSerializer(run).data)


class RunLockApi(APIView):
    """Lock or unlock a route of the plan."""

    permission_classes = (CanEdit,)

    @extend_schema_serializer(component_name="RouteLockInput")
    class InputSerializer(serializers.Serializer):
        route = serializers.IntegerField(min_value=0)
        locked = serializers.BooleanField()

    @extend_schema(
        operation_id="routing_run_lock",
        request=InputSerializer,
        responses={200: RunOutputSerializer, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request, pk: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = get_object_or_404(OptimizationRun, pk=pk)
        try:
            run = services.plan_lock(run=run, **data.validated_data)
        except RoutingError as error:
            return domain_error_response(error, conflict_codes=CONFLICTS)
        return Response(RunOutputSerializer(run).data)


class RunPublishApi(APIView):
    """Publish the plan: its routes become the reading order of the field app."""

    permission_classes = (CanEdit,)

    @extend_schema(
        operation_id="routing_run_publish",
        request=None,
        responses={200: RunOutputSerializer, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request, pk: int):
        run = get_object_or_404(OptimizationRun, pk=pk)
        try:
            services.plan_publish(run=run)
        except RoutingError as error:
            return domain_error_response(error, conflict_codes=CONFLICTS)
        run.refresh_from_db()
        return Response(RunOutputSerializer(run).data)


class MatrixApi(APIView):
    """Distances (m) and durations (s) over the streets between up to 200 points."""

    permission_classes = (CanView,)

    @extend_schema_serializer(component_name="CostMatrixInput")
    class InputSerializer(serializers.Serializer):
        points = serializers.ListField(child=LonLatField(), min_length=1, max_length=MAX_API_POINTS)
        profile = serializers.CharField(required=False, default="walking", max_length=20)
        speed_kmh = serializers.FloatField(required=False, allow_null=True)

    @extend_schema(
        operation_id="routing_cost_matrix",
        request=InputSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        try:
            matrix = cost_matrix(
                points=[_storage_xy(p) for p in args["points"]],
                profile=args["profile"],
                speed_kmh=args.get("speed_kmh"),
            )
        except RoutingError as error:
            return domain_error_response(error)
        return Response(
            {
                "distance_m": matrix.distance_m.round(1).tolist(),
                "duration_s": matrix.duration_s.round(1).tolist(),
                "unreachable_pairs": matrix.unreachable,
            }
        )


class VisitPlanApi(APIView):
    """Plan a day of visits (collectors, crews): service times, time windows, an office."""

    permission_classes = (CanRun,)

    @extend_schema_serializer(component_name="VisitInput")
    class VisitSerializer(serializers.Serializer):
        id = serializers.CharField(max_length=40)
        lon = serializers.FloatField()
        lat = serializers.FloatField()
        service_minutes = serializers.FloatField(min_value=0)
        window = serializers.ListField(
            child=serializers.FloatField(min_value=0),
            min_length=2,
            max_length=2,
            required=False,
            allow_null=True,
            help_text="[from, to] in minutes after the shift starts",
        )

    @extend_schema_serializer(component_name="VisitPlanInput")
    class InputSerializer(serializers.Serializer):
        visits = serializers.ListField(min_length=1, max_length=MAX_API_POINTS)
        vehicles = serializers.IntegerField(min_value=1, max_value=100)
        office = LonLatField()
        profile = serializers.CharField(required=False, default="driving", max_length=20)
        shift_minutes = serializers.FloatField(required=False, default=480, min_value=1)
        time_limit_s = serializers.FloatField(
            required=False, default=10, min_value=1, max_value=120
        )
        optional = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="routing_visit_plan",
        request=InputSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        visits = self.VisitSerializer(data=args["visits"], many=True)
        visits.is_valid(raise_exception=True)
        try:
            plan = services.visits_plan(
                visits=[
                    {**v, "xy": _storage_xy((v["lon"], v["lat"]))} for v in visits.validated_data
                ],
                vehicles=args["vehicles"],
                office=_storage_xy(args["office"]),
                profile=args["profile"],
                shift_minutes=args["shift_minutes"],
                time_limit_s=args["time_limit_s"],
                optional=args["optional"],
            )
        except RoutingError as error:
            return domain_error_response(error)
        return Response(plan)
