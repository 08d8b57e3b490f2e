"""``POST``: a proposal of automatically balanced sectors over an area (issue 5).

The planner sends the area (a GeoJSON polygon in longitude/latitude, or block ids), either the
number of sectors ``n`` or a ``target`` number of accounts per sector, and optionally barrier
streets (names and/or segment ids). The answer is a GeoJSON FeatureCollection of the proposed
sectors (geometry: the union of their blocks, in WGS 84) with their account counts and
compactness, the ``summary`` of the proposal and, beside it, the same figures for the ``current``
sectors over the area. Nothing is written: the planner adopts the proposal through the
sectors' preview/apply path, passing each feature's ``code``, ``name`` and geometry.

Permission: ``sectors.change_commercialarea``, the right to change sectors that adopting the
proposal needs (planners and admins, granted by ``sectors`` migration 0003).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import require_perms
from gis_core.api_fields import GeoJSONGeometryInput
from gis_core.edit_api import geometry_4326
from sectors.balancing import LEVEL_NAMES, BalancingError, SectorFigures, sector_proposal

CAN_PROPOSE = "sectors.change_commercialarea"


# Planners and admins (sectors/migrations grant it); others get 403.
CanPropose = require_perms(CAN_PROPOSE)


def _figures(figures: SectorFigures | None) -> dict | None:
    if figures is None:
        return None
    return {
        "sectors": figures.sectors,
        "accounts_total": figures.accounts_total,
        "accounts_min": figures.accounts_min,
        "accounts_max": figures.accounts_max,
        "accounts_mean": figures.accounts_mean,
        "max_deviation_percent": figures.max_deviation_percent,
        "compactness_mean": figures.compactness_mean,
        "compactness_min": figures.compactness_min,
    }


class SectorBalanceApi(APIView):
    """Propose N balanced, compact, contiguous sectors of whole blocks over an area."""

    permission_classes = (CanPropose,)

    @extend_schema_serializer(component_name="SectorBalanceInput")
    class InputSerializer(serializers.Serializer):
        area = GeoJSONGeometryInput(required=False, allow_null=True)
        block_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_empty=True
        )
        # Bounds (n ≥ 1, …) are the service's: its messages say what to do.
        n = serializers.IntegerField(required=False, allow_null=True)
        target = serializers.IntegerField(required=False, allow_null=True)
        barrier_streets = serializers.ListField(
            child=serializers.CharField(max_length=120), required=False, allow_empty=True
        )
        barrier_street_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_empty=True
        )
        level = serializers.CharField(
            required=False, default="sector", help_text=" | ".join(LEVEL_NAMES)
        )
        code_prefix = serializers.RegexField(
            r"^[A-Z0-9][A-Z0-9._-]{0,11}$",
            required=False,
            allow_null=True,
            help_text="Codes are the prefix and a number (default S, Z or L by level).",
        )

    @extend_schema(
        operation_id="sector_balance_propose",
        request=InputSerializer,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        args = data.validated_data
        try:
            proposal = sector_proposal(
                area=args.get("area"),
                block_ids=args.get("block_ids") or None,
                n=args.get("n"),
                target=args.get("target"),
                barrier_streets=args.get("barrier_streets") or (),
                barrier_street_ids=args.get("barrier_street_ids") or (),
                level=args["level"],
                code_prefix=args.get("code_prefix"),
            )
        except BalancingError as error:
            return Response(
                {"code": error.code, "detail": error.message, "block_ids": error.block_ids},
                status=status.HTTP_400_BAD_REQUEST,
            )
        mean = proposal.figures.accounts_mean
        features = [
            {
                "type": "Feature",
                "id": sector.code,
                "geometry": geometry_4326(sector.geom),
                "properties": {
                    "code": sector.code,
                    "name": sector.name,
                    "accounts": sector.accounts,
                    "deviation_percent": round((sector.accounts - mean) / mean * 100, 2),
                    "compactness": sector.compactness,
                    "blocks": len(sector.block_ids),
                    "block_ids": sector.block_ids,
                },
            }
            for sector in proposal.sectors
        ]
        summary = _figures(proposal.figures) | {
            "level": proposal.level,
            "n": proposal.n,
            "target": proposal.target,
            "blocks": proposal.blocks,
            "tolerance_percent": round(proposal.tolerance * 100, 2),
            "within_tolerance": proposal.figures.max_deviation_percent
            <= proposal.tolerance * 100 + 1e-9,
            "barrier_street_ids": proposal.barrier_segment_ids,
        }
        return Response(
            {
                "type": "FeatureCollection",
                "features": features,
                "summary": summary,
                "current": _figures(proposal.current),
            }
        )
