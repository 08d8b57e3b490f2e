"""The incremental graph update gives the graph a full rebuild of the same data would give.

Each edit is written through the ORM (the change-log triggers fire), the graph is updated by
``topology_update`` (which must take the incremental path), and the result is compared with a
full rebuild done in a savepoint that is rolled back (so the incremental graph lives on for the
next edit): the same edges (pipe, fractions, end points as snapped coordinates) and the same
vertices (coordinates, valve). Vertex and edge ids differ between the two by design.
"""

import itertools
import random
import threading

import pytest
from django.contrib.gis.geos import LineString
from django.db import connection, connections, transaction

from network import topology
from network.models import Pipe, Valve
from network.selectors import isolation_trace
from network.topology import topology_build, topology_is_current, topology_update
from tests.network.factories import connected_account, line, pipe, pt, valve

pytestmark = pytest.mark.django_db

_codes = itertools.count(1)


def _graph():
    """The graph as coordinates: edges and vertices, independent of ids."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT e.pipe_id, round(e.frac_from::numeric, 9), round(e.frac_to::numeric, 9),
                      round(e.length_m::numeric, 6), ST_X(a.geom), ST_Y(a.geom),
                      ST_X(b.geom), ST_Y(b.geom)
                 FROM network_networkedge e
                 JOIN network_networkvertex a ON a.id = e.source
                 JOIN network_networkvertex b ON b.id = e.target"""
        )
        edges = sorted(cur.fetchall())
        cur.execute("SELECT ST_X(geom), ST_Y(geom), valve_id FROM network_networkvertex")
        vertices = sorted(cur.fetchall(), key=lambda v: (v[0], v[1], v[2] or 0))
    return {"edges": edges, "vertices": vertices}


def _rebuilt_graph():
    """What a full rebuild would give now, without keeping it."""
    with transaction.atomic():
        topology_build()
        graph = _graph()
        transaction.set_rollback(True)
    return graph


def _update_incrementally():
    out = topology_update()
    assert out["mode"] == "incremental", out
    assert topology_is_current()
    return out


def _assert_matches_rebuild():
    graph = _graph()
    rebuilt = _rebuilt_graph()
    assert graph["vertices"] == rebuilt["vertices"]
    assert graph["edges"] == rebuilt["edges"]
    with connection.cursor() as cur:
        # No dangling references either way.
        cur.execute(
            """SELECT count(*) FROM network_networkedge e
                WHERE NOT EXISTS (SELECT 1 FROM network_networkvertex x WHERE x.id = e.source)
                   OR NOT EXISTS (SELECT 1 FROM network_networkvertex x WHERE x.id = e.target)"""
        )
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM network_topology_change")
        assert cur.fetchone()[0] == 0


@pytest.fixture
def tee():
    """A(0,0) ─P1─ B(100,0) ─P2─ C(200,0), and P3 from B up to (100,100); valves at x=40 on
    P1 and at B's P3 branch (100,5)."""
    p1 = pipe("P1", (0, 0), (100, 0))
    p2 = pipe("P2", (100, 0), (200, 0))
    p3 = pipe("P3", (100, 0), (100, 100))
    v1 = valve("V1", 40, 0)
    v2 = valve("V2", 100, 5)
    topology_build()
    return {"pipes": (p1, p2, p3), "valves": (v1, v2)}


def test_pipe_joining_existing_ends_reuses_their_vertices(tee):
    pipe("P4", (200, 0), (100, 100))
    out = _update_incrementally()
    assert out["vertices_added"] == 0 and out["edges_added"] == 1
    _assert_matches_rebuild()


def test_pipe_to_a_new_point_adds_its_far_vertex(tee):
    pipe("P4", (200, 0), (300, 0))
    out = _update_incrementally()
    assert out["vertices_added"] == 1
    _assert_matches_rebuild()


def test_deleted_pipe_takes_its_edges_and_its_lonely_vertices(tee):
    tee["pipes"][1].delete()
    out = _update_incrementally()
    assert out["vertices_removed"] == 1  # C; B still ends P1 and P3
    _assert_matches_rebuild()


