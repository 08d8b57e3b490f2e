"""The route optimizer: a vehicle-routing engine that knows nothing of meters or debts.

Input (:class:`Problem`): a cost matrix between visits (durations and distances), a service time
per visit, the number of routes (readers, days, collectors, crews), optional caps (working
seconds or visits per route), optional time windows, where routes start and end (an office, or
"open": at the first and last visit), a balance tolerance. Output (:class:`Solution`): ordered
routes, their distance, travel and work time, and what the solver reports.

**Solver: Google OR-Tools' routing library** (``ortools``, Apache-2.0, wheels for every
platform we deploy on). We chose it over PyVRP and VROOM (pyvroom) because route planning for a
utility needs *side* constraints more than raw benchmark speed, and OR-Tools has all of them in
one model: a work-time dimension (service + travel) with a cap per route, a weighted visit
count (meters per route, or demand), time windows with waiting (collector visits, crew days),
open routes or an office per route, per-visit penalties for optional visits, a warm start from
given routes, and single-route re-sequencing. PyVRP is a stronger pure CVRP/VRPTW solver but
has no per-route work caps beyond duration nor warm starts from a plan; VROOM is fast but
optimizes time/distance only and cannot keep routes within a tolerance of each other. Balance
within ±10% is ours, on top of the solver (below). OR-Tools' routing solver is a local
search (guided local search here): it gives the objective and no lower bound, so ``bound`` and
``gap`` stay None and the benchmark measures the gap to best-known solutions instead.

Balanced plans are found in steps sharing the time limit (see :func:`solve`): OR-Tools with a
cap on visits a little above the even share, again with a cap on work time just above the mean,
then single-visit moves into the band ``mean·(1 ± 0.8·tol)`` and a re-sequencing of the routes
that changed. Caps enter OR-Tools as hard dimension limits only: with its soft bounds or a
global span cost on the work dimension, guided local search did not reach balance within the
time limit in our measurements (a 240-visit, 6-route town stayed at 85-300% imbalance after
2 s; hard caps reach ±7% in the same time).

Two methods for balanced plans (``Problem.method``): ``"vrp"`` (above: one OR-Tools model
over every route; the shortest total) and ``"partition"`` (:func:`_solve_partition`: the visits
cut by recursive bisection into parts of equal work, each part sequenced by OR-Tools, borders
repaired by single moves; routes that do not interleave, a few percent more walking). On the
5,000-meter demo city (bench/routes.py): vrp 115 km with route hulls overlapping 24 %,
partition 122 km overlapping 5 %; a nearest-neighbour cut 131 km, 65 %.

:func:`insert_stable` is the *stable* re-planning step: it keeps every existing route and order
and inserts new visits where they cost least, within the balance band; at most one adjacent pair
of an existing route is broken per inserted visit.
"""

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

SOLVER_NAME = "OR-Tools routing (guided local search)"
BIG = 10**9


@dataclass
class Problem:
    duration_s: np.ndarray  # (n, n) travel seconds between visits
    distance_m: np.ndarray  # (n, n) metres
    vehicles: int
    service_s: np.ndarray | None = None  # (n,) seconds spent at each visit
    # From the office to each visit and back, (n,) each; None: open routes (first/last visit).
    depot_duration_s: tuple[np.ndarray, np.ndarray] | None = None
    depot_distance_m: tuple[np.ndarray, np.ndarray] | None = None
    return_to_depot: bool = True
    max_route_s: float | None = None
    max_visits: int | None = None  # cap on the sum of ``demand`` per route
    demand: np.ndarray | None = None  # (n,) visits each node stands for (1 when None)
    balance_tolerance: float | None = 0.10  # None: no balancing (crews, collectors)
    time_windows: list[tuple[float, float] | None] | None = None  # seconds from shift start
    shift_s: float = 24 * 3600
    drop_penalty: int | None = None  # None: every visit must be made
    minimize: str = "distance"  # or "duration"
    # Positions (n, 2) for compact plans (method "partition"): routes as spatial parts.
    xy: np.ndarray | None = None
    method: str = "vrp"  # "vrp": OR-Tools over all routes; "partition": parts, then each route
    time_limit_s: float = 10.0
    progress: Callable[[float], None] | None = None

    @property
    def n(self) -> int:
        return len(self.duration_s)


