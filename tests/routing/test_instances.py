"""The VRPLIB / Solomon reader and the engine on standard instances (files in tests/routing/data,
no downloads)."""

from pathlib import Path

import pytest

from routing.engine import solve
from routing.instances import instance_read

DATA = Path(__file__).parent / "data"


def test_a_tiny_vrplib_instance_is_read_and_solved_to_its_optimum():
    instance = instance_read(DATA / "tiny.vrp", time_limit_s=1)
    assert (instance.name, instance.kind, instance.best_known) == ("tiny-n5-k2", "cvrp", 16.0)
    problem = instance.problem
    assert problem.n == 4 and problem.vehicles == 2 and problem.max_visits == 2
    assert list(problem.demand) == [1, 1, 1, 1]
    assert problem.distance_m[0, 1] == 1 and problem.depot_distance_m[0][2] == 3
    # EUC_2D distances are rounded, as TSPLIB defines them: √18 = 4.24 → 4.
    assert instance.distance[1, 3] == 4
    solution = solve(problem)
    routes = [r.visits for r in solution.routes]
    assert sorted(sorted(r) for r in routes) == [[0, 1], [2, 3]]
    assert instance.cost(routes) == 16.0


def test_a_solomon_instance_is_read_with_windows_and_service_times():
    instance = instance_read(DATA / "tiny-tw.txt", time_limit_s=1)
    problem = instance.problem
    assert instance.kind == "vrptw" and problem.vehicles == 2 and problem.max_visits == 10
    assert problem.time_windows[0] == (10 * 100, 20 * 100)
    assert list(problem.service_s) == [500, 500, 500]
    assert problem.shift_s == 100 * 100
    solution = solve(problem)
    for r in solution.routes:
        for v, t in zip(r.visits, r.arrivals_s, strict=True):
            lo, hi = problem.time_windows[v]
            assert lo <= t <= hi
    assert sorted(v for r in solution.routes for v in r.visits) == [0, 1, 2]


def test_the_optimizer_is_within_three_percent_of_the_optimum_of_a_n32_k5():
    instance = instance_read(DATA / "A-n32-k5.vrp", time_limit_s=5)
    assert instance.best_known == 784
    solution = solve(instance.problem)
    cost = instance.cost([r.visits for r in solution.routes])
    assert cost == pytest.approx(solution.objective)
    assert cost <= 784 * 1.03
