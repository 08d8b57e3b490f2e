"""Writes of routing: start an optimization, execute it (in a worker), edit and publish a plan.

A **reading plan** is built in :func:`plan_build` from the meters to read:

1. every meter is snapped to its street edge (:class:`routing.matrix.PointNetwork`);
2. meters on the same edge are grouped, in their order along it, into *clusters* of at most
   ``CLUSTER_MAX`` (a reader walks a block side once, not back and forth); a cluster's service
   time is its meters' service plus the walk along it;
3. the engine (:mod:`routing.engine`) routes the clusters (costs between cluster ends), with
   the balance tolerance, the caps and the start/end rule — by default as compact parts, each
   routed (``method="partition"``: routes that do not interleave), or as one vehicle-routing
   model (``method="vrp"``: a few percent less walking, routes that may cross);
4. each route is expanded back to meters, every cluster walked in the direction that starts at
   its end nearer to where the reader comes from; km and minutes are then measured meter to
   meter on the network.

Clusters keep the solver's problem to about a sixth of the meters (5,000 meters of a demo city
are ~800 clusters) and make routes compact: a block side is never split between two readers
unless it holds more than ``CLUSTER_MAX`` meters.

**Stable mode** (``params["stable"]`` with a previous plan): the previous routes keep their
meters (meters that left are dropped); new meters are inserted where they cost least within the
balance band (:func:`routing.engine.insert_stable`), then each route that grew is re-sequenced
by OR-Tools and the new order kept only if it keeps ≥ 90 % of the route's previous adjacent
pairs (``STABLE_KEEP``). **Locked routes** of the
previous plan are copied unchanged; the other meters are optimized among the other routes.
"""

import math
import time

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routing import engine
from routing.matrix import PointNetwork, profile_get
from routing.models import OptimizationRun, RoutingError, RunKind, RunStatus
from routing.selectors import reading_stops

CLUSTER_MAX = 20
RUN_MARGIN_S = 300
MAX_METERS = 10_000  # the vertex matrix grows with the area; a book or a sector is far less

READING_DEFAULTS = {
    "readers": None,  # number of routes (readers or days); else from the caps
    "max_meters": None,  # cap on meters per route
    "max_minutes": None,  # cap on working minutes per route
    "service_minutes": 1.0,  # minutes at each meter
    "profile": "walking",
    "speed_kmh": None,  # overrides the profile's speed
    "start": "first",  # "first": at the first meter; "office": from (and back to) the office
    "office": None,  # [x, y] in the storage SRID when start = office
    "return_to_office": True,
    "balance_tolerance": 0.10,
    "method": "partition",  # "partition": compact parts, each routed; "vrp": one OR-Tools model
    "time_limit_s": 30,
    "stable": False,  # with base_run: keep its routes, insert the new meters
    "locked_routes": [],  # with base_run: route indices copied unchanged
    "cycle": None,
    "sector_id": None,
    "account_ids": None,
}


def _bad(message, field):
    return RoutingError("bad_params", message, field=field)


