"""Travel costs between any points over the street network: profiles, snapping, cost matrices.

A point (a meter, a door, an office) is **snapped** to its nearest street edge (KNN on the GiST
index of ``routing_routingedge``): where along it (fraction ``f``) and how far from it (the
lateral ``offset``, walked at the profile's walking speed). Between two points the cost is the
cheapest of the four ways through the end vertices of their edges,

    cost(p, q) = min over u ∈ ends(p), v ∈ ends(q) of  part(p→u) + D[u, v] + part(v→q)

plus both offsets, or, on the same edge, the stretch between them. ``D`` is vertex-to-vertex
shortest paths computed by pgRouting's ``pgr_dijkstraCostMatrix`` for the end vertices of the
snapped edges only (a few hundred for thousands of meters, since many meters share a block
side), over the edges in the points' bounding box widened by a margin. The combination is numpy
arithmetic, never a Python loop over pairs.

Profiles (:func:`profile_get`): ``walking`` (one speed for every street) and ``driving`` (a
speed per street class); defaults below, overridden by ``settings.CAUDAL_ROUTING_PROFILES`` and
per request. Distances are the shortest-length paths; durations the shortest-time paths (for
walking the same path). Pairs the network does not connect (a street island) fall back to the
straight line times ``DETOUR`` and are counted in ``unreachable``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from routing.graph import graph_ensure
from routing.models import RoutingError

DETOUR = 1.4
DEFAULT_PROFILES = {
    "walking": {"default_kmh": 4.5, "by_class": {}},
    "driving": {"default_kmh": 25.0, "by_class": {"avenue": 40.0, "street": 20.0}},
}


@dataclass(frozen=True)
class Profile:
    name: str
    default_kmh: float
    by_class: dict = field(default_factory=dict)
    walk_kmh: float = 4.5

    def mps(self, street_class: str) -> float:
        return self.by_class.get(street_class, self.default_kmh) / 3.6


def profile_get(name: str = "walking", *, speed_kmh: float | None = None) -> Profile:
    """The named profile with the installation's overrides; ``speed_kmh`` sets every class.
    Raises RoutingError("bad_params") for an unknown profile or a speed ≤ 0."""
    profiles = {**DEFAULT_PROFILES, **getattr(settings, "CAUDAL_ROUTING_PROFILES", {})}
    if name not in profiles:
        raise RoutingError(
            "bad_params", _("Unknown travel profile: %(name)s.") % {"name": name}, field="profile"
        )
    spec = profiles[name]
    walk = profiles["walking"]["default_kmh"]
    if speed_kmh is not None:
        if speed_kmh <= 0:
            raise RoutingError(
                "bad_params", _("The speed must be greater than zero."), field="speed_kmh"
            )
        walk = float(speed_kmh) if name == "walking" else walk
        return Profile(name=name, default_kmh=float(speed_kmh), walk_kmh=walk)
    return Profile(
        name=name,
        default_kmh=float(spec["default_kmh"]),
        by_class=dict(spec.get("by_class", {})),
        walk_kmh=float(walk),
    )


_SNAP_SQL = """
    SELECT p.i, e.id, e.source, e.target, e.length_m, e.street_class,
           ST_LineLocatePoint(e.geom, p.g), ST_Distance(e.geom, p.g)
      FROM (SELECT t.i, ST_SetSRID(ST_MakePoint(t.x, t.y), %(srid)s) AS g
              FROM unnest(%(xs)s::float8[], %(ys)s::float8[]) WITH ORDINALITY AS t(x, y, i)) p
      CROSS JOIN LATERAL (
            SELECT id, source, target, length_m, street_class, geom
              FROM routing_routingedge ORDER BY geom <-> p.g LIMIT 1) e
     ORDER BY p.i
