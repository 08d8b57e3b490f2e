"""The graph build and the topology report, on networks whose findings are known."""

import pytest
from django.db import connection

from network.selectors import district_report, feasibility, topology_report
from network.topology import topology_build, topology_is_current
from sectors.models import Dma
from tests.network.factories import connected_account, line, pipe, pt, sewer, valve
from tests.sectors.factories import rect

pytestmark = pytest.mark.django_db


def _count(table):
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


def test_valves_split_pipes_and_sit_on_vertices():
    pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (100, 100))
    valve("V", 40, 0)
    result = topology_build()
    # P1 cut at the valve: 3 edges; vertices A, valve, B, C.
    assert result == {"vertices": 4, "edges": 3, "seconds": result["seconds"]}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM network_networkvertex WHERE valve_id IS NOT NULL")
        assert cur.fetchone()[0] == 1


def test_graph_is_stale_after_a_pipe_moves():
    p = pipe("P1", (0, 0), (100, 0))
    topology_build()
    assert topology_is_current()
    p.diameter_mm = 200  # not a change of the graph
    p.save()
    assert topology_is_current()
    p.geom = line((0, 0), (100, 5))
    p.save()
    assert not topology_is_current()
    topology_build()
    pipe("P2", (100, 0), (200, 0))
    assert not topology_is_current()


def test_valve_state_edits_keep_the_graph_a_valve_move_does_not():
    pipe("P1", (0, 0), (100, 0))
    v = valve("V", 40, 0)
    topology_build()
    v.operable = False
    v.current_status = "closed"
    v.save()
    assert topology_is_current()
    v.geom = pt(60, 0)
    v.save()
    assert not topology_is_current()


def test_abandoned_pipes_are_not_in_the_graph():
    pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (200, 0), status="abandoned")
    assert topology_build()["edges"] == 1


def test_report_finds_dangles_parts_overlaps_and_far_connections():
    """Main A(0,0)-B(100,0)-C(200,0); a stub from B to (100,60) ending nowhere; an island
    (500,0)-(600,0); a pipe lying on P1 over x 20..60; a connection 12 m from every pipe; a
    valve 30 m from every pipe."""
    p1 = pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (200, 0))
    stub = pipe("STUB", (100, 0), (100, 60))
    island = pipe("ISL", (500, 0), (600, 0))
    over = pipe("OVR", (20, 0), (60, 0))
    ok = connected_account(p1, 50, 0)
    far = connected_account(p1, 50, 0)
    far.connection.geom = pt(50, 12)
    far.connection.save()
    off = valve("VOFF", 300, 30)
    report = topology_report(connection_max_m=5)
    # Dangles: A(0,0), C(200,0), stub end, island's two ends, overlap's two ends (20 and 60
    # lie on P1 but P1 has no vertex there: not noded).
    dangle_points = {
        (round(d["x"] - 300_000), round(d["y"] - 2_270_000)) for d in report["dangles"]
    }
    assert dangle_points == {(0, 0), (200, 0), (100, 60), (500, 0), (600, 0), (20, 0), (60, 0)}
    gaps = {
        (round(d["x"] - 300_000), round(d["y"] - 2_270_000)): d["gap_m"] for d in report["dangles"]
    }
    assert float(gaps[(20, 0)]) == 0.0  # touching P1 without a vertex: a digitizing error
    parts = sorted(tuple(p["pipes"]) for p in report["parts"])
    assert parts == sorted([(island.pk,), (over.pk,)])
    assert report["overlaps"] == [{"pipes": [p1.pk, over.pk], "overlap_m": pytest.approx(40)}]
    assert [c["account"] for c in report["far_connections"]] == [far.pk]
    assert ok.pk not in [c["account"] for c in report["far_connections"]]
    assert report["valves_off_network"] == [off.pk]
    assert next(d for d in report["dangles"] if d["pipe"] == stub.pk)["y"] == 2_270_060


def test_feasibility_gives_nearest_main_and_sewer():
    pipe("P-FAR", (0, 200), (100, 200), diameter=300)
    main = pipe("P-NEAR", (0, 0), (100, 0), diameter=150)
    drain = sewer("S1", (0, -30), (100, -30), diameter=450)
    result = feasibility(point=pt(50, 10))
    assert result["water"]["id"] == main.pk
    assert float(result["water"]["distance_m"]) == pytest.approx(10)
    assert result["water"]["diameter_mm"] == 150
    assert result["sewer"]["id"] == drain.pk
    assert float(result["sewer"]["distance_m"]) == pytest.approx(40)


def test_feasibility_without_a_sewer_nearby_says_none():
    pipe("P", (0, 0), (100, 0))
    assert feasibility(point=pt(50, 10), max_m=100)["sewer"] is None


def test_feasibility_accepts_wgs84_points():
    main = pipe("P", (0, 0), (100, 0))
    lonlat = pt(50, 10).transform(4326, clone=True)
    assert feasibility(point=lonlat)["water"]["id"] == main.pk


def _dma(code, geom):
    from django.contrib.gis.geos import MultiPolygon

    return Dma.objects.create(code=code, name=code, geom=MultiPolygon(geom))


def test_districts_match_when_a_closed_valve_separates_them():
    """West DMA over x<100, east over x>100; a line 0─200 with a closed valve at x=100."""
    _dma("W", rect(-10, -50, 100, 50))
    _dma("E", rect(100, -50, 210, 50))
    pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (200, 0))
    valve("VB", 100, 0, current_status="closed", normal_status="closed")
    report = district_report()
    assert len(report["areas"]) == 2
    assert report["mixed_areas"] == [] and report["split_dmas"] == []


def test_districts_report_an_open_boundary_valve_as_a_mixed_area():
    _dma("W", rect(-10, -50, 100, 50))
    _dma("E", rect(100, -50, 210, 50))
    pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (200, 0))
    valve("VB", 100, 0)  # open: both districts form one hydraulic area
    report = district_report()
    assert len(report["areas"]) == 1
    assert report["mixed_areas"] == [1]
    assert report["areas"][0]["dmas"] == {"E": 100.0, "W": 100.0}


def test_districts_report_a_dma_split_by_a_closed_valve_inside_it():
    _dma("W", rect(-10, -50, 210, 50))
    pipe("P1", (0, 0), (100, 0))
    pipe("P2", (100, 0), (200, 0))
    valve("VB", 100, 0, current_status="closed")
    report = district_report()
    assert report["split_dmas"] == [{"dma": "W", "areas": [1, 2]}]