def params_clean(raw: dict) -> dict:
    """The reading parameters with defaults, checked. Raises RoutingError("bad_params")."""
    unknown = set(raw) - set(READING_DEFAULTS)
    if unknown:
        raise _bad(
            _("Unknown parameters: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            sorted(unknown)[0],
        )
    p = {**READING_DEFAULTS, **{k: v for k, v in raw.items() if v is not None}}
    for key in ("readers", "max_meters"):
        if p[key] is not None and (not isinstance(p[key], int) or p[key] < 1):
            raise _bad(_("Give a whole number of at least 1."), key)
    for key in ("max_minutes", "service_minutes", "time_limit_s"):
        if p[key] is not None and float(p[key]) <= 0:
            raise _bad(_("Give a number greater than zero."), key)
    if p["readers"] is None and p["max_meters"] is None and p["max_minutes"] is None:
        raise _bad(
            _("Give the number of readers (or days), or a cap on meters or minutes per route."),
            "readers",
        )
    if p["method"] not in ("partition", "vrp"):
        raise _bad(_("The method is “partition” or “vrp”."), "method")
    if p["start"] not in ("first", "office"):
        raise _bad(_("The start is the first meter or the office."), "start")
    if p["start"] == "office" and not p["office"]:
        raise _bad(_("Place the office on the map, or start at the first meter."), "office")
    tol = float(p["balance_tolerance"])
    if not 0.01 <= tol <= 0.5:
        raise _bad(_("The balance tolerance is between 1% and 50%."), "balance_tolerance")
    if float(p["time_limit_s"]) > 3600:
        raise _bad(_("The time limit is at most one hour."), "time_limit_s")
    profile_get(p["profile"], speed_kmh=p["speed_kmh"])  # raises for a bad profile or speed
    return p


def run_create(
    *, params: dict, user=None, book=None, base_run: OptimizationRun | None = None
) -> OptimizationRun:
    """Record a reading optimization and queue it for a worker once the transaction commits.
    Raises RoutingError("bad_params") for inconsistent parameters (nothing is written)."""
    from routing.tasks import optimize_task

    clean = params_clean(params)
    if book is None and not clean["sector_id"] and not clean["account_ids"] and not clean["cycle"]:
        raise _bad(_("Pick a reading book, a sector, a cycle or a list of accounts."), "book")
    if (clean["stable"] or clean["locked_routes"]) and base_run is None:
        raise _bad(_("Stable mode and locked routes need the previous plan."), "base_run")
    if base_run is not None and not base_run.result:
        raise RoutingError("not_ready", _("The previous plan has no routes yet."))
    with transaction.atomic():
        run = OptimizationRun.objects.create(
            kind=RunKind.READING,
            params=clean,
            book=book,
            base_run=base_run,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        # The worker stops the run this long after the solver's own limit (snapping, matrices,
        # measuring); the task's default limits are only a backstop.
        soft = float(clean["time_limit_s"]) + RUN_MARGIN_S
        transaction.on_commit(
            lambda: optimize_task.apply_async(
                args=[run.pk], soft_time_limit=soft, time_limit=soft + 30
            )
        )
    return run


def _progress_writer(run_id: int):
    def write(fraction: float, message: str = ""):
        fields = {"progress": max(0, min(99, int(fraction * 100)))}
        if message:
            fields["message"] = message[:300]
        OptimizationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(**fields)

    return write


def run_execute(*, run_id: int) -> str:
    """Claim a pending run, build its plan, store it. Returns the final status. A run that
    another worker claimed, or that is not pending, is left alone (idempotent redelivery)."""
    claimed = OptimizationRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=0
    )
    if not claimed:
        return "skipped"
    run = OptimizationRun.objects.get(pk=run_id)
    progress = _progress_writer(run_id)
    try:
        result = plan_build(
            params=run.params,
            book_id=run.book_id,
            base=run.base_run.result if run.base_run_id else None,
            progress=progress,
        )
    except RoutingError as error:
        OptimizationRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, message=error.message[:300], finished_at=timezone.now()
        )
        return RunStatus.FAILED
    OptimizationRun.objects.filter(pk=run_id).update(
        status=RunStatus.DONE,
        progress=100,
        result=result,
        message="",
        finished_at=timezone.now(),
    )
    return RunStatus.DONE


# ---------------------------------------------------------------------------------------------
# Building a plan


def _clusters(net: PointNetwork, members: np.ndarray, limit: int = CLUSTER_MAX) -> list[np.ndarray]:
    """``members`` (indices into ``net``) grouped by edge, ordered along it, cut into runs of at
    most ``limit``; a long block side is cut into roughly equal runs."""
    order = np.lexsort((net.f[members], net.edge[members]))
    members = members[order]
    edges = net.edge[members]
    cuts = np.flatnonzero(np.diff(edges)) + 1
    out = []
    for group in np.split(members, cuts):
        parts = math.ceil(len(group) / limit)
        out.extend(np.array_split(group, parts))
    return out


