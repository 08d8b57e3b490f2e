"""EPANET .inp import and export: whole-file validation, transform, round trip."""

import pytest
from django.utils import translation

from network.epanet import EpanetError, Transform, epanet_export, epanet_import, parse
from network.models import Junction, NetworkError, Pipe, Pump, Tank, Valve
from network.topology import topology_build

pytestmark = pytest.mark.django_db

# A small model in local metres: reservoir R1 feeds J1; a loop J1-J2-J3-J4; a tank off J3;
# a pump between R1 and J0; a PRV between J4 and J5.
INP = """\
[TITLE]
Prueba

[JUNCTIONS]
;ID  Elev  Demand
 J0   100   0
 J1   100   1.5
 J2   98    2
 J3   97    0.5
 J4   99    1
 J5   95    0.25

[RESERVOIRS]
 R1   120

[TANKS]
 T1   110  3  1  6  12  0

[PIPES]
 P1  J0  J1  50   200  130  0  Open
 P2  J1  J2  100  150  120  0  Open
 P3  J2  J3  100  150  120  0  Open
 P4  J3  J4  100  150  120  0  Open
 P5  J4  J1  100  100  110  0  Open
 P6  J3  T1  40   200  130  0  Open

[PUMPS]
 PU1  R1  J0  HEAD C1

[VALVES]
 PRV1 J4  J5  100 PRV 30 0

[OPTIONS]
 Units LPS

[CURVES]
 C1  10  50

[COORDINATES]
 R1  -40   0
 J0  -10   0
 J1   40   0
 J2  140   0
 J3  140 100
 J4   40 100
 J5   40 150
 T1  180 100

[VERTICES]
 P2  90  -5

[END]
"""

T = Transform.offset(300_000, 2_270_000)


def test_import_writes_every_kind_in_the_projected_crs():
    counts = epanet_import(text=INP, transform=T)
    assert counts == {
        "junctions": 6,
        "reservoirs": 1,
        "tanks": 1,
        "pipes": 6,
        "pumps": 1,
        "valves": 1,
        "skipped_sections": ["CURVES", "END", "TITLE"],
    }
    j2 = Junction.objects.get(code="J2")
    assert (j2.geom.x, j2.geom.y) == (300_140, 2_270_000)
    p2 = Pipe.objects.get(code="P2")
    assert len(p2.geom) == 3  # the vertex is kept
    assert p2.diameter_mm == 150
    assert Tank.objects.get(code="T1").max_level_m == 6
    assert Pump.objects.get(code="PU1").epanet_node2 == "J0"
    assert Valve.objects.get(code="PRV1").epanet_type == "PRV"


def test_rotation_and_scale_are_applied():
    epanet_import(text=INP, transform=Transform.offset(300_000, 2_270_000, rotation_deg=90))
    j2 = Junction.objects.get(code="J2")
    assert j2.geom.x == pytest.approx(300_000) and j2.geom.y == pytest.approx(2_270_140)


def test_export_round_trips_to_the_same_graph():
    epanet_import(text=INP, transform=T)
    first = topology_build()
    exported = epanet_export(transform=T)
    again, original = parse(exported), parse(INP)
    assert set(again.junctions) == set(original.junctions)
    for node, (_n, x, y) in original.coordinates.items():
        assert again.coordinates[node][1:] == pytest.approx((x, y), abs=1e-3)
    for link, (_n, n1, n2, _len, diam, rough) in original.pipes.items():
        _m, m1, m2, _length, d2, r2 = again.pipes[link]
        assert (m1, m2, d2, r2) == (n1, n2, diam, rough)
    assert [v[1:] for v in again.vertices["P2"]] == [(90, -5)]
    assert again.pumps["PU1"][1:3] == ("R1", "J0")
    assert again.valves["PRV1"][1:5] == ("J4", "J5", 100, "PRV")
    assert again.junctions["J1"][1:] == (100, 1.5)
    # Import the export into an empty network: the same graph.
    Pipe.objects.all().delete()
    for model in (Junction, Tank, Pump, Valve):
        model.objects.all().delete()
    from network.models import Source

    Source.objects.all().delete()
    epanet_import(text=exported, transform=T)
    second = topology_build()
    assert (second["vertices"], second["edges"]) == (first["vertices"], first["edges"])


def test_bad_lines_are_all_reported_and_nothing_is_written():
    bad = INP.replace(" J2   98    2", " J2   abc   2").replace(
        " P4  J3  J4  100  150", " P4  J3  J9  100  150"
    )
    bad = bad.replace(" J5   40 150\n", "")
    with pytest.raises(EpanetError) as error, translation.override("en"):
        epanet_import(text=bad, transform=T)
    lines = {n for n, _m in error.value.errors}
    # J2's elevation (line 8), P4's unknown node (23), J5 without coordinates (11).
    assert lines == {8, 11, 23}
    assert "line 8" in error.value.message
    assert not Junction.objects.exists() and not Pipe.objects.exists()


def test_id_already_in_the_network_writes_nothing():
    Pipe.objects.create(code="P3", diameter_mm=100, geom=_line())
    with pytest.raises(EpanetError) as error, translation.override("en"):
        epanet_import(text=INP, transform=T)
    assert error.value.errors == [(22, "“P3” already exists in the network.")]
    assert not Junction.objects.exists()


def _line():
    from django.contrib.gis.geos import LineString

    return LineString((0, 0), (1, 1), srid=Pipe._meta.get_field("geom").srid)


def test_absurd_diameter_is_reported_on_its_line():
    with pytest.raises(EpanetError) as error:
        epanet_import(text=INP.replace("Units LPS", "Units GPM"), transform=T)
    assert [n for n, _m in error.value.errors] == [20, 25]


def test_errors_are_reported_in_spanish():
    with pytest.raises(EpanetError) as error, translation.override("es-mx"):
        epanet_import(text=INP.replace(" J2   98", " J2   x"), transform=T)
    assert "línea 8" in error.value.message and "no se importó nada" in error.value.message


def test_singular_transform_is_refused():
    with pytest.raises(NetworkError) as error:
        epanet_import(text=INP, transform=Transform(a=0, e=0))
    assert error.value.code == "transform_invalid"


def test_us_units_are_converted_to_si():
    text = INP.replace("Units LPS", "Units GPM").replace("200  130", "8  130")
    epanet_import(text=text, transform=T)
    assert Pipe.objects.get(code="P1").diameter_mm == round(8 * 25.4)
    assert float(Junction.objects.get(code="J1").elevation_m) == pytest.approx(30.48)


def test_values_that_do_not_fit_their_columns_are_reported_on_their_lines():
    # J1's elevation overflows NUMERIC(9,2) (line 7); PRV1's 0.2 mm diameter rounds to 0 (31).
    text = INP.replace(" J1   100   1.5", " J1   1e9   1.5").replace(
        " PRV1 J4  J5  100 PRV", " PRV1 J4  J5  0.2 PRV"
    )
    with pytest.raises(EpanetError) as error, translation.override("en"):
        epanet_import(text=text, transform=T)
    assert [n for n, _m in error.value.errors] == [7, 31]
    assert error.value.errors[0][1].startswith("junction “J1”, elevation (m): ")
    assert error.value.errors[1][1] == "valve “PRV1”: its diameter rounds to zero."
    assert not Junction.objects.exists() and not Pipe.objects.exists()