@dataclass
class RouteFigures:
    visits: list[int]
    distance_m: float
    travel_s: float
    service_s: float
    arrivals_s: list[float] = field(default_factory=list)

    @property
    def work_s(self) -> float:
        return self.travel_s + self.service_s


@dataclass
class Solution:
    routes: list[RouteFigures]
    objective: float | None
    bound: float | None
    gap: float | None
    dropped: list[int]
    status: str
    seconds: float
    solver: str = SOLVER_NAME

    @property
    def distance_m(self) -> float:
        return sum(r.distance_m for r in self.routes)

    @property
    def work_s(self) -> float:
        return sum(r.work_s for r in self.routes)


def imbalance(values) -> float:
    """Largest relative deviation from the mean, over the non-empty routes' workloads."""
    values = np.asarray([v for v in values], dtype=float)
    if len(values) == 0 or values.mean() == 0:
        return 0.0
    return float(np.abs(values - values.mean()).max() / values.mean())


def route_figures(problem: Problem, visits: list[int]) -> RouteFigures:
    """Distance, travel and service of one ordered route (with the office legs if any)."""
    service = _service(problem)
    idx = np.asarray(visits, dtype=np.int64)
    if len(idx) == 0:
        return RouteFigures(visits=[], distance_m=0.0, travel_s=0.0, service_s=0.0)
    dist = float(problem.distance_m[idx[:-1], idx[1:]].sum())
    travel = float(problem.duration_s[idx[:-1], idx[1:]].sum())
    if problem.depot_duration_s is not None:
        out_s, back_s = problem.depot_duration_s
        out_m, back_m = problem.depot_distance_m
        dist += float(out_m[idx[0]])
        travel += float(out_s[idx[0]])
        if problem.return_to_depot:
            dist += float(back_m[idx[-1]])
            travel += float(back_s[idx[-1]])
    return RouteFigures(
        visits=[int(v) for v in idx],
        distance_m=dist,
        travel_s=travel,
        service_s=float(service[idx].sum()),
    )


def _demand(problem: Problem) -> np.ndarray:
    if problem.demand is None:
        return np.ones(problem.n, dtype=np.int64)
    return np.asarray(problem.demand, dtype=np.int64)


def _service(problem: Problem) -> np.ndarray:
    if problem.service_s is None:
        return np.zeros(problem.n)
    return np.asarray(problem.service_s, dtype=float)


def _int_matrix(problem: Problem, values: np.ndarray, depot: tuple | None, *, add=None):
    """The (n+1) x (n+1) integer matrix with the office (or a free dummy) at index n."""
    n = problem.n
    out = np.zeros((n + 1, n + 1))
    out[:n, :n] = values
    if depot is not None:
        out[n, :n] = depot[0]
        if problem.return_to_depot:
            out[:n, n] = depot[1]
    if add is not None:
        out[:n, :] += add[:, None]
    np.fill_diagonal(out, 0)
    return np.rint(out).astype(np.int64).tolist()