"""

# Edges in a box (numbers formatted by us, never user text); cost by street class.
_EDGES_SQL = (
    "SELECT id, source, target, {cost} AS cost, {cost} AS reverse_cost "
    "FROM routing_routingedge WHERE geom && ST_MakeEnvelope({x0}, {y0}, {x1}, {y1}, {srid})"
)


class PointNetwork:
    """Points snapped to the network with the vertex-to-vertex costs they need; answers the
    cost (metres or seconds) between any of them, as a matrix or for a list of pairs."""

    def __init__(self, *, xy: np.ndarray, profile: Profile):
        self.xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        self.profile = profile
        self.n = len(self.xy)
        if self.n == 0:
            raise RoutingError("no_points", _("There are no points to route."))
        graph_ensure()
        with connection.cursor() as cur:
            cur.execute(
                _SNAP_SQL,
                {
                    "srid": settings.CAUDAL_SRID,
                    "xs": self.xy[:, 0].tolist(),
                    "ys": self.xy[:, 1].tolist(),
                },
            )
            rows = cur.fetchall()
        if len(rows) != self.n:
            raise RoutingError(
                "no_graph", _("There are no streets to route on: load the street layer first.")
            )
        self.edge = np.array([r[1] for r in rows], dtype=np.int64)
        source = np.array([r[2] for r in rows], dtype=np.int64)
        target = np.array([r[3] for r in rows], dtype=np.int64)
        length = np.array([r[4] for r in rows], dtype=float)
        self.f = np.array([r[6] for r in rows], dtype=float)
        self.offset_m = np.array([r[7] for r in rows], dtype=float)
        classes = [r[5] for r in rows]
        speed = np.array([profile.mps(c) for c in classes])
        self.vertices, inverse = np.unique(np.concatenate([source, target]), return_inverse=True)
        self.u = inverse[: self.n]  # index of the source vertex in self.vertices
        self.v = inverse[self.n :]
        # Cost from the point along its edge to its source (u) and to its target (v).
        self.part_m = (self.f * length, (1 - self.f) * length)
        self.part_s = (self.part_m[0] / speed, self.part_m[1] / speed)
        self.offset_s = self.offset_m / (profile.walk_kmh / 3.6)
        self.unreachable = 0
        self.vertex_m = self._vertex_costs(length_only=True)
        self.vertex_s = (
            self.vertex_m / (profile.default_kmh / 3.6)
            if not profile.by_class
            else self._vertex_costs(length_only=False)
        )

    def _vertex_costs(self, *, length_only: bool) -> np.ndarray:
        """Vertex-to-vertex shortest costs (pgr_dijkstraCostMatrix), inf where unconnected."""
        m = len(self.vertices)
        out = np.full((m, m), np.inf)
        np.fill_diagonal(out, 0.0)
        if m < 2:
            return out
        if length_only:
            cost = "length_m"
        else:
            cases = " ".join(
                f"WHEN '{cls}' THEN length_m / {float(kmh) / 3.6!r}"
                for cls, kmh in sorted(self.profile.by_class.items())
                if cls.isidentifier()
            )
            default = float(self.profile.default_kmh) / 3.6
            cost = f"(CASE street_class {cases} ELSE length_m / {default!r} END)"
        x0, y0 = self.xy.min(axis=0)
        x1, y1 = self.xy.max(axis=0)
        margin = max(500.0, 0.3 * float(np.hypot(x1 - x0, y1 - y0)))
        edges_sql = _EDGES_SQL.format(
            cost=cost,
            x0=float(x0 - margin),
            y0=float(y0 - margin),
            x1=float(x1 + margin),
            y1=float(y1 + margin),
            srid=int(settings.CAUDAL_SRID),
        )
        with connection.cursor() as cur:
            cur.execute(
                "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCostMatrix(%s, %s::bigint[], false)",
                [edges_sql, self.vertices.tolist()],
            )
            rows = np.array(cur.fetchall(), dtype=float).reshape(-1, 3)
        if len(rows):
            a = np.searchsorted(self.vertices, rows[:, 0].astype(np.int64))
            b = np.searchsorted(self.vertices, rows[:, 1].astype(np.int64))
            out[a, b] = rows[:, 2]
        return out

    def _combine(self, i, j, *, seconds: bool) -> np.ndarray:
        """Costs between points ``i`` and ``j`` (broadcast index arrays)."""
        d = self.vertex_s if seconds else self.vertex_m
        part = self.part_s if seconds else self.part_m
        ends_i = (self.u[i], self.v[i])
        ends_j = (self.u[j], self.v[j])
        best = None
        for a in (0, 1):
            for b in (0, 1):
                c = part[a][i] + d[ends_i[a], ends_j[b]] + part[b][j]
                best = c if best is None else np.minimum(best, c)
        same = self.edge[i] == self.edge[j]
        along = np.abs(part[0][i] - part[0][j])
        best = np.where(same, np.minimum(best, along), best)
        off = self.offset_s if seconds else self.offset_m
        best = best + np.where(i == j, 0.0, off[i] + off[j])
        lost = ~np.isfinite(best)
        if lost.any():
            dx = self.xy[i, 0] - self.xy[j, 0]
            dy = self.xy[i, 1] - self.xy[j, 1]
            fallback = DETOUR * np.hypot(dx, dy)
            if seconds:
                fallback = fallback / (self.profile.default_kmh / 3.6)
            best = np.where(lost, fallback, best)
            if not seconds:
                self.unreachable = max(self.unreachable, int(lost.sum()))
        return best

    def matrix(self, idx: Sequence[int] | None = None, *, seconds: bool = False) -> np.ndarray:
        idx = np.arange(self.n) if idx is None else np.asarray(idx, dtype=np.int64)
        return self._combine(idx[:, None], idx[None, :], seconds=seconds)

    def pairs(self, i: Sequence[int], j: Sequence[int], *, seconds: bool = False) -> np.ndarray:
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        if len(i) == 0:
            return np.zeros(0)
        return self._combine(i, j, seconds=seconds)


@dataclass
class CostMatrix:
    distance_m: np.ndarray
    duration_s: np.ndarray
    offset_m: np.ndarray
    unreachable: int


# A full matrix is n² numbers; the optimizer works on clusters for larger sets.
MAX_MATRIX_POINTS = 3000


def cost_matrix(
    *, points: Sequence[tuple[float, float]], profile: str = "walking", speed_kmh=None
) -> CostMatrix:
    """Distances (m) and durations (s) between every pair of ``points`` (x, y in the storage
    SRID), over the street network. Builds the routing graph first if it is missing or stale.
    Raises RoutingError: ``no_points``, ``too_many_points``, ``no_graph``, ``bad_params``."""
    if len(points) > MAX_MATRIX_POINTS:
        raise RoutingError(
            "too_many_points",
            _("At most %(max)s points per cost matrix.") % {"max": MAX_MATRIX_POINTS},
        )
    net = PointNetwork(
        xy=np.asarray(points, dtype=float), profile=profile_get(profile, speed_kmh=speed_kmh)
    )
    distance = net.matrix()
    duration = net.matrix(seconds=True)
    return CostMatrix(
        distance_m=distance, duration_s=duration, offset_m=net.offset_m, unreachable=net.unreachable
    )
