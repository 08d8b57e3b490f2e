"""Sectorization API under /api/sectors/: the areas of each layer, gaps in coverage, accounts in
no area, and the planner's boundary changes and proposals (preview, then apply).

Views validate input, call :mod:`sectors.services` or :mod:`sectors.selectors` and serialize.
Geometry travels as GeoJSON in WGS 84 (EPSG:4326) both ways. Every role with ``view_*`` on
sectors reads; a change needs ``add_`` / ``change_`` / ``delete_`` on the kind's model
(planners and admins). Every error answers 400 with one shape::

    {"code": "...", "message": "<translated>", "where": <GeoJSON geometry in 4326> | null}

A change is previewed (``…/preview/``: nothing is written) and then applied with the preview's
``token`` (``…/apply/``); apply refuses with ``stale_preview`` when the accounts or boundaries
changed meanwhile so that it would not do what was shown.
"""

import json

from django.contrib.gis.geos import Polygon
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework_gis.fields import GeometryField

from gis_core.api_fields import lonlat_bbox_parse, storage_envelope
from gis_core.edit_api import EditApiBase, GeoJsonInputField, geometry_4326, storage_to_wgs84
from gis_core.srid import COORDINATE_PRECISION
from sectors import selectors, services
from sectors.models import KINDS, AreaKind, SectorsError
from sectors.services import DESCENDANT_POLICIES, REPARENT, AreaEdit, ChangeDiff

MAX_VERTICES = 100_000  # a tariff zone of hundreds of colonias has tens of thousands
MAX_PROPOSAL_AREAS = 500
MAX_MOVES_LISTED = 5000

KIND_PARAMETER = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=list(KINDS), description="Layer of areas"
)
BBOX_PARAMETER = OpenApiParameter(
    "bbox", str, description="minlon,minlat,maxlon,maxlat in WGS 84 degrees"
)


# --- permissions -------------------------------------------------------------------------------


def _kind(kind: str) -> services.KindInfo:
    if kind not in KINDS:
        raise ValidationError(
            {
                "kind": [
                    _("Unknown layer “%(kind)s”; use one of: %(kinds)s.")
                    % {"kind": kind, "kinds": ", ".join(KINDS)}
                ]
            }
        )
    return services.KIND_INFO[kind]


class CanReadSectors(BasePermission):
    def has_permission(self, request, view):
        kind = view.kwargs.get("kind") or request.query_params.get("kind")
        info = services.KIND_INFO.get(kind) or services.KIND_INFO[AreaKind.SECTOR]
        return bool(request.user and request.user.has_perm(info.permission("view")))


def _require(request, kind: str, action: str) -> None:
    info = _kind(kind)
    if not request.user.has_perm(info.permission(action)):
        raise PermissionDenied(
            _("Your role does not allow you to change %(kind)s areas.")
            % {"kind": info.label.lower()}
        )


# --- geometry in and out -----------------------------------------------------------------------


def _area_geometry_field(**kwargs):
    # An empty boundary passes: the services refuse it (``empty_geometry``) naming the area.
    return GeoJsonInputField(
        geom_type=("Polygon", "MultiPolygon"),
        label_text=gettext_lazy("area boundary"),
        allow_empty=True,
        max_vertices=MAX_VERTICES,
        **kwargs,
    )


def _bbox(request) -> Polygon | None:
    """``bbox=minlon,minlat,maxlon,maxlat`` as an envelope in the storage CRS (the envelope is
    transformed, never the indexed column), or None."""
    raw = request.query_params.get("bbox")
    if not raw:
        return None
    try:
        return storage_envelope(*lonlat_bbox_parse(raw))
    except ValueError as exc:
        raise ValidationError({"bbox": [str(exc)]}) from None


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(
            {name: [_("“%(value)s” is not a whole number.") % {"value": raw[:40]}]}
        ) from None


# --- output ------------------------------------------------------------------------------------


def _ref(ref) -> dict | None:
    if ref is None:
        return None
    return {"kind": ref.kind, "id": ref.id, "code": ref.code, "name": ref.name}


def diff_json(diff: ChangeDiff) -> dict:
    """A change's diff as the planner's map and table read it."""
    transform = storage_to_wgs84()
    return {
        "token": diff.token,
        "applied": diff.applied,
        "areas": [
            {"op": op.op, **_ref(op.area), "parent_code": op.parent_code} for op in diff.areas
        ],
        "accounts_moved": diff.accounts_moved,
        "moves_total": diff.moves_total,
        "moves_truncated": diff.moves_truncated,
        "moves": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": geometry_4326(move.point, transform),
                    "properties": {
                        "account_id": move.account_id,
                        "number": move.number,
                        "kind": move.kind,
                        "from": _ref(move.source),
                        "to": _ref(move.target),
                    },
                }
                for move in diff.moves
            ],
        },
        "counts": [
            {
                **_ref(c.area),
                "before": c.before,
                "after": c.after,
                "gained": c.gained,
                "lost": c.lost,
            }
            for c in diff.counts
        ],
        "unassigned_delta": diff.unassigned_delta,
    }


# --- errors ------------------------------------------------------------------------------------