def test_reshaped_pipe_is_cut_and_noded_as_a_rebuild_would(tee):
    p3 = tee["pipes"][2]
    p3.geom = line((100, 0), (130, 50), (150, 100))
    p3.save()
    _update_incrementally()
    _assert_matches_rebuild()


def test_abandoned_pipe_leaves_the_graph(tee):
    p2 = tee["pipes"][1]
    p2.status = "abandoned"
    p2.save()
    _update_incrementally()
    _assert_matches_rebuild()
    p2.status = "active"
    p2.save()
    _update_incrementally()
    _assert_matches_rebuild()


def test_moved_valve_releases_its_old_vertex_and_cuts_at_the_new_place(tee):
    v1 = tee["valves"][0]
    v1.geom = pt(70, 0.2)
    v1.save()
    out = _update_incrementally()
    assert out["vertices_removed"] == 1 and out["vertices_added"] == 1
    _assert_matches_rebuild()


def test_deleted_valve_joins_the_pieces_it_separated(tee):
    tee["valves"][0].delete()
    _update_incrementally()
    _assert_matches_rebuild()
    assert len(_graph()["edges"]) == 4  # P1 whole, P2, P3 cut at V2


def test_valve_added_inside_a_pipe_splits_it_and_sits_on_the_new_vertex(tee):
    v = valve("V3", 150, 0.3)
    _update_incrementally()
    _assert_matches_rebuild()
    assert v.pk in [valve_id for _x, _y, valve_id in _graph()["vertices"]]


def test_valve_moved_onto_a_junction_takes_that_vertex(tee):
    v1 = tee["valves"][0]
    v1.geom = pt(100, 0.1)  # nearer B than V2 is
    v1.save()
    _update_incrementally()
    _assert_matches_rebuild()


def test_valve_edits_that_are_not_geometry_leave_the_log_empty(tee):
    v1 = tee["valves"][0]
    v1.current_status = "closed"
    v1.save()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM network_topology_change")
        assert cur.fetchone()[0] == 0
    assert topology_is_current()


def test_deleted_ring_pipe_takes_its_edgeless_vertex():
    """A closed ring with no valve is one piece whose ends snap together: a vertex, no edge."""
    pipe("P1", (0, 0), (100, 0))
    ring = pipe("RING", (300, 0), (400, 0), (400, 100), (300, 0))
    topology_build()
    assert len(_graph()["vertices"]) == 3
    ring.delete()
    _update_incrementally()
    _assert_matches_rebuild()
    assert len(_graph()["vertices"]) == 2


def test_deleting_a_pipe_keeps_a_vertex_another_pipe_ends_a_piece_at():
    """The ring starts where P1 ends: deleting P1 leaves the ring's edgeless vertex."""
    p1 = pipe("P1", (0, 0), (100, 0))
    pipe("RING", (100, 0), (200, 0), (200, 100), (100, 0))
    topology_build()
    p1.delete()
    _update_incrementally()
    _assert_matches_rebuild()
    assert len(_graph()["vertices"]) == 1


def test_several_edits_before_one_update_are_applied_together(tee):
    p1, p2, _p3 = tee["pipes"]
    _v1, v2 = tee["valves"]
    p2.delete()
    v2.geom = pt(100, 60)
    v2.save()
    p1.geom = line((0, 0), (50, -20), (100, 0))
    p1.save()
    pipe("P5", (100, 100), (0, 100))
    _update_incrementally()
    _assert_matches_rebuild()


