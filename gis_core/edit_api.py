"""What the map APIs share (the parcel and network editors, the sectorization planner): GeoJSON
input in WGS 84, geometries back to the map, and one answer shape for invalid input.

Every refusal answers 400 with a body the editor shows as is::

    {"code": "...", "message": "<translated>", "where": <GeoJSON geometry in 4326> | null}

Input errors have ``code`` ``invalid``, the first message naming its field by label, and the
full DRF detail under ``errors``. Each app's base view adds its own domain error.
"""

import json
import math

from django.contrib.gis.gdal import CoordTransform, GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField

from gis_core.srid import COORDINATE_PRECISION, WGS84, storage_srid

# A feature drawn by hand has tens of vertices; thousands mean a bug or an abuse.
MAX_VERTICES = 10_000


def lonlat_in_range(geom) -> bool:
    """Whether a (non-empty) geometry read as WGS 84 has finite coordinates within longitude
    -180…180 and latitude -90…90: anything else was sent in another CRS or is garbage."""
    min_x, min_y, max_x, max_y = geom.extent
    return (
        all(math.isfinite(v) for v in geom.extent)
        and min_x >= -180
        and max_x <= 180
        and min_y >= -90
        and max_y <= 90
    )


def geom_types_text(geom_types) -> str:
    """GeoJSON type names as a person reads a choice: "Polygon or MultiPolygon" (translated)."""
    *others, last = geom_types
    if not others:
        return last
    return gettext("%(types)s or %(last)s") % {"types": ", ".join(others), "last": last}


@extend_schema_field({"type": "object", "description": "GeoJSON geometry in WGS 84 (EPSG:4326)"})
class GeoJsonInputField(serializers.Field):
    """A GeoJSON geometry object of the type (or one of the types) ``geom_type``, in WGS 84,
    parsed into GEOS (SRID 4326).

    ``allow_empty`` accepts an empty geometry, for callers whose own check refuses it later with
    a message of its own; ``max_vertices`` raises the cap for features larger than one drawn by
    hand (a tariff zone of hundreds of colonias).
    """

    default_error_messages = {
        "not_object": gettext_lazy(
            "Send the {field} as a GeoJSON geometry object with 'type' and 'coordinates'."
        ),
        "wrong_type": gettext_lazy("The {field} must be a GeoJSON {expected}, not {got}."),
        "unreadable": gettext_lazy("The {field} is not valid GeoJSON: {reason}"),
        "empty": gettext_lazy("The {field} is empty."),
        "too_many_vertices": gettext_lazy(
            "The {field} has {count} vertices; at most {max} are accepted."
        ),
        "out_of_range": gettext_lazy(
            "The {field} has coordinates outside longitude -180…180 / latitude -90…90: "
            "send WGS 84 degrees (longitude first)."
        ),
    }

    def __init__(
        self,
        *,
        geom_type: str | tuple[str, ...],
        label_text,
        allow_empty: bool = False,
        max_vertices: int = MAX_VERTICES,
        **kwargs,
    ):
        self.geom_types = (geom_type,) if isinstance(geom_type, str) else tuple(geom_type)
        self.label_text = label_text
        self.allow_empty = allow_empty
        self.max_vertices = max_vertices
        kwargs.setdefault("label", label_text)
        # The schema says which types are accepted; the decorator's text is the same for all.
        kwargs.setdefault(
            "help_text", f"GeoJSON {' or '.join(self.geom_types)} in WGS 84 (EPSG:4326)"
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        field = str(self.label_text)
        if not isinstance(data, dict) or "type" not in data or "coordinates" not in data:
            self.fail("not_object", field=field)
        if data["type"] not in self.geom_types:
            self.fail(
                "wrong_type",
                field=field,
                expected=geom_types_text(self.geom_types),
                got=str(data["type"])[:40],
            )
        try:
            geom = GEOSGeometry(json.dumps(data))
        except (GEOSException, GDALException, ValueError, TypeError) as exc:
            self.fail("unreadable", field=field, reason=str(exc)[:200])
        if geom.empty and not self.allow_empty:
            self.fail("empty", field=field)
        if geom.num_coords > self.max_vertices:
            self.fail(
                "too_many_vertices", field=field, count=geom.num_coords, max=self.max_vertices
            )
        # An empty geometry has no extent to check.
        if not geom.empty and not lonlat_in_range(geom):
            self.fail("out_of_range", field=field)
        geom.srid = WGS84
        return geom

    def to_representation(self, value):
        return json.loads(value.json)


def storage_to_wgs84() -> CoordTransform:
    """The storage CRS → WGS 84 transformation, built once for the many geometries of a list."""
    return CoordTransform(SpatialReference(storage_srid()), SpatialReference(WGS84))


def geometry_4326(geom, transform: CoordTransform | None = None) -> dict | None:
    """One geometry of the storage CRS as GeoJSON in WGS 84 (errors' ``where``, features).

    ``transform`` (from :func:`storage_to_wgs84`) saves looking the two CRSs up again for each
    of the many geometries of one answer; it must start from the geometry's CRS.
    """
    if geom is None:
        return None
    if geom.srid is None:  # the services' contract: storage SRID
        geom = geom.clone()
        geom.srid = storage_srid()
    if geom.srid != WGS84:
        geom = geom.transform(transform or WGS84, clone=True)
    return GeometryField(precision=COORDINATE_PRECISION).to_representation(geom)


def first_message(detail, labels: dict | None = None) -> str:
    """The first human message of a DRF error detail, naming the field it is about."""
    labels = labels or {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = first_message(value)
            label = str(labels.get(key) or key)
            if key == "non_field_errors" or label.lower() in text.lower():
                return text
            return f"{label}: {text}"
    if isinstance(detail, list) and detail:
        return first_message(detail[0])
    return str(detail)


class _InvalidInput(ValidationError):
    """A ValidationError that knows its serializer's field labels (for the message)."""

    def __init__(self, detail, labels):
        super().__init__(detail)
        self.labels = labels


class EditApiBase(APIView):
    """Input validation with labelled messages, and the editor's answer for invalid input."""

    def handle_exception(self, exc):
        if isinstance(exc, ValidationError):
            return Response(
                {
                    "code": "invalid",
                    "message": first_message(exc.detail, getattr(exc, "labels", None)),
                    "where": None,
                    "errors": exc.detail,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)

    @staticmethod
    def validated(serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, **kwargs)
        if not serializer.is_valid():
            labels = {name: field.label for name, field in serializer.fields.items()}
            raise _InvalidInput(serializer.errors, labels)
        return serializer.validated_data