class SectorsApiBase(EditApiBase):
    """Sectorization refusals in the editors' error shape, with the place to highlight."""

    permission_classes = [CanReadSectors]

    def handle_exception(self, exc):
        if isinstance(exc, SectorsError):
            return Response(
                {"code": exc.code, "message": exc.message, "where": geometry_4326(exc.where)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)


# --- reads -------------------------------------------------------------------------------------


def _area_feature(area, kind: str, accounts: dict) -> dict:
    return {
        "type": "Feature",
        "id": area.pk,
        "geometry": json.loads(area.geojson),
        "properties": {
            "id": area.pk,
            "kind": kind,
            "code": area.code,
            "name": area.name,
            "parent_id": getattr(area, "parent_id", None),
            "parent_code": getattr(area, "parent_code", None),
            "accounts": accounts.get(area.pk, 0),
        },
    }


class AreaListApi(SectorsApiBase):
    """The areas of one layer (``zone``, ``sector``, ``book``, ``dma``, ``tariff_zone``) as a
    GeoJSON FeatureCollection in WGS 84, with their number of accounts; ``parent`` and
    ``bbox`` narrow it."""

    @extend_schema(
        parameters=[
            KIND_PARAMETER,
            BBOX_PARAMETER,
            OpenApiParameter("parent", int, description="Only the children of this area"),
        ],
        responses={200: OpenApiTypes.OBJECT},
        operation_id="sectors_area_list",
    )
    def get(self, request, kind):
        _kind(kind)
        areas = list(
            selectors.area_list(
                kind=kind, parent_id=_int_param(request, "parent"), envelope=_bbox(request)
            )
        )
        counts = selectors.area_account_counts(kind=kind, ids=[a.pk for a in areas])
        return Response(
            {
                "type": "FeatureCollection",
                "features": [_area_feature(a, kind, counts) for a in areas],
            }
        )


class AreaDetailApi(SectorsApiBase):
    """One area with its full boundary and number of accounts."""

    @extend_schema(
        parameters=[KIND_PARAMETER],
        responses={200: OpenApiTypes.OBJECT},
        operation_id="sectors_area_retrieve",
    )
    def get(self, request, kind, pk):
        _kind(kind)
        area = get_object_or_404(selectors.area_list(kind=kind), pk=pk)
        counts = selectors.area_account_counts(kind=kind, ids=[area.pk])
        return Response(_area_feature(area, kind, counts))


class GapsApi(SectorsApiBase):
    """Gaps in the coverage of a layer, as GeoJSON: inside one parent (``parent``) or the
    parents meeting ``bbox`` for sectors and books; inside the city (within ``bbox`` if given)
    for zones, DMAs and tariff zones. Each gap says its area and how many accounts lie in it."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, required=True, enum=list(KINDS)),
            OpenApiParameter("parent", int, description="The zone or sector to look inside"),
            BBOX_PARAMETER,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        kind = request.query_params.get("kind", "")
        _kind(kind)
        parent = _int_param(request, "parent")
        envelope = _bbox(request)
        if kind in (AreaKind.SECTOR, AreaKind.BOOK) and parent is None and envelope is None:
            raise ValidationError(
                {"parent": [_("Give the parent area or a bbox: gaps are looked for inside them.")]}
            )
        transform = storage_to_wgs84()
        gaps = selectors.coverage_gaps(kind=kind, parent_id=parent, envelope=envelope)
        return Response(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": geometry_4326(gap.geom, transform),
                        "properties": {
                            "kind": gap.kind,
                            "parent_id": gap.parent_id,
                            "parent_code": gap.parent_code,
                            "area_m2": round(gap.area_m2, 2),
                            "accounts": gap.accounts,
                        },
                    }
                    for gap in gaps
                ],
            }
        )


class UnassignedApi(SectorsApiBase):
    """How many accounts lie in no area of each layer, and (``kind``) which ones, paginated
    with ``limit`` and ``offset``; accounts never assigned count as in no area."""

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        status = serializers.CharField()
        parcel_id = serializers.IntegerField()
        point = GeometryField(source="point_wgs84", precision=COORDINATE_PRECISION)

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=list(KINDS))],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        counts = selectors.unassigned_counts()
        kind = request.query_params.get("kind")
        body = {"counts": counts}
        if kind:
            _kind(kind)
            paginator = LimitOffsetPagination()
            page = paginator.paginate_queryset(
                selectors.unassigned_accounts(kind=kind), request, view=self
            )
            body.update(
                kind=kind,
                count=paginator.count,
                next=paginator.get_next_link(),
                previous=paginator.get_previous_link(),
                results=self.OutputSerializer(page, many=True).data,
            )
        return Response(body)


class AccountSectorsApi(SectorsApiBase):
    """The zone, sector, book, DMA and tariff zone of one account (null: in none)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, account_id):
        row = selectors.account_sectors_get(account_id=account_id)
        if row is None:
            return Response(
                {
                    "account_id": account_id,
                    "assigned": False,
                    **{kind: None for kind in KINDS},
                }
            )
        return Response(
            {
                "account_id": account_id,
                "number": row.account.number,
                "assigned": True,
                "assigned_at": row.assigned_at,
                **{
                    kind: None
                    if getattr(row, field) is None
                    else {
                        "id": getattr(row, field).pk,
                        "code": getattr(row, field).code,
                        "name": getattr(row, field).name,
                    }
                    for kind, field in (
                        ("zone", "zone"),
                        ("sector", "sector"),
                        ("book", "book"),
                        ("dma", "dma"),
                        ("tariff_zone", "tariff_zone"),
                    )
                },
            }
        )