def _street_grid(rng, n=12, spacing=100.0):
    """An n by n grid of streets, a pipe per block side (some abandoned, some digitized with a
    bend), valves near the crossings: on a branch a few metres out, on the crossing itself, or
    a few decimetres off the line (still on it within VALVE_ON_PIPE_M)."""
    pipes = []
    for i in range(n):
        for j in range(n - 1):
            for a, b in (((i, j), (i, j + 1)), ((j, i), (j + 1, i))):
                (x1, y1), (x2, y2) = [(c[0] * spacing, c[1] * spacing) for c in (a, b)]
                xys = [(x1, y1), (x2, y2)]
                if rng.random() < 0.15:
                    xys.insert(1, ((x1 + x2) / 2 + rng.uniform(-8, 8), (y1 + y2) / 2))
                status = "abandoned" if rng.random() < 0.05 else "active"
                pipes.append(pipe(f"G{len(pipes)}", *xys, status=status))
    valves = []
    for i in range(n):
        for j in range(n):
            x, y = i * spacing, j * spacing
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                r = rng.random()
                if r < 0.35:
                    d = rng.uniform(2, 6)
                    off = rng.choice((0.0, 0.0, 0.3))
                    valves.append(valve(f"W{len(valves)}", x + dx * d + dy * off, y + dy * d))
                elif r < 0.4:
                    valves.append(valve(f"W{len(valves)}", x, y))
    return pipes, valves


def _random_edit(rng, pipes, valves):
    """One edit of a kind chosen by ``rng``; returns its name (for the failure message)."""
    kind = rng.choice(
        ("add", "delete", "reshape", "abandon", "move_valve", "delete_valve", "add_valve")
    )
    live = [p for p in pipes if Pipe.objects.filter(pk=p.pk).exists()]
    p = rng.choice(live)
    (x1, y1), (x2, y2) = p.geom.coords[0], p.geom.coords[-1]
    if kind == "add":
        # A new pipe from this pipe's end to another pipe's start (existing vertices both).
        other = rng.choice(live)
        if p.geom.coords[-1] != other.geom.coords[0]:
            geom = LineString(p.geom.coords[-1], other.geom.coords[0], srid=p.geom.srid)
            pipes.append(Pipe.objects.create(code=f"N{next(_codes)}", geom=geom, diameter_mm=100))
    elif kind == "delete":
        p.delete()
    elif kind == "reshape":
        mid = ((x1 + x2) / 2 + rng.uniform(-10, 10), (y1 + y2) / 2 + rng.uniform(-10, 10))
        p.geom = LineString([p.geom.coords[0], mid, p.geom.coords[-1]], srid=p.geom.srid)
        p.save()
    elif kind == "abandon":
        p.status = "abandoned" if p.status == "active" else "active"
        p.save()
    elif valves and kind in ("move_valve", "delete_valve"):
        v = rng.choice(valves)
        if kind == "delete_valve":
            valves.remove(v)
            v.delete()
        else:
            f = rng.random()
            target = p.geom.interpolate_normalized(f)
            v.geom = type(v.geom)(target.x, target.y + rng.choice((0.0, 0.2)), srid=v.geom.srid)
            v.save()
    else:
        target = p.geom.interpolate_normalized(rng.uniform(0.1, 0.9))
        valves.append(
            Valve.objects.create(
                code=f"NV{next(_codes)}",
                geom=type(target)(target.x, target.y, srid=p.geom.srid),
            )
        )
    return kind


def test_random_edits_on_a_street_grid_match_a_full_rebuild_after_each():
    rng = random.Random(20240611)
    pipes, valves = _street_grid(rng)
    assert len(pipes) > 250
    topology_build()
    done = []
    for _ in range(30):
        done.append(_random_edit(rng, pipes, valves))
        _update_incrementally()
        graph, rebuilt = _graph(), _rebuilt_graph()
        assert graph == rebuilt, f"after edits {done}"
    assert {"add", "delete", "reshape", "abandon", "move_valve", "add_valve"} <= set(done)


def test_random_edits_applied_together_match_a_full_rebuild():
    rng = random.Random(7)
    pipes, valves = _street_grid(rng)
    topology_build()
    for _ in range(15):
        _random_edit(rng, pipes, valves)
    _update_incrementally()
    _assert_matches_rebuild()