def _walk(net: PointNetwork, order: np.ndarray, *, seconds: bool) -> float:
    if len(order) < 2:
        return 0.0
    return float(net.pairs(order[:-1], order[1:], seconds=seconds).sum())


def _expand(net: PointNetwork, clusters: list[np.ndarray], route: list[int], office) -> list[int]:
    """Meters of a route of clusters, each cluster walked from its end nearer the previous
    position (the office, or the previous cluster's last meter)."""
    out: list[int] = []
    previous = office
    for k, c in enumerate(route):
        members = clusters[c]
        if previous is None:
            # The first cluster of an open route: leave it by the end nearer the next one.
            if k + 1 < len(route):
                nxt = clusters[route[k + 1]]
                ends = np.array([members[0], members[-1]])
                to_next = net.pairs(ends, np.array([nxt[0], nxt[0]])) + 0
                to_next = np.minimum(to_next, net.pairs(ends, np.array([nxt[-1], nxt[-1]])))
                forward = to_next[1] <= to_next[0]
            else:
                forward = True
        else:
            ends = np.array([members[0], members[-1]])
            d = net.pairs(np.array([previous, previous]), ends)
            forward = d[0] <= d[1]
        seq = members if forward else members[::-1]
        out.extend(int(i) for i in seq)
        previous = int(seq[-1])
    return out


def _route_figures(net, order, *, office, back, service_s) -> dict:
    idx = np.asarray(order, dtype=np.int64)
    metres = _walk(net, idx, seconds=False)
    travel = _walk(net, idx, seconds=True)
    if office is not None and len(idx):
        metres += float(net.pairs([office], [idx[0]])[0])
        travel += float(net.pairs([office], [idx[0]], seconds=True)[0])
        if back:
            metres += float(net.pairs([idx[-1]], [office])[0])
            travel += float(net.pairs([idx[-1]], [office], seconds=True)[0])
    service = service_s * len(idx)
    return {
        "meters": len(idx),
        "km": round(metres / 1000, 3),
        "travel_minutes": round(travel / 60, 1),
        "service_minutes": round(service / 60, 1),
        "minutes": round((travel + service) / 60, 1),
    }


def hull_overlap(xy: np.ndarray, route_of: np.ndarray) -> float:
    """How much routes interleave: the summed area where the convex hulls of two routes'
    meters overlap, over the summed area of the hulls (0: no two routes share ground).
    One SQL statement over the points (PostGIS hulls and intersections)."""
    if len(xy) == 0:
        return 0.0
    from django.conf import settings

    with connection.cursor() as cur:
        cur.execute(
            """
            WITH p AS (SELECT t.r, ST_SetSRID(ST_MakePoint(t.x, t.y), %(srid)s) AS g
                         FROM unnest(%(r)s::int[], %(x)s::float8[], %(y)s::float8[]) AS t(r, x, y)),
                 h AS (SELECT r, ST_ConvexHull(ST_Collect(g)) AS g FROM p GROUP BY r)
            SELECT coalesce((SELECT sum(ST_Area(ST_Intersection(a.g, b.g)))
                               FROM h a JOIN h b ON a.r < b.r AND ST_Intersects(a.g, b.g)), 0)
                   / nullif((SELECT sum(ST_Area(g)) FROM h), 0)
            """,
            {
                "srid": settings.CAUDAL_SRID,
                "r": [int(v) for v in route_of],
                "x": xy[:, 0].tolist(),
                "y": xy[:, 1].tolist(),
            },
        )
        value = cur.fetchone()[0]
    return round(float(value or 0.0), 4)


def _totals(routes: list[dict]) -> dict:
    works = [r["minutes"] for r in routes if r["meters"]]
    return {
        "routes": len(routes),
        "meters": sum(r["meters"] for r in routes),
        "km": round(sum(r["km"] for r in routes), 3),
        "minutes": round(sum(r["minutes"] for r in routes), 1),
        "imbalance": round(engine.imbalance(works), 4),
    }