class _Model:
    def __init__(self, problem: Problem):
        self.p = problem
        n = problem.n
        self.manager = pywrapcp.RoutingIndexManager(n + 1, problem.vehicles, n)
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing = self.routing
        service = _service(problem)
        dist = _int_matrix(problem, problem.distance_m, problem.depot_distance_m)
        work = _int_matrix(problem, problem.duration_s, problem.depot_duration_s, add=service)
        dist_cb = routing.RegisterTransitMatrix(dist)
        work_cb = routing.RegisterTransitMatrix(work)
        routing.SetArcCostEvaluatorOfAllVehicles(
            dist_cb if problem.minimize == "distance" else work_cb
        )
        windows = problem.time_windows
        has_windows = bool(windows) and any(w is not None for w in windows)
        self.has_windows = has_windows
        horizon = int(problem.shift_s)
        cap = int(problem.max_route_s) if problem.max_route_s else max(horizon, 10 * BIG // 10)
        if has_windows:
            cap = min(cap, horizon) if problem.max_route_s else horizon
        routing.AddDimension(work_cb, horizon if has_windows else 0, cap, not has_windows, "work")
        self.work = routing.GetDimensionOrDie("work")
        if has_windows:
            for node, window in enumerate(windows):
                if window is not None:
                    index = self.manager.NodeToIndex(node)
                    self.work.CumulVar(index).SetRange(int(window[0]), int(window[1]))
            for v in range(problem.vehicles):
                self.work.CumulVar(routing.Start(v)).SetRange(0, horizon)
                routing.AddVariableMinimizedByFinalizer(self.work.CumulVar(routing.Start(v)))
                routing.AddVariableMinimizedByFinalizer(self.work.CumulVar(routing.End(v)))
        if problem.max_visits:
            one = routing.RegisterUnaryTransitVector([int(d) for d in _demand(problem)] + [0])
            routing.AddDimension(one, 0, int(problem.max_visits), True, "visits")
        if problem.drop_penalty is not None:
            for node in range(n):
                routing.AddDisjunction([self.manager.NodeToIndex(node)], int(problem.drop_penalty))

    def params(self, seconds: float, *, first=None):
        params = pywrapcp.DefaultRoutingSearchParameters()
        # With time windows, arc-by-arc construction often finds nothing feasible before the
        # time limit; insertion respects the windows as it goes.
        strategies = routing_enums_pb2.FirstSolutionStrategy
        default = (
            strategies.PARALLEL_CHEAPEST_INSERTION
            if self.has_windows
            else strategies.PATH_CHEAPEST_ARC
        )
        params.first_solution_strategy = first or default
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(max(100, int(seconds * 1000)))
        return params

    def routes(self, assignment) -> list[list[int]]:
        out = []
        for v in range(self.p.vehicles):
            index = self.routing.Start(v)
            visits = []
            while not self.routing.IsEnd(index):
                node = self.manager.IndexToNode(index)
                if node < self.p.n:
                    visits.append(node)
                index = assignment.Value(self.routing.NextVar(index))
            out.append(visits)
        return out

    def arrivals(self, assignment, v: int) -> list[float]:
        index = self.routing.Start(v)
        times = []
        while not self.routing.IsEnd(index):
            if self.manager.IndexToNode(index) < self.p.n:
                times.append(float(assignment.Min(self.work.CumulVar(index))))
            index = assignment.Value(self.routing.NextVar(index))
        return times


def _watch(model: _Model, problem: Problem, started: float, span: tuple[float, float]):
    """Report progress (a fraction of the whole solve) at most once a second."""
    if problem.progress is None:
        return
    last = [0.0]

    def tick():
        now = time.monotonic()
        if now - last[0] >= 1.0:
            last[0] = now
            done = min(1.0, (now - started) / max(problem.time_limit_s, 0.1))
            problem.progress(span[0] + (span[1] - span[0]) * done)

    model.routing.AddAtSolutionCallback(tick)


_STATUS = {
    0: "not_solved",
    1: "success",
    2: "partial_success",
    3: "fail",
    4: "fail_timeout",
    5: "invalid",
    6: "infeasible",
    7: "optimal",
}


def _extended(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Work (service at the origin + travel) and distance matrices with the office, or a free
    dummy for open routes, at index n: a route is ``[n, *visits, n]``."""
    n = problem.n
    service = _service(problem)
    work = np.zeros((n + 1, n + 1))
    dist = np.zeros((n + 1, n + 1))
    work[:n, :n] = problem.duration_s
    dist[:n, :n] = problem.distance_m
    if problem.depot_duration_s is not None:
        work[n, :n], dist[n, :n] = problem.depot_duration_s[0], problem.depot_distance_m[0]
        if problem.return_to_depot:
            work[:n, n], dist[:n, n] = problem.depot_duration_s[1], problem.depot_distance_m[1]
    work[:n, :] += service[:, None]
    np.fill_diagonal(work, 0)
    np.fill_diagonal(dist, 0)
    return work, dist


def _route_sum(m: np.ndarray, route: list[int], depot: int) -> float:
    ext = np.asarray([depot, *route, depot], dtype=np.int64)
    return float(m[ext[:-1], ext[1:]].sum())


def rebalance(
    problem: Problem, routes: list[list[int]], *, band: float, locked=frozenset(), max_moves=None
) -> list[list[int]]:
    """Move single visits from routes above the band ``mean·(1 ± band)`` of work to routes
    below it, each time the move that adds the least distance, until every route is in the
    band (or no move helps). Locked routes neither give nor take."""
    work, dist = _extended(problem)
    depot = problem.n
    routes = [list(r) for r in routes]
    k = len(routes)
    free = [r for r in range(k) if r not in locked]
    works = np.array([_route_sum(work, r, depot) for r in routes])
    demand = _demand(problem)
    loads = np.array([int(demand[r].sum()) if r else 0 for r in routes])
    cap = problem.max_visits or np.iinfo(np.int64).max
    max_moves = max_moves or 2 * problem.n
    for _ in range(max_moves):
        mean = works[free].mean()
        over = max(free, key=lambda r: works[r])
        under = min(free, key=lambda r: works[r])
        high = works[over] - mean * (1 + band)
        low = mean * (1 - band) - works[under]
        if high <= 0 and low <= 0:
            break
        if high >= low:
            sources, targets = [over], [r for r in free if works[r] < mean and r != over]
        else:
            sources, targets = [r for r in free if works[r] > mean and r != under], [under]
        best = None
        for s_ in sources:
            src = np.asarray([depot, *routes[s_], depot], dtype=np.int64)
            if len(src) <= 2:
                continue
            a, x, b = src[:-2], src[1:-1], src[2:]
            gain_w = work[a, x] + work[x, b] - work[a, b]
            gain_d = dist[a, x] + dist[x, b] - dist[a, b]
            for t in targets:
                dst = np.asarray([depot, *routes[t], depot], dtype=np.int64)
                p, q = dst[:-1], dst[1:]
                add_w = work[p][:, x].T + work[x][:, q] - work[p, q][None, :]
                add_d = dist[p][:, x].T + dist[x][:, q] - dist[p, q][None, :]
                ok = works[t] + add_w <= mean * (1 + band)
                ok &= (works[s_] - gain_w)[:, None] >= mean * (1 - band) * 0.999
                ok &= (loads[t] + demand[x] <= cap)[:, None]
                if not ok.any():
                    continue
                cost = np.where(ok, add_d - gain_d[:, None], np.inf)
                i, pos = np.unravel_index(int(np.argmin(cost)), cost.shape)
                if best is None or cost[i, pos] < best[0]:
                    best = (cost[i, pos], s_, t, int(i), int(pos), gain_w[i], add_w[i, pos])
        if best is None:
            break
        _c, s_, t, i, pos, gw, aw = best
        node = routes[s_].pop(i)
        routes[t].insert(pos, node)
        works[s_] -= gw
        works[t] += aw
        loads[s_] -= demand[node]
        loads[t] += demand[node]
    return routes


def _resequence(problem: Problem, visits: list[int], seconds: float) -> list[int]:
    """The best order of one route's visits (same start and end rules), by OR-Tools."""
    if len(visits) < 4:
        return visits
    idx = np.asarray(visits, dtype=np.int64)
    sub = Problem(
        duration_s=problem.duration_s[np.ix_(idx, idx)],
        distance_m=problem.distance_m[np.ix_(idx, idx)],
        vehicles=1,
        service_s=_service(problem)[idx],
        depot_duration_s=None
        if problem.depot_duration_s is None
        else tuple(a[idx] for a in problem.depot_duration_s),
        depot_distance_m=None
        if problem.depot_distance_m is None
        else tuple(a[idx] for a in problem.depot_distance_m),
        return_to_depot=problem.return_to_depot,
        balance_tolerance=None,
        minimize=problem.minimize,
    )
    order = sequence_route(sub, seconds)
    return [visits[i] for i in order]


def sequence_route(sub: Problem, seconds: float) -> list[int]:
    """The best order found in ``seconds`` for the visits of a one-route problem ``sub``,
    starting from their given order (indices into ``sub``); the given order when nothing
    shorter is found."""
    identity = list(range(sub.n))
    if sub.n < 4:
        return identity
    single = Problem(**{**sub.__dict__, "vehicles": 1, "balance_tolerance": None})
    model = _Model(single)
    warm = model.routing.ReadAssignmentFromRoutes([identity], True)
    if warm is None:
        return identity
    found = model.routing.SolveFromAssignmentWithParameters(warm, model.params(seconds))
    if found is None:
        return identity
    order = model.routes(found)[0]
    dist = _extended(single)[1]
    if _route_sum(dist, order, sub.n) <= _route_sum(dist, identity, sub.n):
        return order
    return identity


def bisect(xy: np.ndarray, weight: np.ndarray, parts: int) -> list[np.ndarray]:
    """Recursive bisection of the points into ``parts`` groups of about equal weight: each cut
    across the longer side of the group's bounding box, at the weighted share of its parts."""
    out: list[np.ndarray] = []

    def split(idx: np.ndarray, k: int):
        if k == 1 or len(idx) <= 1:
            out.append(idx)
            for _ in range(k - 1):
                out.append(np.zeros(0, dtype=np.int64))
            return
        span = xy[idx].max(axis=0) - xy[idx].min(axis=0)
        axis = int(np.argmax(span))
        idx = idx[np.argsort(xy[idx, axis], kind="stable")]
        left = k // 2
        cum = np.cumsum(weight[idx])
        cut = int(np.searchsorted(cum, cum[-1] * left / k)) + 1
        cut = min(max(cut, 1), len(idx) - 1)
        split(idx[:cut], left)
        split(idx[cut:], k - left)

    split(np.arange(len(xy)), parts)
    return out


def _solve_partition(problem: Problem, started: float) -> list[list[int]]:
    """Compact routes: the visits cut into spatial parts of about equal work, each part
    sequenced by OR-Tools as one route, then single visits moved across part borders into the
    balance band (:func:`rebalance` moves the visit that adds least distance: a border one),
    and the routes that changed sequenced again."""
    service = _service(problem)
    weight = service + 1.0
    parts = bisect(np.asarray(problem.xy, dtype=float), weight, problem.vehicles)
    budget = problem.time_limit_s
    routes = []
    for k, part in enumerate(parts):
        if len(part) == 0:
            routes.append([])
            continue
        remaining = max(0.05, (budget * 0.6 - (time.monotonic() - started)))
        order = _resequence(problem, [int(v) for v in part], remaining / (len(parts) - k))
        routes.append(order)
        if problem.progress is not None:
            problem.progress(0.6 * (k + 1) / len(parts))
    before = [list(r) for r in routes]
    tol = problem.balance_tolerance or 0.1
    # A narrower band than the VRP path's: routes are measured again meter by meter after
    # expansion, and compact parts leave less slack at their borders.
    routes = rebalance(problem, routes, band=0.6 * tol)
    changed = [k for k, (r, b) in enumerate(zip(routes, before, strict=True)) if r != b]
    for n, k in enumerate(changed):
        remaining = max(0.05, budget - (time.monotonic() - started))
        routes[k] = _resequence(problem, routes[k], remaining / (len(changed) - n))
    return routes


def solve(problem: Problem, *, initial: list[list[int]] | None = None) -> Solution | None:
    """Optimize ``problem`` within its time limit; None when no plan satisfies the hard limits
    (caps, time windows).

    Balanced problems (``balance_tolerance`` set, several routes) go in three steps: (1) OR-Tools
    with a cap of visits per route a little above the even share, which spreads the visits;
    (2) OR-Tools again with a cap on work time just above the mean work of (1), warm-started
    from (1); (3) :func:`rebalance` moves single visits into the band and each changed route is
    re-sequenced. Caps and the span enter as hard dimension limits only: OR-Tools' soft bounds
    and span costs call a linear-programming filter on every move, far too slow on long routes.
    """
    started = time.monotonic()
    if problem.n == 0:
        return Solution(
            routes=[route_figures(problem, []) for _ in range(problem.vehicles)],
            objective=0,
            bound=None,
            gap=None,
            dropped=[],
            status="empty",
            seconds=0.0,
        )
    balance = problem.balance_tolerance is not None and problem.vehicles > 1
    budget = problem.time_limit_s
    work, dist = _extended(problem)

    def elapsed():
        return time.monotonic() - started

    def report(fraction):
        if problem.progress is not None:
            problem.progress(min(1.0, fraction))

    def run(p: Problem, seconds: float, warm_routes=None, first=None):
        model = _Model(p)
        if p.progress is not None:
            _watch(model, p, started, (0.0, 0.95))
        assignment = None
        if warm_routes is not None:
            warm = model.routing.ReadAssignmentFromRoutes(warm_routes, True)
            if warm is not None:
                assignment = model.routing.SolveFromAssignmentWithParameters(
                    warm, model.params(seconds)
                )
        if assignment is None:
            assignment = model.routing.SolveWithParameters(model.params(seconds, first=first))
        return model, assignment

    if balance and problem.method == "partition" and problem.xy is not None:
        routes = _solve_partition(problem, started)
        status = "partition"
        model, assignment = None, None
        objective = sum(_route_sum(dist, r, problem.n) for r in routes)
    elif not balance:
        model, assignment = run(problem, budget, initial)
        if assignment is None:
            return None
        routes = model.routes(assignment)
        status = _STATUS.get(model.routing.status(), str(model.routing.status()))
        objective = float(assignment.ObjectiveValue())
    else:
        total = int(_demand(problem).sum())
        even = math.ceil(total / problem.vehicles * (1 + problem.balance_tolerance))
        even = max(even, int(_demand(problem).max()))
        share = min(even, problem.max_visits or even)
        first = Problem(**{**problem.__dict__, "max_visits": share})
        model, assignment = run(first, budget * 0.45, initial)
        if assignment is None:
            model, assignment = run(problem, budget * 0.45, initial)
        if assignment is None:
            return None
        routes = model.routes(assignment)
        status = _STATUS.get(model.routing.status(), str(model.routing.status()))
        mean = np.mean([_route_sum(work, r, problem.n) for r in routes])
        cap = mean * (1 + 0.6 * problem.balance_tolerance)
        if problem.max_route_s:
            cap = min(cap, problem.max_route_s)
        second = Problem(**{**problem.__dict__, "max_route_s": cap})
        remaining = max(0.2, budget * 0.85 - elapsed())
        model2, assignment2 = run(second, remaining, routes)
        if assignment2 is not None:
            routes = model2.routes(assignment2)
            status = _STATUS.get(model2.routing.status(), status)
        before = [list(r) for r in routes]
        routes = rebalance(problem, routes, band=0.8 * problem.balance_tolerance)
        per_route = max(0.05, (budget - elapsed()) / max(1, problem.vehicles))
        routes = [
            _resequence(problem, r, per_route) if r != b else r
            for r, b in zip(routes, before, strict=True)
        ]
        model, assignment = None, None
        objective = sum(_route_sum(dist, r, problem.n) for r in routes)
    report(1.0)
    figures = []
    for v, visits in enumerate(routes):
        fig = route_figures(problem, visits)
        if model is not None and assignment is not None:
            fig.arrivals_s = model.arrivals(assignment, v)
        figures.append(fig)
    seen = {v for r in routes for v in r}
    dropped = [v for v in range(problem.n) if v not in seen]
    return Solution(
        routes=figures,
        objective=float(objective),
        bound=None,
        gap=None,
        dropped=dropped,
        status=status,
        seconds=elapsed(),
    )


def _span_coefficient(problem: Problem) -> int:
    """Weight of a second of the longest route against a metre of distance: about the metres
    walked in a second, so neither term swamps the other."""
    d = problem.distance_m
    t = problem.duration_s
    mask = t > 0
    if not mask.any():
        return 1
    return max(1, round(float(np.median(d[mask] / t[mask]))))


def nearest_neighbour(problem: Problem, start: int = 0) -> list[int]:
    """A plain nearest-neighbour tour over all visits (the benchmark's baseline)."""
    n = problem.n
    unvisited = np.ones(n, dtype=bool)
    order = [start]
    unvisited[start] = False
    current = start
    for _ in range(n - 1):
        row = np.where(unvisited, problem.distance_m[current], np.inf)
        current = int(np.argmin(row))
        order.append(current)
        unvisited[current] = False
    return order


def insert_stable(
    *,
    cost,
    service_s: np.ndarray,
    routes: list[list[int]],
    new: list[int],
    tolerance: float = 0.10,
    locked=frozenset(),
) -> list[list[int]]:
    """Stable re-planning: keep ``routes`` (their visits and order) and insert each of ``new``
    at its cheapest position, on a route whose work stays within ``mean·(1 + 0.7·tolerance)``
    when one exists (else the route where it costs least). ``cost(i, j)`` answers travel
    seconds for index arrays (a matrix lookup, or ``PointNetwork.pairs``); routes are open
    (the figure of an office leg does not change where a visit goes best). ``locked`` routes
    (indices) receive nothing. Each insertion breaks at most one adjacent pair."""
    service_s = np.asarray(service_s, dtype=float)
    routes = [list(r) for r in routes]

    def work(r):
        if not r:
            return 0.0
        idx = np.asarray(r, dtype=np.int64)
        return float(cost(idx[:-1], idx[1:]).sum() + service_s[idx].sum())

    works = [work(r) for r in routes]
    open_routes = [k for k in range(len(routes)) if k not in locked]
    if not open_routes or not len(new):
        return routes
    total = sum(works[k] for k in open_routes) + float(service_s[list(new)].sum())
    limit = total / len(open_routes) * (1 + 0.7 * tolerance)
    for node in new:
        best = None
        for k in open_routes:
            r = np.asarray(routes[k], dtype=np.int64)
            if len(r) == 0:
                options = np.array([0.0])
            else:
                x = np.full(len(r), node)
                to_x = cost(r, x)  # from each visit to the new one
                from_x = cost(x, r)
                inner = to_x[:-1] + from_x[1:] - cost(r[:-1], r[1:])
                options = np.concatenate([[from_x[0]], inner, [to_x[-1]]])
            pos = int(np.argmin(options))
            delta = float(options[pos]) + float(service_s[node])
            over = works[k] + delta > limit
            key = (over, works[k] + delta if over else delta)
            if best is None or key < best[0]:
                best = (key, k, pos, delta)
        _key, k, pos, delta = best
        routes[k].insert(pos, node)
        works[k] += delta
    return routes


def adjacent_pairs_kept(before: list[list], after: list[list]) -> float:
    """Share of the adjacent pairs (a, b) of ``before``'s routes that are still adjacent, in
    the same route and order, in ``after``."""
    pairs_before = [(a, b) for r in before for a, b in itertools.pairwise(r)]
    if not pairs_before:
        return 1.0
    pairs_after = {(a, b) for r in after for a, b in itertools.pairwise(r)}
    return sum(p in pairs_after for p in pairs_before) / len(pairs_before)


def routes_needed(*, visits: int, work_s: float, max_visits=None, max_route_s=None) -> int:
    """How many routes the caps call for (at least one)."""
    k = 1
    if max_visits:
        k = max(k, math.ceil(visits / max_visits))
    if max_route_s:
        k = max(k, math.ceil(work_s / max_route_s))
    return k