def _trace_answer(trace):
    return (
        trace.pipe_id,
        trace.valves,
        trace.passed_valves,
        trace.closed_valves,
        trace.pipes,
        trace.accounts,
        trace.unbounded,
        round(trace.geom.length, 6) if trace.geom else None,
    )


def test_traces_after_an_incremental_update_equal_those_after_a_rebuild():
    rng = random.Random(3)
    pipes, valves = _street_grid(rng, n=8)
    for p in pipes[::5]:
        if p.status == "active":
            mid = p.geom.interpolate_normalized(0.5)
            connected_account(p, mid.x - pt(0, 0).x, mid.y - pt(0, 0).y)
    topology_build()
    for _ in range(10):
        _random_edit(rng, pipes, valves)
    _update_incrementally()
    breaks = [
        (p.pk, p.geom.interpolate_normalized(0.37))
        for p in Pipe.objects.filter(status="active").order_by("pk")[::3]
    ]
    incremental = [
        _trace_answer(isolation_trace(point=b, pipe_id=pk, ensure=False)) for pk, b in breaks
    ]
    topology_build()
    rebuilt = [
        _trace_answer(isolation_trace(point=b, pipe_id=pk, ensure=False)) for pk, b in breaks
    ]
    assert incremental == rebuilt


def test_a_change_set_above_the_threshold_takes_the_full_rebuild(tee, monkeypatch):
    monkeypatch.setattr(topology, "INCREMENTAL_MAX_CHANGES", 2)
    for k in range(3):
        pipe(f"X{k}", (300 + 10 * k, 0), (300 + 10 * k, 50))
    out = topology_update()
    assert out["mode"] == "full" and out["changes"] == 3
    _assert_matches_rebuild()


def test_a_graph_never_built_takes_the_full_rebuild():
    pipe("P1", (0, 0), (100, 0))
    assert topology_update()["mode"] == "full"
    assert topology_is_current()
    assert topology_update()["mode"] == "current"


def test_a_truncated_table_takes_the_full_rebuild(tee):
    with connection.cursor() as cur:
        cur.execute("TRUNCATE network_valve CASCADE")
    assert topology_update()["mode"] == "full"
    _assert_matches_rebuild()


def test_topology_ensure_updates_incrementally_after_an_edit(tee):
    pipe("P4", (200, 0), (300, 0))
    assert not topology_is_current()
    assert topology.topology_ensure() is True
    assert topology.topology_ensure() is False
    _assert_matches_rebuild()


def test_the_graph_edit_writes_no_history_of_the_derived_tables(tee):
    from network.models import NetworkEdge, NetworkVertex

    before = (
        NetworkEdge.pgh_event_model.objects.count(),
        NetworkVertex.pgh_event_model.objects.count(),
    )
    tee["pipes"][1].delete()
    tee["valves"][0].delete()
    _update_incrementally()
    after = (
        NetworkEdge.pgh_event_model.objects.count(),
        NetworkVertex.pgh_event_model.objects.count(),
    )
    assert after == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_pipe_committed_during_an_update_is_applied_by_the_next_one(monkeypatch):
    """A second connection commits a pipe while the update's transaction is open (after it
    consumed the log): that update must not swallow the pipe's log row, and the graph must be
    stale until the next update adds it."""
    pipe("P1", (0, 0), (100, 0))
    topology_build()
    pipe("P2", (100, 0), (200, 0))
    real_update = topology._update

    def update_with_a_concurrent_write(cur):
        out = real_update(cur)

        def write():
            pipe("P3", (200, 0), (300, 0))
            connections.close_all()

        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        return out

    monkeypatch.setattr(topology, "_update", update_with_a_concurrent_write)
    assert topology_update()["mode"] == "incremental"
    monkeypatch.undo()
    assert not topology_is_current()
    out = topology_update()
    assert out["mode"] == "incremental" and out["changes"] == 1
    assert sorted(Pipe.objects.values_list("code", flat=True)) == ["P1", "P2", "P3"]
    assert len(_graph()["edges"]) == 3
    _assert_matches_rebuild()