def _saved(current: dict, planned: dict) -> dict:
    """What the plan saves against the routes as read today (totals of each)."""
    return {
        "km": round(current["km"] - planned["km"], 3),
        "minutes": round(current["minutes"] - planned["minutes"], 1),
    }


def plan_build(*, params: dict, book_id=None, base: dict | None = None, progress=None) -> dict:
    """The plan (see the module docstring) as the JSON stored in ``OptimizationRun.result``.
    Raises RoutingError: ``no_points``, ``too_many_points``, ``no_graph``, ``infeasible``."""
    started = time.monotonic()
    report = progress or (lambda fraction, message="": None)
    p = {**READING_DEFAULTS, **params}
    stops = reading_stops(
        book_id=book_id,
        sector_id=p["sector_id"],
        cycle=p["cycle"],
        account_ids=p["account_ids"],
    )
    if not stops:
        raise RoutingError("no_points", _("There are no meters to read in the selection."))
    if len(stops) > MAX_METERS:
        raise RoutingError(
            "too_many_points",
            _("At most %(max)s meters per plan: pick a smaller area.") % {"max": MAX_METERS},
        )
    report(0.02, _("Snapping meters to the streets…"))
    profile = profile_get(p["profile"], speed_kmh=p["speed_kmh"])
    xy = np.array([(s["x"], s["y"]) for s in stops], dtype=float)
    office = None
    if p["start"] == "office":
        xy = np.vstack([xy, np.asarray(p["office"], dtype=float)[None, :]])
        office = len(stops)
    net = PointNetwork(xy=xy, profile=profile)
    service_s = float(p["service_minutes"]) * 60
    index_of = {s["account_id"]: i for i, s in enumerate(stops)}
    back = bool(p["return_to_office"])

    # Locked and stable routes from the previous plan, in this plan's indices.
    base_routes = []
    if base:
        base_routes = [
            [index_of[a] for a in r["stops"] if a in index_of] for r in base.get("routes", [])
        ]
    locked = sorted(set(p["locked_routes"] or []))
    if any(k >= len(base_routes) or k < 0 for k in locked):
        raise _bad(_("A locked route is not in the previous plan."), "locked_routes")

    report(0.1, _("Optimizing routes…"))
    if base_routes and p["stable"]:
        planned = {i for r in base_routes for i in r}
        new = [i for i in range(len(stops)) if i not in planned]
        routes = engine.insert_stable(
            cost=lambda i, j: net.pairs(i, j, seconds=True),
            service_s=np.full(len(stops), service_s),
            routes=base_routes,
            new=new,
            tolerance=float(p["balance_tolerance"]),
            locked=set(locked),
        )
        routes = _stable_resequence(
            net, routes, base_routes, p, service_s, office, back, started, locked=set(locked)
        )
        solver = {
            "name": "stable insertion + guarded re-sequencing (" + engine.SOLVER_NAME + ")",
            "objective": None,
            "bound": None,
            "gap": None,
            "status": "stable",
        }
    else:
        fixed = {k: base_routes[k] for k in locked}
        taken = {i for r in fixed.values() for i in r}
        free = np.array([i for i in range(len(stops)) if i not in taken], dtype=np.int64)
        limit = min(CLUSTER_MAX, int(p["max_meters"] or CLUSTER_MAX))
        clusters = _clusters(net, free, limit) if len(free) else []
        total_routes = _route_count(p, net, clusters, service_s)
        if base_routes and locked:
            total_routes = max(total_routes, len(base_routes))
        vehicles = total_routes - len(fixed)
        if vehicles < 1 and len(free):
            raise RoutingError(
                "infeasible", _("Every route is locked: unlock one to place the other meters.")
            )
        solved, solver = _solve_clusters(
            net, clusters, p, vehicles, service_s, office, back, started, report
        )
        routes = []
        it = iter(solved)
        for k in range(total_routes):
            if k in fixed:
                routes.append(fixed[k])
            else:
                routes.append(_expand(net, clusters, next(it, []), office))
    report(0.97, _("Measuring the routes…"))
    plan_routes = []
    for k, order in enumerate(routes):
        figures = _route_figures(net, order, office=office, back=back, service_s=service_s)
        plan_routes.append(
            {
                "index": k,
                "stops": [stops[i]["account_id"] for i in order],
                "locked": k in locked,
                **figures,
            }
        )
    current = _current_routes(net, stops, office=office, back=back, service_s=service_s)
    totals = _totals(plan_routes)
    members = [i for order in routes for i in order]
    totals["overlap"] = hull_overlap(
        net.xy[members], np.repeat(np.arange(len(routes)), [len(o) for o in routes])
    )
    by_book = {}
    for stop in stops:
        by_book.setdefault(stop["book_id"], len(by_book))
    current["totals"]["overlap"] = hull_overlap(
        net.xy[: len(stops)], np.array([by_book[s["book_id"]] for s in stops])
    )
    solver["seconds"] = round(time.monotonic() - started, 2)
    return {
        "routes": plan_routes,
        "totals": totals,
        "current": current,
        "saved": _saved(current["totals"], totals),
        "points": {
            str(s["account_id"]): [s["number"], round(s["lon"], 7), round(s["lat"], 7)]
            for s in stops
        },
        "solver": solver,
        "unreachable_pairs": net.unreachable,
        "profile": profile.name,
    }