# --- changes -----------------------------------------------------------------------------------

ACTION_PERMISSION = {"create": "add", "update": "change", "delete": "delete"}


class _ChangeApi(SectorsApiBase):
    preview = True

    @extend_schema_serializer(component_name="SectorChangeInput")
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=list(ACTION_PERMISSION))
        kind = serializers.ChoiceField(choices=list(KINDS))
        id = serializers.IntegerField(required=False, allow_null=True)
        parent_id = serializers.IntegerField(required=False, allow_null=True)
        code = serializers.CharField(required=False, allow_null=True, max_length=40)
        name = serializers.CharField(required=False, allow_null=True, max_length=200)
        geometry = _area_geometry_field(required=False, allow_null=True)
        token = serializers.CharField(required=False, allow_null=True, max_length=64)
        moves_limit = serializers.IntegerField(
            required=False, min_value=0, max_value=MAX_MOVES_LISTED
        )

    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        _require(request, data["kind"], ACTION_PERMISSION[data["action"]])
        if data["action"] != "create" and data.get("id") is None:
            raise ValidationError({"id": [_("Say which area to change (its id).")]})
        edit = AreaEdit(
            action=data["action"],
            kind=data["kind"],
            area_id=data.get("id"),
            parent_id=data.get("parent_id"),
            code=data.get("code"),
            name=data.get("name"),
            geom=data.get("geometry"),
        )
        limit = data.get("moves_limit", services.MOVES_LIMIT)
        if self.preview:
            diff = services.preview_boundary_change(edit=edit, moves_limit=limit)
        else:
            diff = services.apply_boundary_change(
                edit=edit, token=data.get("token"), user=request.user, moves_limit=limit
            )
        return Response(diff_json(diff))


class ChangePreviewApi(_ChangeApi):
    """What creating, reshaping (or renaming, moving) or deleting an area would do: the areas
    written, each account that would move (from → to, on the map) and the counts per area.
    Writes nothing; the ``token`` goes back with the apply."""

    preview = True

    @extend_schema(request=_ChangeApi.InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return super().post(request)


class ChangeApplyApi(_ChangeApi):
    """Apply a change in one step (areas and accounts together); with the preview's ``token``,
    only if it still does exactly what the preview showed. Answers the diff applied."""

    preview = False

    @extend_schema(request=_ChangeApi.InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return super().post(request)


class _ProposalApi(SectorsApiBase):
    preview = True

    class AreaSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=40)
        name = serializers.CharField(max_length=200)
        geometry = _area_geometry_field()

    @extend_schema_serializer(component_name="SectorProposalInput")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=list(KINDS))
        parent_id = serializers.IntegerField(required=False, allow_null=True)
        areas = serializers.ListField(min_length=1, max_length=MAX_PROPOSAL_AREAS)
        descendants = serializers.ChoiceField(
            choices=list(DESCENDANT_POLICIES), required=False, default=REPARENT
        )
        token = serializers.CharField(required=False, allow_null=True, max_length=64)
        moves_limit = serializers.IntegerField(
            required=False, min_value=0, max_value=MAX_MOVES_LISTED
        )

        def validate_areas(self, value):
            areas = []
            for item in value:
                member = _ProposalApi.AreaSerializer(data=item)
                member.is_valid(raise_exception=True)
                areas.append(member.validated_data)
            return areas

    def post(self, request):
        data = self.validated(self.InputSerializer, request.data)
        for action in ("add", "change", "delete"):
            _require(request, data["kind"], action)
        proposal = [
            {"code": a["code"], "name": a["name"], "geom": a["geometry"]} for a in data["areas"]
        ]
        limit = data.get("moves_limit", services.MOVES_LIMIT)
        kwargs = {
            "level": data["kind"],
            "parent": data.get("parent_id"),
            "proposal": proposal,
            "descendants": data["descendants"],
            "moves_limit": limit,
        }
        if self.preview:
            diff = services.preview_proposal(**kwargs)
        else:
            diff = services.apply_proposal(**kwargs, token=data.get("token"), user=request.user)
        return Response(diff_json(diff))


class ProposalPreviewApi(_ProposalApi):
    """What replacing the children of ``parent_id`` in layer ``kind`` with ``areas`` would do
    (areas kept by code, created, deleted; the books or sectors below re-homed). Writes
    nothing."""

    preview = True

    @extend_schema(request=_ProposalApi.InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return super().post(request)


class ProposalApplyApi(_ProposalApi):
    """Apply a proposal in one step; with the preview's ``token``, only if unchanged."""

    preview = False

    @extend_schema(request=_ProposalApi.InputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return super().post(request)
