"""The optimizer engine on synthetic problems: balance, coverage, time windows, stability."""

import numpy as np
import pytest

from routing.engine import (
    Problem,
    adjacent_pairs_kept,
    imbalance,
    insert_stable,
    nearest_neighbour,
    route_figures,
    solve,
)


def euclidean_problem(points, *, vehicles, service_s=60.0, speed=1.25, **kwargs) -> Problem:
    pts = np.asarray(points, dtype=float)
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)) * 1.3
    return Problem(
        duration_s=d / speed,
        distance_m=d,
        vehicles=vehicles,
        service_s=np.full(len(pts), service_s),
        **kwargs,
    )


def town(n=240, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 2000, size=(n, 2))


def test_every_visit_is_in_exactly_one_route_and_routes_are_balanced():
    problem = euclidean_problem(town(), vehicles=6, time_limit_s=4)
    solution = solve(problem)
    visits = sorted(v for r in solution.routes for v in r.visits)
    assert visits == list(range(problem.n))
    assert solution.dropped == []
    assert imbalance([r.work_s for r in solution.routes]) <= 0.10
    assert solution.objective > 0 and solution.bound is None


def test_the_optimizer_beats_a_nearest_neighbour_tour_cut_in_pieces():
    problem = euclidean_problem(town(), vehicles=6, time_limit_s=4)
    solution = solve(problem)
    tour = nearest_neighbour(problem)
    pieces = np.array_split(np.asarray(tour), 6)
    baseline = sum(route_figures(problem, list(p)).distance_m for p in pieces)
    assert solution.distance_m < baseline


def test_a_cap_on_visits_per_route_is_kept():
    problem = euclidean_problem(town(90), vehicles=4, max_visits=25, time_limit_s=2)
    solution = solve(problem)
    assert max(len(r.visits) for r in solution.routes) <= 25
    assert sum(len(r.visits) for r in solution.routes) == 90


def test_a_cap_on_working_time_that_cannot_be_met_gives_no_plan():
    # 50 visits of 10 minutes cannot fit in two routes of one hour.
    problem = euclidean_problem(
        town(50), vehicles=2, service_s=600, max_route_s=3600, time_limit_s=1
    )
    assert solve(problem) is None


def test_routes_from_an_office_start_and_end_there():
    pts = town(40)
    office = np.array([1000.0, 1000.0])
    to = np.hypot(*(pts - office).T) * 1.3
    problem = euclidean_problem(
        pts,
        vehicles=2,
        depot_duration_s=(to / 1.25, to / 1.25),
        depot_distance_m=(to, to),
        time_limit_s=2,
    )
    solution = solve(problem)
    for r in solution.routes:
        inner = sum(problem.distance_m[a, b] for a, b in zip(r.visits, r.visits[1:], strict=False))
        assert r.distance_m == pytest.approx(inner + to[r.visits[0]] + to[r.visits[-1]])


def test_time_windows_are_met_for_crew_visits():
    # A crew day: 12 jobs of 30 minutes on a 3 km square, 8 hours, some with windows.
    rng = np.random.default_rng(5)
    pts = rng.uniform(0, 3000, size=(12, 2))
    windows = [None] * 12
    windows[0] = (0, 3600)  # first hour
    windows[3] = (4 * 3600, 5 * 3600)
    windows[7] = (6 * 3600, 8 * 3600)
    problem = euclidean_problem(
        pts,
        vehicles=1,
        service_s=1800,
        speed=25 / 3.6,
        time_windows=windows,
        shift_s=9 * 3600,
        balance_tolerance=None,
        minimize="duration",
        time_limit_s=2,
    )
    solution = solve(problem)
    route = solution.routes[0]
    arrivals = dict(zip(route.visits, route.arrivals_s, strict=True))
    assert sorted(route.visits) == list(range(12))
    for node, (start, end) in ((0, windows[0]), (3, windows[3]), (7, windows[7])):
        assert start <= arrivals[node] <= end
    # Arrival times grow along the route by at least the service and travel between visits.
    for (a, ta), (b, tb) in zip(
        zip(route.visits, route.arrivals_s, strict=True),
        list(zip(route.visits, route.arrivals_s, strict=True))[1:],
        strict=False,
    ):
        assert tb >= ta + 1800 + problem.duration_s[a, b] - 1


def test_optional_visits_that_do_not_fit_are_dropped_not_forced():
    rng = np.random.default_rng(2)
    pts = rng.uniform(0, 1000, size=(20, 2))
    problem = euclidean_problem(
        pts,
        vehicles=1,
        service_s=3600,
        time_windows=[(0, 8 * 3600)] * 20,
        shift_s=8 * 3600,
        balance_tolerance=None,
        drop_penalty=100_000,
        time_limit_s=1,
    )
    solution = solve(problem)
    assert 1 <= len(solution.routes[0].visits) <= 8
    assert len(solution.dropped) + len(solution.routes[0].visits) == 20


def test_stable_insertion_keeps_at_least_90_percent_of_adjacent_pairs():
    pts = town(300, seed=4)
    problem = euclidean_problem(pts[:294], vehicles=5, time_limit_s=3)
    before = [r.visits for r in solve(problem).routes]
    grown = euclidean_problem(pts, vehicles=5)
    after = insert_stable(
        cost=lambda i, j: grown.duration_s[i, j],
        service_s=grown.service_s,
        routes=before,
        new=list(range(294, 300)),
    )
    assert sorted(v for r in after for v in r) == list(range(300))
    assert adjacent_pairs_kept(before, after) >= 0.9
    # Every old visit stays with its reader.
    owner = {v: k for k, r in enumerate(before) for v in r}
    assert all(owner[v] == k for k, r in enumerate(after) for v in r if v < 294)


def test_stable_insertion_leaves_locked_routes_alone():
    pts = town(60, seed=6)
    problem = euclidean_problem(pts[:50], vehicles=3, time_limit_s=1)
    before = [r.visits for r in solve(problem).routes]
    grown = euclidean_problem(pts, vehicles=3)
    after = insert_stable(
        cost=lambda i, j: grown.duration_s[i, j],
        service_s=grown.service_s,
        routes=before,
        new=list(range(50, 60)),
        locked={1},
    )
    assert sorted(v for r in after for v in r) == list(range(60))
    assert after[1] == before[1]