STABLE_KEEP = 0.9  # share of a route's previous adjacent pairs a re-sequencing must keep


def _stable_resequence(net, routes, base_routes, p, service_s, office, back, started, *, locked):
    """Re-optimize the order of each route that received new meters, keeping the result only
    when it keeps at least STABLE_KEEP of the route's previous adjacent pairs (else the
    insertion's order stays)."""
    changed = [k for k, r in enumerate(routes) if k not in locked and len(r) != len(base_routes[k])]
    if not changed:
        return routes
    budget = max(0.5, float(p["time_limit_s"]) - (time.monotonic() - started))
    out = [list(r) for r in routes]
    for k in changed:
        idx = np.asarray(routes[k], dtype=np.int64)
        depot_s = depot_m = None
        if office is not None:
            o = np.full(len(idx), office)
            depot_s = (net.pairs(o, idx, seconds=True), net.pairs(idx, o, seconds=True))
            depot_m = (net.pairs(o, idx), net.pairs(idx, o))
        sub = engine.Problem(
            duration_s=net.matrix(idx, seconds=True),
            distance_m=net.matrix(idx),
            vehicles=1,
            service_s=np.full(len(idx), service_s),
            depot_duration_s=depot_s,
            depot_distance_m=depot_m,
            return_to_depot=back,
            balance_tolerance=None,
        )
        order = engine.sequence_route(sub, budget * 0.8 / len(changed))
        candidate = [int(idx[i]) for i in order]
        if engine.adjacent_pairs_kept([base_routes[k]], [candidate]) >= STABLE_KEEP:
            out[k] = candidate
    return out


def _route_count(p, net, clusters, service_s) -> int:
    if p["readers"]:
        return int(p["readers"])
    meters = sum(len(c) for c in clusters)
    work = meters * service_s
    if p["max_minutes"]:
        # Travel is unknown before solving: a nearest-neighbour walk over the cluster heads
        # gives an upper estimate (the solver's routes are shorter).
        heads = np.array([c[0] for c in clusters], dtype=np.int64)
        if len(heads) > 1:
            sub = engine.Problem(
                duration_s=net.matrix(heads, seconds=True),
                distance_m=net.matrix(heads),
                vehicles=1,
            )
            tour = np.asarray(engine.nearest_neighbour(sub), dtype=np.int64)
            work += float(sub.duration_s[tour[:-1], tour[1:]].sum()) * 0.8
    return engine.routes_needed(
        visits=meters,
        work_s=work,
        max_visits=p["max_meters"],
        max_route_s=float(p["max_minutes"]) * 60 if p["max_minutes"] else None,
    )


