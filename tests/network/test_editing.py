"""Network editing (network.editing and its API): snapping, T-junction splits, connections that
follow their pipe, each refusal leaving the database as it was, and who may edit."""

import json

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.urls import reverse

from core import roles
from network import editing
from network.models import AssetStatus, NetworkError, Pipe, ServiceConnection, Valve
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory
from tests.network.factories import connected_account, line, pipe, pt, valve

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything an edit could touch, to prove a refused edit wrote nothing."""
    return (
        sorted((p.pk, p.code, p.geom.wkt, p.status) for p in Pipe.objects.all()),
        sorted((v.pk, v.code, v.geom.wkt) for v in Valve.objects.all()),
        sorted((c.pk, c.pipe_id, c.geom.wkt) for c in ServiceConnection.objects.all()),
    )


def generation() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT generation FROM network_topology_state WHERE id = 1")
        return cur.fetchone()[0]


def xy(point):
    return round(point.x - ORIGIN_X, 3), round(point.y - ORIGIN_Y, 3)


def ends(p):
    return xy(Point(p.geom.coords[0])), xy(Point(p.geom.coords[-1]))


@pytest.fixture
def main():
    """An east-west main of 100 m, in service."""
    return pipe("M1", (0, 0), (100, 0))


# --- snapping ------------------------------------------------------------------------------------


def test_end_within_tolerance_snaps_onto_the_end_of_another_pipe_without_splitting(main):
    edit = editing.pipe_create(geom=line((100.3, 0.2), (100, 60)), diameter_mm=100)
    assert ends(edit.pipe)[0] == (100, 0)
    assert edit.split == []
    main.refresh_from_db()
    assert ends(main) == ((0, 0), (100, 0))


def test_t_junction_splits_the_other_pipe_and_its_connections_follow_the_nearest_piece(main):
    west = connected_account(main, 20, 0)
    east = connected_account(main, 80, 0)
    before = generation()

    # 0.4 m off the main: the end moves to the nearest point of it.
    edit = editing.pipe_create(geom=line((50.2, 0.4), (50, 40)), diameter_mm=150)

    assert ends(edit.pipe)[0] == (50.2, 0)
    main.refresh_from_db()
    piece = Pipe.objects.get(code="M1-2")
    assert ends(main) == ((0, 0), (50.2, 0))
    assert ends(piece) == ((50.2, 0), (100, 0))
    assert (piece.material, piece.diameter_mm, piece.status) == (
        main.material,
        main.diameter_mm,
        main.status,
    )
    assert edit.split == sorted([main.pk, piece.pk])
    assert ServiceConnection.objects.get(account=west).pipe_id == main.pk
    assert ServiceConnection.objects.get(account=east).pipe_id == piece.pk
    # The statement triggers mark the graph stale; nothing rebuilt it.
    assert generation() > before


def test_end_on_an_interior_vertex_snaps_to_it_and_splits_there():
    bent = pipe("B1", (0, 0), (50, 0), (100, 30))
    edit = editing.pipe_create(geom=line((50.3, -0.3), (50, -40)), diameter_mm=100)
    assert ends(edit.pipe)[0] == (50, 0)
    bent.refresh_from_db()
    assert ends(bent) == ((0, 0), (50, 0))
    assert ends(Pipe.objects.get(code="B1-2")) == ((50, 0), (100, 30))


def test_both_ends_on_the_same_pipe_split_it_twice(main):
    editing.pipe_create(geom=line((20, 0.3), (20, 10), (70, 10), (70, -0.2)), diameter_mm=80)
    pieces = sorted(ends(p) for p in Pipe.objects.filter(code__startswith="M1"))
    assert pieces == [((0, 0), (20, 0)), ((20, 0), (70, 0)), ((70, 0), (100, 0))]


def test_end_beyond_tolerance_stays_where_drawn_and_splits_nothing(main):
    edit = editing.pipe_create(geom=line((50, 0.8), (50, 40)), diameter_mm=100)
    assert ends(edit.pipe)[0] == (50, 0.8)
    assert Pipe.objects.count() == 2


def test_abandoned_pipes_are_no_snap_targets():
    pipe("OLD", (0, 0), (100, 0), status=AssetStatus.ABANDONED)
    edit = editing.pipe_create(geom=line((50, 0.3), (50, 40)), diameter_mm=100)
    assert ends(edit.pipe)[0] == (50, 0.3)
    assert Pipe.objects.count() == 2


def test_new_pipe_is_numbered_when_no_code_is_given():
    edit = editing.pipe_create(geom=line((0, 0), (10, 0)), diameter_mm=100)
    assert edit.pipe.code == f"TUB-{edit.pipe.pk}"


# --- refusals leave the database unchanged --------------------------------------------------------


def test_too_short_pipe_is_refused_and_nothing_is_written(main):
    before = snapshot()
    with pytest.raises(NetworkError) as error:
        # 1.1 m as drawn; snapping pulls its start onto M1: 0.9 m is left.
        editing.pipe_create(geom=line((50.1, -0.2), (50.1, 0.9)), diameter_mm=100)
    assert error.value.code == "too_short"
    assert error.value.where is not None
    assert snapshot() == before


def test_pipe_crossing_itself_is_refused(main):
    before = snapshot()
    with pytest.raises(NetworkError) as error:
        editing.pipe_create(geom=line((50, 0.2), (60, 20), (70, 10), (40, 10)), diameter_mm=100)
    assert error.value.code == "self_intersection"
    assert snapshot() == before


def test_refused_attribute_after_snapping_writes_no_split(main):
    before = snapshot()
    with pytest.raises(NetworkError) as error:
        editing.pipe_create(geom=line((50, 0.2), (50, 40)), diameter_mm=100, code="M1")
    assert error.value.code == "duplicate_code"
    assert snapshot() == before


def test_valve_snaps_onto_the_nearest_pipe(main):
    placed = editing.valve_create(point=pt(30, 0.4))
    assert xy(placed.geom) == (30, 0)
    assert placed.code == f"VAL-{placed.pk}"


def test_valve_far_from_every_pipe_is_refused(main):
    before = snapshot()
    with pytest.raises(NetworkError) as error:
        editing.valve_create(point=pt(30, 2))
    assert error.value.code == "no_pipe_near"
    assert xy(error.value.where) == (30, 2)
    assert snapshot() == before


def test_moving_a_valve_off_the_network_is_refused(main):
    v = valve("V1", 30, 0)
    before = snapshot()
    with pytest.raises(NetworkError):
        editing.valve_move(valve=v, point=pt(30, 5))
    assert snapshot() == before
    moved = editing.valve_move(valve=v, point=pt(60, -0.3))
    assert xy(moved.geom) == (60, 0)


def test_reshape_keeps_the_connections_on_the_new_route(main):
    account = connected_account(main, 40, 0)
    editing.pipe_reshape(pipe=main, geom=line((0, 0), (40, 2), (100, 0)))
    conn = ServiceConnection.objects.get(account=account)
    assert conn.pipe_id == main.pk
    assert conn.geom.distance(Pipe.objects.get(pk=main.pk).geom) < 1e-6
    # The nearest point of the new route: about 2 m north of where the tap was.
    assert conn.geom.distance(pt(40, 2)) < 0.2


def test_reshape_away_from_a_connection_is_refused(main):
    connected_account(main, 40, 0)
    before = snapshot()
    with pytest.raises(NetworkError) as error:
        editing.pipe_reshape(pipe=main, geom=line((0, 50), (100, 50)))
    assert error.value.code == "connection_too_far"
    assert xy(error.value.where) == (40, 0)
    assert snapshot() == before


def test_pipe_with_connections_cannot_be_deleted_and_one_without_can(main):
    connected_account(main, 40, 0)
    spare = pipe("S1", (0, 50), (100, 50))
    before = snapshot()
    with pytest.raises(NetworkError) as error:
        editing.pipe_delete(pipe=main)
    assert error.value.code == "pipe_has_connections"
    assert snapshot() == before
    editing.pipe_delete(pipe=spare)
    assert not Pipe.objects.filter(pk=spare.pk).exists()


def test_attribute_rules_refuse_bad_values(main):
    before = snapshot()
    for bad in ({"material": "gold"}, {"diameter_mm": 0}, {"install_year": 1700}):
        with pytest.raises(NetworkError):
            editing.pipe_update_attributes(pipe=main, **bad)
    assert snapshot() == before
    changed = editing.pipe_update_attributes(pipe=main, material="pvc", install_year=1998)
    assert (changed.material, changed.install_year) == ("pvc", 1998)


def test_hydrant_snaps_onto_a_pipe(main):
    hydrant = editing.hydrant_create(point=pt(10, -0.2))
    assert xy(hydrant.geom) == (10, 0)


# --- API -------------------------------------------------------------------------------------------


def _client(role):
    client = Client()
    client.force_login(UserFactory(username=f"u_{role}", roles=[role]))
    return client


def _geojson(geom):
    return json.loads(geom.transform(4326, clone=True).json)


@pytest.mark.parametrize("role", [roles.METER_READER, roles.CASHIER])
def test_meter_readers_and_cashiers_may_not_edit_the_network(main, role):
    client = _client(role)
    body = {"geometry": _geojson(line((50, 0.2), (50, 40))), "diameter_mm": 100}
    created = client.post(reverse("network:edit-pipes"), body, content_type="application/json")
    assert created.status_code == 403
    deleted = client.delete(reverse("network:edit-pipe", args=[main.pk]))
    assert deleted.status_code == 403
    assert Pipe.objects.count() == 1


def test_planner_draws_a_pipe_in_wgs84_and_gets_the_snapped_feature(main):
    client = _client(roles.PLANNER)
    body = {
        "geometry": _geojson(line((50.2, 0.3), (50, 40))),
        "diameter_mm": 150,
        "material": "pe",
        "install_year": 2024,
    }
    response = client.post(reverse("network:edit-pipes"), body, content_type="application/json")
    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["properties"]["material"] == "pe"
    assert len(feature["split"]) == 2
    start = feature["geometry"]["coordinates"][0]
    assert start == pytest.approx(_geojson(pt(50.2, 0))["coordinates"], abs=1e-7)

    listed = client.get(reverse("network:edit-pipes"), {"bbox": _bbox()}).json()
    assert len(listed["features"]) == 3


def _bbox():
    sw = pt(-50, -50).transform(4326, clone=True)
    ne = pt(150, 150).transform(4326, clone=True)
    return f"{sw.x},{sw.y},{ne.x},{ne.y}"


def test_refused_edit_answers_code_message_and_where(main):
    client = _client(roles.PLANNER)
    body = {"geometry": _geojson(pt(30, 3)), "normal_status": "closed"}
    response = client.post(reverse("network:edit-valves"), body, content_type="application/json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "no_pipe_near"
    assert data["message"] == data["detail"]
    assert data["where"]["type"] == "Point"
    assert Valve.objects.count() == 0


def test_planner_moves_and_closes_a_valve_then_deletes_it(main):
    v = valve("V1", 30, 0)
    client = _client(roles.PLANNER)
    response = client.patch(
        reverse("network:edit-valve", args=[v.pk]),
        {"geometry": _geojson(pt(70, 0.3)), "current_status": "closed"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    v.refresh_from_db()
    assert (xy(v.geom), v.current_status) == ((70, 0), "closed")
    assert client.delete(reverse("network:edit-valve", args=[v.pk])).status_code == 204
    assert not Valve.objects.exists()


def test_patch_with_a_bad_attribute_keeps_the_old_route(main):
    pipe("S1", (0, 50), (100, 50))
    client = _client(roles.PLANNER)
    before = snapshot()
    response = client.patch(
        reverse("network:edit-pipe", args=[main.pk]),
        {"geometry": _geojson(line((0, 0), (100, 3))), "code": "S1"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert snapshot() == before
