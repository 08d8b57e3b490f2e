"""The routing graph and cost matrices on a crafted grid, against hand-computed figures."""

import numpy as np
import pytest
from django.contrib.gis.geos import LineString

from cadastre.models import StreetSegment
from routing.graph import graph_build, graph_ensure, graph_is_current
from routing.matrix import PointNetwork, cost_matrix, profile_get
from routing.models import RoutingEdge, RoutingError
from tests.routing.factories import SRID, street_grid, xy

pytestmark = pytest.mark.django_db


def test_graph_joins_segments_that_meet_at_a_crossing():
    street_grid(4, 4)  # 16 crossings, 24 block sides
    counts = graph_build()
    assert (counts["vertices"], counts["edges"]) == (16, 24)
    assert RoutingEdge.objects.filter(length_m=100).count() == 24
    assert graph_is_current()


def test_graph_is_rebuilt_when_a_street_is_added():
    street_grid(2, 2)
    graph_build()
    StreetSegment.objects.create(
        name="Nueva", geom=LineString(xy(100, 100), xy(200, 100), srid=SRID)
    )
    assert not graph_is_current()
    assert graph_ensure() is True
    assert RoutingEdge.objects.count() == 5
    assert graph_ensure() is False


def test_walking_distance_goes_around_the_blocks():
    street_grid(4, 4)
    # A: 5 m off the bottom street, 50 m along it; B: 5 m above the street y=200, at x=250;
    # C: 3 m below the bottom street at x=20 (same block side as A).
    points = [xy(50, -5), xy(250, 205), xy(20, -3)]
    m = cost_matrix(points=points, profile="walking")
    # A → (100,0): 50; → (200,200): 300 around the blocks; → 250 along: 50; + offsets 5 + 5.
    assert m.distance_m[0, 1] == pytest.approx(410.0, abs=0.01)
    assert m.distance_m[1, 0] == pytest.approx(410.0, abs=0.01)
    # Same block side: 30 m along it + offsets 5 + 3.
    assert m.distance_m[0, 2] == pytest.approx(38.0, abs=0.01)
    assert np.diag(m.distance_m).tolist() == [0.0, 0.0, 0.0]
    # 4.5 km/h = 1.25 m/s.
    assert m.duration_s[0, 1] == pytest.approx(410.0 / 1.25, abs=0.01)
    assert m.unreachable == 0


def test_a_missing_street_makes_the_walk_longer():
    # Without the side (1,0)-(2,0) of the bottom street, A to D along it detours a block.
    street_grid(4, 3, skip={((1, 0), (2, 0))})
    m = cost_matrix(points=[xy(50, 0), xy(250, 0)])
    # (50,0) → (100,0) 50; up 100, along 100, down 100; (200,0) → (250,0) 50.
    assert m.distance_m[0, 1] == pytest.approx(400.0, abs=0.01)


def test_walking_speed_is_configurable():
    street_grid(3, 3)
    m = cost_matrix(points=[xy(0, 0), xy(200, 0)], profile="walking", speed_kmh=3.6)
    assert m.duration_s[0, 1] == pytest.approx(200.0, abs=0.01)  # 1 m/s


def test_driving_prefers_the_avenue_by_time_not_by_distance():
    # Bottom row (y=0) is an avenue (40 km/h); the rest streets (20 km/h).
    street_grid(4, 2, avenue_rows={0})
    m = cost_matrix(points=[xy(0, 100), xy(300, 100)], profile="driving")
    # Shortest: 300 m along the street y=100 (54 s at 20 km/h). Fastest: down 100 (18 s),
    # 300 on the avenue (27 s), up 100 (18 s) = 63 s — slower here, so 54 s.
    assert m.distance_m[0, 1] == pytest.approx(300.0, abs=0.01)
    assert m.duration_s[0, 1] == pytest.approx(54.0, abs=0.01)
    m = cost_matrix(points=[xy(0, 100), xy(300, 100)], profile="driving", speed_kmh=36)
    assert m.duration_s[0, 1] == pytest.approx(30.0, abs=0.01)


def test_an_unconnected_street_falls_back_to_the_straight_line_and_is_counted():
    street_grid(2, 2)
    StreetSegment.objects.create(name="Isla", geom=LineString(xy(1000, 0), xy(1100, 0), srid=SRID))
    m = cost_matrix(points=[xy(0, 0), xy(1000, 0)])
    assert m.unreachable == 2
    assert m.distance_m[0, 1] == pytest.approx(1.4 * 1000.0, abs=0.01)


def test_pairs_agree_with_the_matrix():
    street_grid(4, 4)
    rng = np.random.default_rng(3)
    points = [xy(*p) for p in rng.uniform(0, 300, size=(12, 2))]
    net = PointNetwork(xy=np.array(points), profile=profile_get("walking"))
    full = net.matrix()
    i = rng.integers(0, 12, 30)
    j = rng.integers(0, 12, 30)
    assert np.allclose(net.pairs(i, j), full[i, j])
    # The triangle inequality holds on a shortest-path metric (up to the door offsets).
    assert (full[:, None, :] <= full[:, :, None] + full[None, :, :] + 1e-6).all()


def test_no_streets_is_refused_with_a_message():
    with pytest.raises(RoutingError) as err:
        cost_matrix(points=[xy(0, 0), xy(10, 0)])
    assert err.value.code == "no_graph"


def test_unknown_profile_is_refused():
    with pytest.raises(RoutingError) as err:
        profile_get("flying")
    assert err.value.code == "bad_params"


def test_the_command_rebuilds_the_graph_and_reports_it():
    from io import StringIO

    from django.core.management import call_command

    street_grid(3, 3)
    out = StringIO()
    call_command("routing_graph_build", stdout=out)
    assert RoutingEdge.objects.count() == 12
    assert "12" in out.getvalue()