def _solve_clusters(net, clusters, p, vehicles, service_s, office, back, started, report):
    if not clusters:
        return [], {"name": engine.SOLVER_NAME, "objective": 0, "bound": None, "gap": None}
    ends = np.array([[c[0], c[-1]] for c in clusters], dtype=np.int64).reshape(-1)
    k = len(clusters)

    def reduce(m):
        return m.reshape(k, 2, k, 2).min(axis=(1, 3))

    dur = reduce(net.matrix(ends, seconds=True))
    dist = reduce(net.matrix(ends))
    inner_s = np.array([_walk(net, c, seconds=True) for c in clusters])
    size = np.array([len(c) for c in clusters])
    depot_s = depot_m = None
    if office is not None:
        o = np.full(len(ends), office)
        out_s = net.pairs(o, ends, seconds=True).reshape(k, 2).min(axis=1)
        out_m = net.pairs(o, ends).reshape(k, 2).min(axis=1)
        depot_s, depot_m = (out_s, out_s), (out_m, out_m)
    budget = float(p["time_limit_s"]) - (time.monotonic() - started)
    problem = engine.Problem(
        duration_s=dur,
        distance_m=dist,
        vehicles=vehicles,
        service_s=size * service_s + inner_s,
        depot_duration_s=depot_s,
        depot_distance_m=depot_m,
        return_to_depot=back,
        max_route_s=float(p["max_minutes"]) * 60 if p["max_minutes"] else None,
        balance_tolerance=float(p["balance_tolerance"]),
        time_limit_s=max(1.0, budget * 0.9),
        progress=lambda f: report(0.1 + 0.85 * f),
        xy=np.array([net.xy[c].mean(axis=0) for c in clusters]),
        method=p["method"],
    )
    if p["max_meters"]:
        problem.max_visits = int(p["max_meters"])
        problem.demand = size
    solution = engine.solve(problem)
    if solution is None:
        raise RoutingError(
            "infeasible",
            _("No plan fits the caps: allow more readers, more meters or more minutes per route."),
        )
    routes = [r.visits for r in solution.routes]
    return routes, {
        "name": engine.SOLVER_NAME,
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "status": solution.status,
        "clusters": k,
    }


