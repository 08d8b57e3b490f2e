"""The map APIs' shared GeoJSON input field and geometry output (gis_core.edit_api)."""

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.utils import translation
from rest_framework.exceptions import ValidationError

from gis_core.edit_api import GeoJsonInputField, geometry_4326, storage_to_wgs84
from gis_core.srid import storage_srid

SQUARE = [[[-100.9, 20.5], [-100.8, 20.5], [-100.8, 20.6], [-100.9, 20.6], [-100.9, 20.5]]]


def area_field(**kwargs):
    return GeoJsonInputField(geom_type=("Polygon", "MultiPolygon"), label_text="boundary", **kwargs)


def refusal(field, data) -> str:
    with pytest.raises(ValidationError) as caught:
        field.run_validation(data)
    return str(caught.value.detail[0])


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Polygon", "coordinates": SQUARE},
        {"type": "MultiPolygon", "coordinates": [SQUARE]},
    ],
)
def test_a_field_of_several_types_accepts_each_of_them(data):
    geom = area_field().run_validation(data)
    assert geom.geom_type == data["type"]
    assert geom.srid == 4326


def test_refusing_another_type_names_every_accepted_type_in_the_users_language():
    line = {"type": "LineString", "coordinates": [[-100.9, 20.5], [-100.8, 20.6]]}
    with translation.override("en"):
        assert refusal(area_field(), line) == (
            "The boundary must be a GeoJSON Polygon or MultiPolygon, not LineString."
        )
    with translation.override("es-mx"):
        assert "Polygon o MultiPolygon" in refusal(area_field(), line)
    three = GeoJsonInputField(geom_type=("Point", "LineString", "Polygon"), label_text="feature")
    with translation.override("en"):
        assert "GeoJSON Point, LineString or Polygon, not" in refusal(
            three, {"type": "MultiPoint", "coordinates": [[0, 0]]}
        )


def test_a_field_of_one_type_names_it_alone():
    field = GeoJsonInputField(geom_type="Point", label_text="location")
    with translation.override("en"):
        message = refusal(field, {"type": "Polygon", "coordinates": SQUARE})
    assert message == "The location must be a GeoJSON Point, not Polygon."


def test_an_empty_geometry_is_refused_unless_allowed():
    empty = {"type": "MultiPolygon", "coordinates": []}
    with translation.override("en"):
        assert refusal(area_field(), empty) == "The boundary is empty."
    geom = area_field(allow_empty=True).run_validation(empty)
    assert geom.empty and geom.srid == 4326


def test_allowing_empty_still_checks_the_range_of_what_is_not_empty():
    far = {"type": "Polygon", "coordinates": [[[500, 0], [501, 0], [501, 1], [500, 0]]]}
    with translation.override("en"):
        assert "outside longitude" in refusal(area_field(allow_empty=True), far)


def test_the_vertex_cap_is_the_callers():
    with translation.override("en"):
        message = refusal(area_field(max_vertices=4), {"type": "Polygon", "coordinates": SQUARE})
    assert message == "The boundary has 5 vertices; at most 4 are accepted."
    assert area_field(max_vertices=5).run_validation({"type": "Polygon", "coordinates": SQUARE})


def test_the_schema_names_the_accepted_types():
    assert "Polygon or MultiPolygon" in area_field().help_text


def test_geometry_4326_with_one_shared_transform_equals_one_per_geometry():
    stored = Polygon.from_bbox((0, 0, 100, 50))
    stored.srid = None  # the services' contract: no SRID means the storage CRS
    moved = Point(250, 75, srid=storage_srid())
    transform = storage_to_wgs84()
    assert geometry_4326(stored, transform) == geometry_4326(stored)
    assert geometry_4326(moved, transform) == geometry_4326(moved)
    assert geometry_4326(None, transform) is None