def _current_routes(net, stops, *, office, back, service_s) -> dict:
    """The routes as read today: each current book in its reading order (published sequence,
    then account number), measured like the plan's."""
    books: dict = {}
    for i, s in enumerate(stops):
        books.setdefault(s["book_id"], []).append(i)
    routes = []
    for book_id, members in sorted(books.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        members.sort(
            key=lambda i: (
                stops[i]["sequence"] is None,
                stops[i]["sequence"] or 0,
                stops[i]["number"],
            )
        )
        figures = _route_figures(net, members, office=office, back=back, service_s=service_s)
        routes.append({"book_id": book_id, **figures})
    return {"routes": routes, "totals": _totals(routes)}


# ---------------------------------------------------------------------------------------------
# Editing and publishing a plan


def _editable(run: OptimizationRun) -> dict:
    if run.status == RunStatus.PUBLISHED:
        raise RoutingError("published", _("A published plan is not edited: run a new one."))
    if run.status != RunStatus.DONE or not run.result:
        raise RoutingError("not_ready", _("The plan is not ready yet."), status=409)
    return run.result


def _locked_run(run_id: int) -> OptimizationRun:
    return OptimizationRun.objects.select_for_update().get(pk=run_id)


def plan_move(*, run: OptimizationRun, account_id: int, to_route: int) -> OptimizationRun:
    """Move one meter to another route of the plan, at the position where it adds the least
    walking; both routes' figures are measured again. Raises RoutingError: ``unknown_stop``,
    ``locked`` (either route is locked), ``published``, ``not_ready``, ``bad_params``."""
    with transaction.atomic():
        run = _locked_run(run.pk)
        result = _editable(run)
        routes = result["routes"]
        if not 0 <= to_route < len(routes):
            raise _bad(_("There is no such route."), "to_route")
        source = next((r for r in routes if account_id in r["stops"]), None)
        if source is None:
            raise RoutingError("unknown_stop", _("The meter is not in this plan."))
        target = routes[to_route]
        if source["locked"] or target["locked"]:
            raise RoutingError("locked", _("The route is locked: unlock it to change it."))
        if source is target:
            return run
        source["stops"].remove(account_id)
        p = {**READING_DEFAULTS, **run.params}
        ids = source["stops"] + target["stops"] + [account_id]
        stops = {s["account_id"]: s for s in reading_stops(account_ids=ids)}
        ids = [a for a in ids if a in stops]
        xy = [(stops[a]["x"], stops[a]["y"]) for a in ids]
        office = None
        if p["start"] == "office":
            xy.append(tuple(p["office"]))
            office = len(ids)
        net = PointNetwork(
            xy=np.asarray(xy, dtype=float),
            profile=profile_get(p["profile"], speed_kmh=p["speed_kmh"]),
        )
        pos = {a: i for i, a in enumerate(ids)}
        order = [pos[a] for a in target["stops"] if a in pos]
        routes_new = engine.insert_stable(
            cost=lambda i, j: net.pairs(i, j, seconds=True),
            service_s=np.full(len(ids) + 1, 0.0),
            routes=[order],
            new=[pos[account_id]],
        )
        target["stops"] = [ids[i] for i in routes_new[0]]
        service_s = float(p["service_minutes"]) * 60
        back = bool(p["return_to_office"])
        for route in (source, target):
            order = [pos[a] for a in route["stops"] if a in pos]
            route.update(_route_figures(net, order, office=office, back=back, service_s=service_s))
        result["totals"] = _totals(routes)
        result["saved"] = _saved(result["current"]["totals"], result["totals"])
        run.result = result
        run.save(update_fields=["result"])
    return run


def plan_lock(*, run: OptimizationRun, route: int, locked: bool) -> OptimizationRun:
    """Lock (or unlock) a route of a plan: a locked route is kept unchanged by moves and by a
    re-run from this plan. Raises RoutingError: ``published``, ``not_ready``, ``bad_params``."""
    with transaction.atomic():
        run = _locked_run(run.pk)
        result = _editable(run)
        if not 0 <= route < len(result["routes"]):
            raise _bad(_("There is no such route."), "route")
        result["routes"][route]["locked"] = bool(locked)
        run.result = result
        run.save(update_fields=["result"])
    return run


SEQUENCE_STEP = 100_000  # route k's meters read k·STEP + 1, … (room for 99,999 per route)


def plan_publish(*, run: OptimizationRun) -> int:
    """Make the plan the reading order of the field app: every account of the plan gets its
    ``reading_sequence`` (route by route, in order); accounts of the plan's books that are not
    in the plan lose theirs (they read last, by number). One ``UPDATE … FROM unnest`` per step.
    Returns the number of accounts sequenced (those with a sectors row). Raises RoutingError: ``published``,
    ``not_ready``."""
    with transaction.atomic():
        run = _locked_run(run.pk)
        result = _editable(run)
        ids, seqs = [], []
        for k, route in enumerate(result["routes"]):
            for n, account in enumerate(route["stops"], start=1):
                ids.append(account)
                seqs.append(k * SEQUENCE_STEP + n)
        with connection.cursor() as cur:
            cur.execute(
                """
                UPDATE sectors_accountsectors s SET reading_sequence = NULL
                 WHERE s.book_id IN (SELECT book_id FROM sectors_accountsectors
                                      WHERE account_id = ANY(%(ids)s) AND book_id IS NOT NULL)
                   AND s.reading_sequence IS NOT NULL
                   AND NOT s.account_id = ANY(%(ids)s)
                """,
                {"ids": ids},
            )
            cur.execute(
                """
                UPDATE sectors_accountsectors s SET reading_sequence = v.seq
                  FROM unnest(%(ids)s::bigint[], %(seqs)s::int[]) AS v(account_id, seq)
                 WHERE s.account_id = v.account_id
                   AND s.reading_sequence IS DISTINCT FROM v.seq
                """,
                {"ids": ids, "seqs": seqs},
            )
            cur.execute(
                "SELECT count(*) FROM sectors_accountsectors WHERE account_id = ANY(%s)", [ids]
            )
            sequenced = cur.fetchone()[0]
        run.status = RunStatus.PUBLISHED
        run.published_at = timezone.now()
        run.save(update_fields=["status", "published_at"])
    return sequenced


# ---------------------------------------------------------------------------------------------
# Collector visits and crew days: the same engine, with time windows and service times


def visits_plan(
    *,
    visits: list[dict],
    vehicles: int,
    office,
    profile: str = "driving",
    shift_minutes: float = 480,
    time_limit_s: float = 10,
    optional: bool = False,
) -> dict:
    """Routes from the office and back for ``visits`` (dicts with ``id``, ``xy`` in the storage
    SRID, ``service_minutes`` and an optional ``window`` [from, to] in minutes after the shift
    starts), over the street network with ``profile``. With ``optional`` a visit that fits no
    route is left out (listed in ``dropped``) instead of making the plan infeasible. Nothing is
    written. Raises RoutingError: ``no_points``, ``no_graph``, ``bad_params``, ``infeasible``."""
    if not visits:
        raise RoutingError("no_points", _("There are no visits to plan."))
    xy = np.array([v["xy"] for v in visits] + [list(office)], dtype=float)
    net = PointNetwork(xy=xy, profile=profile_get(profile))
    n = len(visits)
    idx = np.arange(n)
    o = np.full(n, n)
    shift_s = float(shift_minutes) * 60
    windows = []
    for v in visits:
        window = v.get("window")
        if window is not None:
            if window[0] > window[1]:
                raise _bad(_("A time window ends before it starts."), "window")
            window = (float(window[0]) * 60, min(float(window[1]) * 60, shift_s))
        windows.append(window)
    problem = engine.Problem(
        duration_s=net.matrix(idx, seconds=True),
        distance_m=net.matrix(idx),
        vehicles=vehicles,
        service_s=np.array([float(v["service_minutes"]) * 60 for v in visits]),
        depot_duration_s=(net.pairs(o, idx, seconds=True), net.pairs(idx, o, seconds=True)),
        depot_distance_m=(net.pairs(o, idx), net.pairs(idx, o)),
        time_windows=windows,
        shift_s=shift_s,
        # The shift bounds each route's work even when no visit has a time window.
        max_route_s=shift_s,
        balance_tolerance=None,
        drop_penalty=10_000_000 if optional else None,
        minimize="duration",
        time_limit_s=float(time_limit_s),
    )
    solution = engine.solve(problem)
    if solution is None:
        raise RoutingError(
            "infeasible",
            _("The visits do not fit the day: add crews, widen the windows or make them optional."),
        )
    routes = []
    for r in solution.routes:
        routes.append(
            {
                "visits": [
                    {"id": visits[i]["id"], "arrival_minutes": round(t / 60, 1)}
                    for i, t in zip(r.visits, r.arrivals_s, strict=True)
                ],
                "km": round(r.distance_m / 1000, 3),
                "travel_minutes": round(r.travel_s / 60, 1),
                "service_minutes": round(r.service_s / 60, 1),
            }
        )
    return {
        "routes": routes,
        "dropped": [visits[i]["id"] for i in solution.dropped],
        "solver": {
            "name": solution.solver,
            "objective": solution.objective,
            "bound": solution.bound,
            "gap": solution.gap,
            "status": solution.status,
        },
    }
