"""Automatic balanced sectors: divide an area into N compact, contiguous sectors of whole blocks
whose account counts lie within ±10 % of each other (issue 5).

What it does, in three steps:

1. **Gather** (SQL, :func:`block_graph_gather`). The blocks of the area (those whose
   ``ST_PointOnSurface`` lies in the polygon, or the chosen ids), their active account counts
   (accounts through their parcel; inactive contracts are neither read nor billed, so they do
   not load a sector) and the block adjacency graph. Blocks never touch: streets run between
   them. Two blocks are neighbours when they lie within ``max_gap_m`` of each other *and* share
   a frontage across the street between them: the part of each block's outline that lies
   within (their gap + ``FRONTAGE_SLACK_M``) of the other must be at least ``min_frontage_m``
   long on both sides. Facing blocks share a whole side (40 m or more in the demo city);
   diagonal corner neighbours across a crossing share only a few metres near the corner, so
   they are only *corner* links, kept aside: a block at the ragged edge of an area that faces
   nothing else is joined through its crossing rather than left stranded (see 2a). With
   barrier streets, a link is dropped when the street space between the two blocks meets a
   barrier segment: the convex hull of the two facing frontages, or for a corner link the
   shortest line across the crossing.

2. **Partition** (Python, :func:`partition_blocks`). The graph has one node per block (a few
   thousand in a typical area, 57,000 for the whole 1M-account city), so the algorithm runs
   over nodes in memory; accounts, parcels and geometries stay in the database.

   a. *Feasibility*, reported exactly: N ≥ 1, no more sectors than blocks with accounts, no
      single block heavier than the tolerance window allows, and each connected piece of the
      graph (pieces appear when barriers or wide gaps cut the area) must hold a whole number of
      sectors within the window; the N sectors are shared among the pieces by their weight.
      A piece that cannot stand alone is first joined to its neighbours through its corner
      links (and when the pieces' counts cannot add up to N, all of them are); those links
      then count as adjacency for contiguity. Only when that is impossible is it reported.
   b. *Recursive inertial bisection* of each piece: split k sectors into ⌊k/2⌋ and ⌈k/2⌉ by
      growing a region from one end of the piece along a sweep direction (priority queue on the
      projection of block centroids, frontier only, so the region stays connected) until it
      holds its share of the accounts. Four sweeps are tried (the piece's principal axis and
      its normal, both ways); pieces of the remainder the sweep cut off are absorbed, and the
      split with the best balance, then the shortest cut (fewest graph edges crossing it, a
      proxy for a short boundary), wins. Splitting along the long axis keeps sectors compact.
      Each split is fine-tuned towards its share (boundary blocks moved across the cut,
      the donor kept connected) before recursing, so errors are not inherited downwards.
   c. *Balancing repair by recombination*: while some sector lies outside the window, the
      worst one is relieved by redrawing the boundary between it and a neighbouring sector:
      the two are merged and split again into two connected parts holding the wanted
      accounts (both equal, or one at the mean), the split chosen among regions grown from
      several starts in several orders (the four sweeps and rings around the start), best
      balance first, then the shortest cut. When no neighbour helps, accounts are passed
      along a short path of neighbouring sectors to one on the other side of the mean, each
      pair redrawn in turn. A change that does not lower the imbalance (accounts outside the
      window, then the sum of squared deviations) is undone, so the repair cannot cycle; a
      work budget per block bounds it. Once within ±10 %, the same repair aims at ±5 % with
      a smaller budget, kept only if nothing leaves the ±10 % window: sectors drift as
      accounts are added, and a proposal at the edge of the window is out of it soon.
   d. *Attempts*: granular areas (sectors of a handful of very unequal blocks) may need
      another tree of cuts; up to ``ATTEMPTS`` bisections are tried, each with the sweep
      axes rotated and the halves swapped, the first that reaches the window wins.
   e. *Compactness polish*: a few sweeps move boundary blocks that lie clearly nearer to a
      neighbouring sector's centroid than to their own, when both sectors stay in the window
      reached and the donor stays connected.

   Everything is deterministic: ties are broken by block order, no randomness is used.

3. **Summarise** (SQL, :func:`sector_proposal`): each sector's outline is the union of its
   blocks. Compactness is Polsby-Popper (4πA/P²) of the sector's *closed* outline (the union
   of the blocks grown by half the largest street gap, then shrunk back):
   the union itself is a scatter of blocks with streets between them, whose perimeter would
   count every block's four sides and say nothing about the sector's shape.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadastre.topology import VALIDITY_REASONS
from core.errors import DomainError
from gis_core.srid import WGS84, storage_srid
from sectors.models import ASSIGNMENT_COLUMN, AccountSectors, CommercialArea, Level

DEFAULT_TOLERANCE = 0.10
# Blocks farther apart than this are never neighbours: wider than the widest avenue of the
# demo city (20 m between blocks) and of most Mexican towns' boulevards with a median.
DEFAULT_MAX_GAP_M = 30.0
# Facing blocks share a whole side (≥ 40 m in the demo city); diagonal neighbours across a
# crossing share < 10 m near their corners. 15 m sits between with room on both sides.
DEFAULT_MIN_FRONTAGE_M = 15.0
# Facing sides are not exactly parallel (jittered lattices, real surveys): the part of a side
# within gap + slack of the other block still counts as facing it.
FRONTAGE_SLACK_M = 4.0
# Outlines are simplified before buffering; far below any block dimension.
SIMPLIFY_M = 0.5
# Starts tried when redrawing the boundary of two parts: all their blocks up to this many,
# else this many spread over them.
TWO_WAY_ALL_STARTS = 16
# Paths to parts on the other side of the mean tried when no neighbour can help.
PATHS_TRIED = 4
# Work cap of the repair (block visits, about a microsecond each) per attempt and per block
# of the area: a hopeless request (sectors of a handful of very unequal blocks) gives up in
# bounded time instead of searching for minutes; a feasible one of the scale uses a
# few percent of it.
REPAIR_BUDGET_PER_BLOCK = 300
TIGHT_BUDGET_PER_BLOCK = 50
POLISH_SWEEPS = 3
ATTEMPTS = 6
# Once within the tolerance, the repair aims at this share of it (±5 % for ±10 %).
TIGHT_SHARE = 0.5
# A block moves in the polish only when clearly nearer the other centroid (no ping-pong).
POLISH_MARGIN = 0.9
MAX_LISTED_BLOCKS = 10


class BalancingError(DomainError):
    """A proposal that cannot be made; nothing is written anywhere.

    ``code`` is stable for programs (``"n_too_small"``, ``"target_too_small"``,
    ``"n_or_target"``, ``"area_or_blocks"``, ``"invalid_area"``, ``"unknown_blocks"``,
    ``"empty_area"``, ``"no_accounts"``, ``"unknown_barrier"``, ``"too_many_sectors"``,
    ``"block_too_large"``, ``"isolated_blocks"``, ``"piece_unbalanceable"``,
    ``"pieces_need_other_count"``, ``"not_balanced"``, ``"unknown_level"``); ``message`` is
    translated into the
    active language; ``block_ids`` are the blocks the message is about (for the map).
    """

    def __init__(self, code: str, message, *, block_ids: list[int] | None = None):
        super().__init__(code, message)
        self.block_ids = list(block_ids or [])


# --- 1. gather ---------------------------------------------------------------------------------


@dataclass
class BlockGraph:
    """The blocks of an area as graph nodes 0..n-1 (in block id order) and their adjacency:
    ``neighbours`` share a street frontage; ``corners`` only face each other across a
    crossing (diagonal neighbours), used to rescue blocks that would otherwise be stranded."""

    block_ids: list[int]
    labels: list[str]  # "locality-block", e.g. "0012-045", for messages
    accounts: list[int]
    x: list[float]
    y: list[float]
    neighbours: list[list[int]]
    corners: list[list[int]] = field(default_factory=list)
    max_gap_m: float = DEFAULT_MAX_GAP_M

    def __len__(self) -> int:
        return len(self.block_ids)

    @classmethod
    def from_edges(
        cls, *, block_ids, labels, accounts, x, y, edges, corners=(), max_gap_m=DEFAULT_MAX_GAP_M
    ):
        index = {block_id: i for i, block_id in enumerate(block_ids)}

        def lists(pairs) -> list[list[int]]:
            out: list[set[int]] = [set() for _ in block_ids]
            for a, b in pairs:
                i, j = index[a], index[b]
                if i != j:
                    out[i].add(j)
                    out[j].add(i)
            return [sorted(n) for n in out]

        return cls(
            block_ids=list(block_ids),
            labels=list(labels),
            accounts=list(accounts),
            x=list(x),
            y=list(y),
            neighbours=lists(edges),
            corners=lists(corners),
            max_gap_m=max_gap_m,
        )


def _fetchall(sql: str, params, *, jit: bool = True) -> list[tuple]:
    """Rows of one statement. ``jit=False`` for the few heavy statements of a proposal: their
    cost estimates make PostgreSQL compile them, which costs up to a second (measured on the
    benchmark's area) and speeds up nothing, since the time goes into PostGIS functions."""
    if jit:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def area_to_storage(area: GEOSGeometry) -> GEOSGeometry:
    """The area polygon (WGS 84 when it has no SRID) in the storage SRID, or raise."""
    if not isinstance(area, GEOSGeometry) or area.geom_type not in ("Polygon", "MultiPolygon"):
        kind = area.geom_type if isinstance(area, GEOSGeometry) else type(area).__name__
        raise BalancingError(
            "invalid_area",
            _("The area must be a polygon or a multipolygon, not a %(kind)s.") % {"kind": kind},
        )
    if area.empty:
        raise BalancingError("invalid_area", _("The area is empty; draw it on the map."))
    if not area.valid:
        # GEOS says "Self-intersection[x y]"; the cadastre translates its reasons.
        reason = area.valid_reason.split("[")[0]
        raise BalancingError(
            "invalid_area",
            _("The area is not a valid polygon (%(reason)s). Redraw it without crossing lines.")
            % {"reason": VALIDITY_REASONS.get(reason, reason)},
        )
    if area.srid is None:
        area = area.clone()
        area.srid = WGS84
    if area.srid == storage_srid():
        return area
    try:
        # A savepoint: a coordinate outside the source CRS must not abort the caller's
        # transaction.
        with transaction.atomic():
            row = _fetchall(
                "SELECT ST_AsEWKB(ST_Transform(ST_GeomFromEWKB(%s), %s))",
                [bytes(area.ewkb), storage_srid()],
            )[0]
    except DatabaseError as exc:
        raise BalancingError(
            "invalid_area",
            _(
                "The area cannot be transformed from EPSG:%(srid)s: its coordinates lie outside "
                "that system's area. Send longitude/latitude (EPSG:4326)."
            )
            % {"srid": area.srid},
        ) from exc
    return GEOSGeometry(memoryview(bytes(row[0])))


def barrier_segment_ids(*, names=(), ids=()) -> list[int]:
    """Street segment ids of the barrier streets, by name (case-insensitive, every segment of
    the street) and/or by segment id; unknown names or ids raise ``unknown_barrier``."""
    names = [n.strip() for n in names if n and n.strip()]
    ids = sorted({int(i) for i in ids})
    found: set[int] = set()
    if names:
        rows = _fetchall(
            "SELECT id, upper(name) FROM cadastre_streetsegment WHERE upper(name) = ANY(%s)",
            [[n.upper() for n in names]],
        )
        found.update(r[0] for r in rows)
        known = {r[1] for r in rows}
        missing = [n for n in names if n.upper() not in known]
        if missing:
            raise BalancingError(
                "unknown_barrier",
                _(
                    "No street is named %(names)s. Give barrier streets by their names as the "
                    "map shows them."
                )
                % {"names": ", ".join(f"“{n}”" for n in missing)},
            )
    if ids:
        rows = _fetchall("SELECT id FROM cadastre_streetsegment WHERE id = ANY(%s)", [ids])
        missing_ids = sorted(set(ids) - {r[0] for r in rows})
        if missing_ids:
            raise BalancingError(
                "unknown_barrier",
                _("There is no street segment with id %(ids)s.")
                % {"ids": ", ".join(str(i) for i in missing_ids)},
            )
        found.update(ids)
    return sorted(found)


# The node query: blocks of the area with their active accounts. Accounts count through their
# parcel (a service point may lie in the street, outside every block).
_NODES_SQL = """
WITH sel AS MATERIALIZED (
  SELECT b.id, b.geom, l.code || '-' || b.code AS label
    FROM cadastre_block b JOIN cadastre_locality l ON l.id = b.locality_id
   WHERE {where}
), counts AS (
  SELECT p.block_id, count(*) AS accounts
    FROM cadastre_parcel p JOIN cadastre_serviceaccount s ON s.parcel_id = p.id
   WHERE p.block_id IN (SELECT id FROM sel) AND s.status <> 'inactive'
   GROUP BY p.block_id
)
SELECT sel.id, sel.label, COALESCE(c.accounts, 0), ST_X(pt), ST_Y(pt)
  FROM sel LEFT JOIN counts c ON c.block_id = sel.id
  CROSS JOIN LATERAL ST_PointOnSurface(sel.geom) pt
 ORDER BY sel.id
"""

# The edge query: pairs within max_gap (GiST), their shared frontage across the street, and
# whether the street space between them meets a barrier. Pairs whose frontage is too short are
# corner neighbours; their street space is the crossing, which the shortest line between them
# crosses (and with it any barrier street through the crossing).
_EDGES_SQL = """
WITH sel AS MATERIALIZED (SELECT unnest(%(ids)s::bigint[]) AS id),
barrier AS MATERIALIZED (
  SELECT ST_Union(geom) AS geom FROM cadastre_streetsegment WHERE id = ANY(%(barrier_ids)s)
), pairs AS MATERIALIZED (
  SELECT a.id AS a, b.id AS b, ST_Distance(a.geom, b.geom) AS gap,
         ST_Simplify(a.geom, %(simplify)s) AS ga, ST_Simplify(b.geom, %(simplify)s) AS gb
    FROM sel sa
    JOIN cadastre_block a ON a.id = sa.id
    JOIN cadastre_block b ON b.id > a.id AND ST_DWithin(a.geom, b.geom, %(max_gap)s)
    JOIN sel sb ON sb.id = b.id
), front_a AS MATERIALIZED (
  -- MATERIALIZED: inlined, each intersection would be computed again wherever it is used.
  SELECT a, b, ga, gb, gap,
         ST_Intersection(ST_ExteriorRing(ga), ST_Buffer(gb, gap + %(slack)s, 'quad_segs=2')) AS fa
    FROM pairs
), fronts AS MATERIALIZED (
  -- The other side only where this one is long enough (corner neighbours stop here).
  SELECT a, b, fa,
         ST_Intersection(ST_ExteriorRing(gb), ST_Buffer(ga, gap + %(slack)s, 'quad_segs=2')) AS fb
    FROM front_a
   WHERE ST_Length(fa) >= %(min_frontage)s
), kinds AS (
  SELECT p.a, p.b, p.ga, p.gb, f.fa, f.fb,
         COALESCE(ST_Length(f.fb) >= %(min_frontage)s, false) AS facing
    FROM front_a p LEFT JOIN fronts f ON f.a = p.a AND f.b = p.b
)
SELECT k.a, k.b, k.facing
  FROM kinds k CROSS JOIN barrier
 WHERE barrier.geom IS NULL
    OR NOT ST_Intersects(
         CASE WHEN k.facing THEN ST_ConvexHull(ST_Collect(k.fa, k.fb))
              ELSE ST_ShortestLine(k.ga, k.gb) END,
         barrier.geom)
"""


def block_graph_gather(
    *,
    area: GEOSGeometry | None = None,
    block_ids: list[int] | None = None,
    barrier_ids: list[int] = (),
    max_gap_m: float = DEFAULT_MAX_GAP_M,
    min_frontage_m: float = DEFAULT_MIN_FRONTAGE_M,
) -> BlockGraph:
    """The blocks of ``area`` (storage SRID; a block belongs to it when its point on surface
    lies inside) or of ``block_ids``, their active account counts and their adjacency graph.

    Raw SQL: two set-based queries (nodes; edges through the GiST index) whose geometric tests
    the ORM cannot express. Raises ``unknown_blocks`` and ``empty_area``.
    """
    if area is not None:
        # The envelope test (&&) uses the GiST index; the point test makes membership unique.
        where = (
            "b.geom && ST_GeomFromEWKB(%(area)s) "
            "AND ST_Intersects(ST_PointOnSurface(b.geom), ST_GeomFromEWKB(%(area)s))"
        )
        params = {"area": bytes(area.ewkb)}
    else:
        where = "b.id = ANY(%(ids)s)"
        params = {"ids": sorted({int(i) for i in block_ids or []})}
    rows = _fetchall(_NODES_SQL.format(where=where), params, jit=False)
    if area is None:
        missing = sorted(set(params["ids"]) - {r[0] for r in rows})
        if missing:
            raise BalancingError(
                "unknown_blocks",
                _("There is no block with id %(ids)s.")
                % {"ids": ", ".join(str(i) for i in missing[:MAX_LISTED_BLOCKS])},
            )
    if not rows:
        raise BalancingError(
            "empty_area",
            _("The area holds no blocks. Draw it over the blocks to divide, or choose blocks."),
        )
    ids = [r[0] for r in rows]
    edges = _fetchall(
        _EDGES_SQL,
        {
            "ids": ids,
            "barrier_ids": list(barrier_ids),
            "max_gap": max_gap_m,
            "min_frontage": min_frontage_m,
            "slack": FRONTAGE_SLACK_M,
            "simplify": SIMPLIFY_M,
        },
        jit=False,
    )
    return BlockGraph.from_edges(
        block_ids=ids,
        labels=[r[1] for r in rows],
        accounts=[int(r[2]) for r in rows],
        x=[float(r[3]) for r in rows],
        y=[float(r[4]) for r in rows],
        edges=[(a, b) for a, b, facing in edges if facing],
        corners=[(a, b) for a, b, facing in edges if not facing],
        max_gap_m=max_gap_m,
    )


# --- 2. partition ------------------------------------------------------------------------------


def _listed(graph: BlockGraph, nodes) -> str:
    nodes = sorted(nodes, key=lambda v: graph.labels[v])
    shown = ", ".join(graph.labels[v] for v in nodes[:MAX_LISTED_BLOCKS])
    return shown + (" …" if len(nodes) > MAX_LISTED_BLOCKS else "")


def _one_decimal(value: float) -> str:
    return f"{value:.1f}"


def sector_count_for_target(*, total: int, target: int) -> int:
    """N for a target of accounts per sector: the nearest whole number, at least one."""
    if target is None or target < 1:
        raise BalancingError(
            "target_too_small", _("The target number of accounts per sector must be 1 or more.")
        )
    return max(1, round(total / target))


def partition_blocks(
    graph: BlockGraph, *, n: int, tolerance: float = DEFAULT_TOLERANCE
) -> list[list[int]]:
    """Divide the graph's nodes into ``n`` connected parts, each holding between
    (1 - tolerance) and (1 + tolerance) times the mean account count.

    Returns the parts as lists of node indices, in the order of the recursive bisection
    (consecutive parts are near each other). Raises :class:`BalancingError` with the reason
    when no such division exists or none was found.
    """
    return _Partitioner(graph, n=n, tolerance=tolerance).run()


class _Partitioner:
    def __init__(self, graph: BlockGraph, *, n: int, tolerance: float):
        self.g = graph
        self.w = graph.accounts
        # Frontage links, plus the corner links the pieces need (see _join_stranded).
        self.adj = [list(n) for n in graph.neighbours]
        self.n = n
        self.tolerance = tolerance
        self.total = sum(self.w)
        # Part state, indexed by part label.
        self.part_of = [-1] * len(graph)
        self.members: list[set[int]] = []
        self.weight: list[int] = []
        self.sx: list[float] = []
        self.sy: list[float] = []
        self.attempt = 0
        self.budget = 0

    # -- feasibility ------------------------------------------------------------------------

    def _check_request(self) -> None:
        g, n = self.g, self.n
        if n is None or n < 1:
            raise BalancingError("n_too_small", _("The number of sectors must be 1 or more."))
        if self.total == 0:
            raise BalancingError(
                "no_accounts",
                _(
                    "The blocks of the area hold no active service accounts; there is nothing "
                    "to balance. Choose an area with accounts."
                ),
            )
        with_accounts = sum(1 for a in self.w if a > 0)
        if n > with_accounts:
            raise BalancingError(
                "too_many_sectors",
                _(
                    "%(n)s sectors were asked for, but the area has only %(count)s blocks with "
                    "accounts and a sector is made of whole blocks. Choose at most %(count)s "
                    "sectors."
                )
                % {"n": n, "count": with_accounts},
            )
        self.mean = self.total / n
        self.lo = self.mean * (1 - self.tolerance)
        self.hi = self.mean * (1 + self.tolerance)
        heavy = [v for v in range(len(g)) if self.w[v] > self.hi]
        if heavy:
            v = max(heavy, key=lambda u: (self.w[u], -u))
            raise BalancingError(
                "block_too_large",
                _(
                    "Block %(block)s has %(accounts)s accounts, more than one sector may hold "
                    "(%(high)s: the mean of %(mean)s plus %(tolerance)s%%). A sector is made of "
                    "whole blocks: choose fewer sectors."
                )
                % {
                    "block": g.labels[v],
                    "accounts": self.w[v],
                    "high": math.floor(self.hi),
                    "mean": _one_decimal(self.mean),
                    "tolerance": _one_decimal(self.tolerance * 100),
                },
                block_ids=[g.block_ids[v] for v in heavy],
            )

    def _components(self) -> list[list[int]]:
        seen = [False] * len(self.g)
        pieces = []
        for s in range(len(self.g)):
            if seen[s]:
                continue
            seen[s] = True
            piece, queue = [s], deque([s])
            while queue:
                v = queue.popleft()
                for u in self.adj[v]:
                    if not seen[u]:
                        seen[u] = True
                        piece.append(u)
                        queue.append(u)
            pieces.append(sorted(piece))
        return pieces

    def _piece_bounds(self, piece: list[int]) -> tuple[int, int, int]:
        """(accounts, fewest sectors, most sectors) a piece can hold within the window."""
        weight = sum(self.w[v] for v in piece)
        positive = sum(1 for v in piece if self.w[v] > 0)
        kmin = max(1, math.ceil(weight / self.hi - 1e-9))
        kmax = min(positive, math.floor(weight / self.lo + 1e-9))
        return weight, kmin, kmax

    def _join_stranded(self, pieces: list[list[int]]) -> list[list[int]]:
        """Pieces that cannot hold a whole number of sectors on their own (a block at the
        ragged edge of an area, reached only across a crossing) are joined to their
        neighbours through corner links, which the partition then uses like frontages.
        Repeats while that joins something; returns the pieces after joining."""
        corners = self.g.corners or [[] for _ in self.g.block_ids]
        while True:
            piece_of = {v: i for i, piece in enumerate(pieces) for v in piece}
            joined = False
            for i, piece in enumerate(pieces):
                _weight, kmin, kmax = self._piece_bounds(piece)
                if kmin <= kmax:
                    continue
                for v in piece:
                    for u in corners[v]:
                        if piece_of[u] != i and u not in self.adj[v]:
                            self.adj[v].append(u)
                            self.adj[u].append(v)
                            joined = True
            if not joined:
                return pieces
            pieces = self._components()

    def _join_all_corners(self, pieces: list[list[int]]) -> bool:
        piece_of = {v: i for i, piece in enumerate(pieces) for v in piece}
        joined = False
        for v, corners in enumerate(self.g.corners or []):
            for u in corners:
                if piece_of[u] != piece_of[v] and u not in self.adj[v]:
                    self.adj[v].append(u)
                    self.adj[u].append(v)
                    joined = True
        return joined

    def _allocate(self, pieces: list[list[int]]) -> list[int]:
        """Sectors per connected piece: each piece must hold a whole number of sectors within
        the window, and together they must make N."""
        g = self.g
        bounds = []
        for piece in pieces:
            weight, kmin, kmax = self._piece_bounds(piece)
            ids = [g.block_ids[v] for v in piece]
            if weight == 0:
                raise BalancingError(
                    "isolated_blocks",
                    _(
                        "Blocks %(blocks)s face no other block of the area across a street or "
                        "a crossing (or a barrier street cuts them off) and hold no accounts, so "
                        "they cannot join any sector. Leave them out of the area or drop the "
                        "barrier."
                    )
                    % {"blocks": _listed(g, piece)},
                    block_ids=ids,
                )
            if kmin > kmax:
                raise BalancingError(
                    "piece_unbalanceable",
                    _(
                        "Blocks %(blocks)s are cut off from the rest of the area (by a barrier "
                        "street, or by gaps wider than %(gap)s m) and hold %(accounts)s "
                        "accounts: no whole number of sectors of %(low)s to %(high)s accounts "
                        "can be made of them. Choose another number of sectors, change the "
                        "area or drop a barrier."
                    )
                    % {
                        "blocks": _listed(g, piece),
                        "gap": f"{g.max_gap_m:g}",
                        "accounts": weight,
                        "low": math.ceil(self.lo),
                        "high": math.floor(self.hi),
                    },
                    block_ids=ids,
                )
            bounds.append((weight, kmin, kmax))
        low = sum(b[1] for b in bounds)
        high = sum(b[2] for b in bounds)
        if not low <= self.n <= high:
            raise BalancingError(
                "pieces_need_other_count",
                _(
                    "The area falls into %(pieces)s pieces not connected to each other (barrier "
                    "streets or wide gaps separate them); sectors cannot span two pieces, and "
                    "within ±%(tolerance)s%% of the mean these pieces need between %(low)s and "
                    "%(high)s sectors, not %(n)s."
                )
                % {
                    "pieces": len(pieces),
                    "tolerance": _one_decimal(self.tolerance * 100),
                    "low": low,
                    "high": high,
                    "n": self.n,
                },
            )
        counts = [min(max(round(wt / self.mean), kmin), kmax) for wt, kmin, kmax in bounds]

        def deviation(i: int, k: int) -> float:
            return abs(bounds[i][0] / k - self.mean)

        while sum(counts) != self.n:
            grow = sum(counts) < self.n
            options = [
                i
                for i, (_wt, kmin, kmax) in enumerate(bounds)
                if (counts[i] < kmax if grow else counts[i] > kmin)
            ]
            step = 1 if grow else -1
            best = min(options, key=lambda i: (deviation(i, counts[i] + step), i))
            counts[best] += step
        return counts

    # -- part state -------------------------------------------------------------------------

    def _new_part(self, nodes) -> int:
        label = len(self.members)
        self.members.append(set())
        self.weight.append(0)
        self.sx.append(0.0)
        self.sy.append(0.0)
        for v in nodes:
            self._assign(v, label)
        return label

    def _assign(self, v: int, label: int) -> None:
        old = self.part_of[v]
        x, y, w = self.g.x[v], self.g.y[v], self.w[v]
        if old >= 0:
            self.members[old].discard(v)
            self.weight[old] -= w
            self.sx[old] -= x
            self.sy[old] -= y
        self.part_of[v] = label
        self.members[label].add(v)
        self.weight[label] += w
        self.sx[label] += x
        self.sy[label] += y

    def _centroid(self, p: int) -> tuple[float, float]:
        size = len(self.members[p])
        return self.sx[p] / size, self.sy[p] / size

    def _dist(self, v: int, p: int) -> float:
        cx, cy = self._centroid(p)
        return math.hypot(self.g.x[v] - cx, self.g.y[v] - cy)

    def _connected_without(self, v: int, p: int) -> bool:
        """Whether part ``p`` stays connected (and non-empty) when ``v`` leaves it."""
        size = len(self.members[p])
        if size <= 1:
            return False
        part_of, adj = self.part_of, self.adj
        inner = [u for u in adj[v] if part_of[u] == p]
        if len(inner) <= 1:
            return len(inner) == 1  # a leaf of the part; none: v was alone (handled above)
        # Cheap test first: are v's neighbours in p joined to each other within two steps of v?
        ring = set(inner)
        for u in inner:
            ring.update(z for z in adj[u] if part_of[z] == p and z != v)
        if self._reaches(inner, within=ring, exclude=v, p=p) >= len(inner):
            return True
        seen = self._bfs_count(inner[0], exclude=v, p=p)
        return seen == size - 1

    def _reaches(self, inner: list[int], *, within: set[int], exclude: int, p: int) -> int:
        targets = set(inner)
        seen = {inner[0]}
        queue = deque([inner[0]])
        found = 1
        while queue and found < len(targets):
            v = queue.popleft()
            for u in self.adj[v]:
                if u in within and u not in seen and u != exclude:
                    seen.add(u)
                    queue.append(u)
                    if u in targets:
                        found += 1
        return found

    def _bfs_count(self, start: int, *, exclude: int, p: int) -> int:
        part_of = self.part_of
        seen = {start}
        queue = deque([start])
        while queue:
            v = queue.popleft()
            for u in self.adj[v]:
                if u != exclude and u not in seen and part_of[u] == p:
                    seen.add(u)
                    queue.append(u)
        return len(seen)

    def _is_connected(self, p: int) -> bool:
        nodes = self.members[p]
        if not nodes:
            return False
        start = next(iter(nodes))
        return self._bfs_count(start, exclude=-1, p=p) == len(nodes)

    # -- bisection --------------------------------------------------------------------------

    def _sweep_keys(self, nodes: list[int]) -> list[dict[int, float]]:
        xs, ys = self.g.x, self.g.y
        count = len(nodes)
        mx = sum(xs[v] for v in nodes) / count
        my = sum(ys[v] for v in nodes) / count
        sxx = sum((xs[v] - mx) ** 2 for v in nodes)
        syy = sum((ys[v] - my) ** 2 for v in nodes)
        sxy = sum((xs[v] - mx) * (ys[v] - my) for v in nodes)
        # Principal axis of the centroids' scatter (closed form for 2x2).
        angle = 0.5 * math.atan2(2 * sxy, sxx - syy) + self.attempt * math.pi / (2 * ATTEMPTS)
        ux, uy = math.cos(angle), math.sin(angle)
        keys = []
        for ax, ay in ((ux, uy), (-uy, ux)):
            for sign in (1.0, -1.0):
                keys.append({v: sign * (ax * xs[v] + ay * ys[v]) for v in nodes})
        return keys

    def _grow(self, nodes: set[int], key: dict[int, float], target: float) -> set[int]:
        """A connected region from the node with the smallest key, adding frontier nodes in
        key order until it holds ``target`` accounts (stopping where the next block would
        overshoot by more than it lacks)."""
        w, adj = self.w, self.adj
        start = min(nodes, key=lambda v: (key[v], v))
        region = {start}
        weight = w[start]
        pushed = {start}
        heap: list[tuple[float, int]] = []
        for u in adj[start]:
            if u in nodes and u not in pushed:
                pushed.add(u)
                heapq.heappush(heap, (key[u], u))
        while heap and weight < target:
            _k, u = heapq.heappop(heap)
            if weight + w[u] - target > target - weight:
                break
            region.add(u)
            weight += w[u]
            for z in adj[u]:
                if z in nodes and z not in pushed:
                    pushed.add(z)
                    heapq.heappush(heap, (key[z], z))
        return region

    def _pieces_of(self, nodes: set[int]) -> list[set[int]]:
        seen: set[int] = set()
        pieces = []
        for s in sorted(nodes):
            if s in seen:
                continue
            seen.add(s)
            piece, queue = {s}, deque([s])
            while queue:
                v = queue.popleft()
                for u in self.adj[v]:
                    if u in nodes and u not in seen:
                        seen.add(u)
                        piece.add(u)
                        queue.append(u)
            pieces.append(piece)
        return pieces

    def _split(self, label: int, k: int, out: list[int]) -> None:
        """Recursive bisection of part ``label`` into ``k`` parts, appended to ``out`` in
        order."""
        if k == 1:
            out.append(label)
            return
        # Later attempts put the larger half first: a different tree of cuts.
        k1 = k // 2 if self.attempt % 2 == 0 else (k + 1) // 2
        nodes = self.members[label]
        total = self.weight[label]
        target = total * k1 / k
        slack = 0.25 * self.tolerance * total / k
        best = None
        for key in self._sweep_keys(sorted(nodes)):
            left = self._grow(nodes, key, target)
            right_pieces = self._pieces_of(nodes - left)
            if not right_pieces:
                continue
            # Keep the heaviest piece of the remainder; the pieces the sweep enclosed join the
            # region (each touches it, since the part is connected).
            right_pieces.sort(key=lambda s: (sum(self.w[v] for v in s), len(s)), reverse=True)
            right = right_pieces[0]
            for extra in right_pieces[1:]:
                left |= extra
            wl = sum(self.w[v] for v in left)
            positive_l = sum(1 for v in left if self.w[v] > 0)
            positive_r = sum(1 for v in right if self.w[v] > 0)
            if positive_l < k1 or positive_r < k - k1:
                continue
            cut = sum(1 for v in left for u in self.adj[v] if u in right)
            score = (max(0.0, abs(wl - target) - slack), cut, abs(wl - target))
            if best is None or score < best[0]:
                best = (score, left, right)
        if best is None:
            # No sweep left both sides enough blocks with accounts; the repair below cannot
            # split a part either, so report the piece as not divisible.
            raise BalancingError(
                "not_balanced",
                _(
                    "Blocks %(blocks)s cannot be divided into %(k)s contiguous sectors. Choose "
                    "another number of sectors or change the area."
                )
                % {"blocks": _listed(self.g, nodes), "k": k},
                block_ids=[self.g.block_ids[v] for v in nodes],
            )
        _score, _left, right = best
        other = self._new_part(sorted(right))
        # Fine-tune the split towards its share before recursing: errors would otherwise be
        # inherited by every sector below.
        if abs(self.weight[label] - target) > slack:
            if self.weight[label] > target:
                self._transfer(label, other, self.weight[label] - target)
            else:
                self._transfer(other, label, target - self.weight[label])
        self._split(label, k1, out)
        self._split(other, k - k1, out)

    # -- repair -----------------------------------------------------------------------------

    def _transfer(self, src: int, dst: int, amount: float) -> float:
        """Move boundary blocks of ``src`` that touch ``dst`` into ``dst`` until about
        ``amount`` accounts moved, nearest to ``dst``'s centroid first; ``src`` stays
        connected. Returns the accounts moved."""
        w, adj, part_of = self.w, self.adj, self.part_of
        frontier = {v for v in self.members[src] if any(part_of[u] == dst for u in adj[v])}
        moved = 0.0
        zero_moves = 0
        while amount - moved > 0 and frontier:
            remaining = amount - moved
            self.budget -= len(frontier)
            # A move must bring the transfer nearer its amount (no overshoot beyond it).
            candidates = sorted(
                (w[v] == 0, self._dist(v, dst) - self._dist(v, src), v)
                for v in frontier
                if w[v] < 2 * remaining
            )
            chosen = None
            for is_zero, _score, v in candidates:
                if is_zero and zero_moves >= 3:
                    break  # empty blocks only open the way; a few, not a wander
                if self._connected_without(v, src):
                    chosen = v
                    break
            if chosen is None:
                break
            zero_moves += w[chosen] == 0
            self._assign(chosen, dst)
            frontier.discard(chosen)
            frontier.update(u for u in adj[chosen] if part_of[u] == src)
            moved += w[chosen]
        return moved

    def _neighbour_parts(self, p: int) -> set[int]:
        part_of, adj = self.part_of, self.adj
        return {part_of[u] for v in self.members[p] for u in adj[v]} - {p}

    def _paths_to(self, p: int, wanted, limit: int) -> list[list[int]]:
        """Shortest paths of neighbouring parts from ``p`` to the ``limit`` nearest parts
        satisfying ``wanted`` (nearest first; among equally near, furthest from the mean)."""
        parent = {p: None}
        layer = [p]
        found: list[int] = []
        while layer and len(found) < limit:
            nxt = []
            for q in layer:
                for r in sorted(self._neighbour_parts(q)):
                    if r not in parent:
                        parent[r] = q
                        nxt.append(r)
            hits = sorted(
                (r for r in nxt if wanted(r)),
                key=lambda r: (-abs(self.weight[r] - self.mean), r),
            )
            found.extend(hits[: limit - len(found)])
            layer = nxt
        paths = []
        for end in found:
            path = [end]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            paths.append(path[::-1])
        return paths

    def _cost(self, weight: float) -> tuple[float, float]:
        """A part's imbalance: accounts outside the window, then the squared deviation."""
        return (
            max(0.0, weight - self.hi) + max(0.0, self.lo - weight),
            (weight - self.mean) ** 2,
        )

    def _badness(self, labels) -> tuple[float, float]:
        out = square = 0.0
        for p in labels:
            a, b = self._cost(self.weight[p])
            out += a
            square += b
        return out, square

    def _two_way(self, nodes: set[int], target: float, bound: float) -> set[int] | None:
        """The best connected ``S`` ⊂ ``nodes`` with a connected rest, holding about ``target``
        accounts: within the window's half-width of it if any is, then the shortest cut,
        then the nearest weight. Candidates are the prefixes of regions grown from several
        starts in several orders (sweeps along four directions, rings around the start);
        weights are never negative, so a growth stops once it is past any useful weight.
        Only splits within ``bound`` of the target (or the half-width) are considered."""
        w, adj, xs, ys = self.w, self.adj, self.g.x, self.g.y
        slack = 0.5 * (self.hi - self.lo) / 2
        ordered = sorted(nodes)
        self.budget -= len(ordered)
        if len(ordered) <= TWO_WAY_ALL_STARTS:
            starts = ordered
        else:
            step = len(ordered) / TWO_WAY_ALL_STARTS
            starts = [ordered[int(i * step)] for i in range(TWO_WAY_ALL_STARTS)]
        directions = [(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0)]
        best = None
        best_key = None
        for start in starts:
            sx, sy = xs[start], ys[start]
            keys = [lambda v, dx=dx, dy=dy: dx * xs[v] + dy * ys[v] for dx, dy in directions]
            keys.append(lambda v, sx=sx, sy=sy: (xs[v] - sx) ** 2 + (ys[v] - sy) ** 2)
            for key in keys:
                region = {start}
                weight = w[start]
                pushed = {start}
                heap: list[tuple[float, int]] = []
                for u in adj[start]:
                    if u in nodes:
                        pushed.add(u)
                        heapq.heappush(heap, (key(u), u))
                while True:
                    err = abs(weight - target)
                    limit = max(slack, bound if best_key is None else min(bound, best_key[2]))
                    if err <= limit and len(region) < len(ordered):
                        rest = nodes - region
                        self.budget -= len(rest)
                        if self._connected_set(rest):
                            cut = sum(1 for v in region for u in adj[v] if u in rest)
                            cand = (max(0.0, err - slack), cut, err)
                            if best_key is None or cand < best_key:
                                best_key, best = cand, set(region)
                    if not heap or weight - target > limit:
                        break
                    _k, u = heapq.heappop(heap)
                    region.add(u)
                    weight += w[u]
                    for z in adj[u]:
                        if z in nodes and z not in pushed:
                            pushed.add(z)
                            heapq.heappush(heap, (key(z), z))
                self.budget -= len(pushed)
        return best

    def _connected_set(self, nodes: set[int]) -> bool:
        if not nodes:
            return False
        start = next(iter(nodes))
        seen = {start}
        queue = deque([start])
        adj = self.adj
        while queue:
            v = queue.popleft()
            for u in adj[v]:
                if u in nodes and u not in seen:
                    seen.add(u)
                    queue.append(u)
        return len(seen) == len(nodes)

    def _redraw(self, a: int, b: int, target_a: float, undo: list) -> bool:
        """Redraw the boundary between neighbouring parts ``a`` and ``b`` so that ``a`` holds
        about ``target_a`` accounts (both stay connected). Old owners go to ``undo``."""
        nodes = self.members[a] | self.members[b]
        region = self._two_way(nodes, target_a, abs(self.weight[a] - target_a))
        if region is None:
            return False
        changed = False
        for v in sorted(nodes):
            owner = a if v in region else b
            if self.part_of[v] != owner:
                undo.append((v, self.part_of[v]))
                self._assign(v, owner)
                changed = True
        return changed

    def _undo(self, undo: list) -> None:
        for v, owner in reversed(undo):
            self._assign(v, owner)

    def _relieve(self, p: int) -> bool:
        """Bring part ``p`` back towards the mean by redrawing boundaries (recombination):
        first with one neighbour (the pair shares its accounts evenly, or one of the two gets
        the mean), keeping the best; if none helps, along short paths of neighbouring parts
        to the nearest parts on the other side of the mean, each part of the path handing its
        excess (or lack) to the next. A change that does not lower the imbalance is undone,
        so the repair cannot cycle."""
        best = None
        for q in sorted(self._neighbour_parts(p)):
            total = self.weight[p] + self.weight[q]
            for target in (total / 2, self.mean, total - self.mean):
                before = self._badness((p, q))
                undo: list = []
                if self._redraw(p, q, target, undo):
                    after = self._badness((p, q))
                    if after < before and (best is None or after < best[0]):
                        best = (after, q, target)
                self._undo(undo)
        if best is not None:
            self._redraw(p, best[1], best[2], [])
            return True
        heavy = self.weight[p] > self.mean
        if heavy:
            paths = self._paths_to(p, lambda r: self.weight[r] < self.mean, PATHS_TRIED)
        else:
            paths = self._paths_to(p, lambda r: self.weight[r] > self.mean, PATHS_TRIED)
            paths = [path[::-1] for path in paths]  # from the heavy end towards p
        for path in paths:
            if len(path) < 3:
                continue  # a neighbour: tried above
            before = self._badness(path)
            undo = []
            for a, b in itertools.pairwise(path):
                self._redraw(a, b, self.mean, undo)
            if self._badness(path) < before:
                return True
            self._undo(undo)
        return False

    def _within(self, labels: list[int]) -> bool:
        return all(self.lo <= self.weight[p] <= self.hi for p in labels)

    def _repair(self, labels: list[int]) -> None:
        """Relieve the part furthest outside the window until every part is inside it, no
        part can be relieved, or the work budget is spent."""
        stuck: set[int] = set()
        while self.budget >= 0:
            outside = [
                p for p in labels if p not in stuck and not self.lo <= self.weight[p] <= self.hi
            ]
            if not outside:
                return
            worst = max(outside, key=lambda p: (abs(self.weight[p] - self.mean), -p))
            if self._relieve(worst):
                stuck.clear()
            else:
                stuck.add(worst)

    def _polish(self, labels: list[int]) -> None:
        w, adj, part_of = self.w, self.adj, self.part_of
        for _sweep in range(POLISH_SWEEPS):
            moved = 0
            for v in range(len(self.g)):
                p = part_of[v]
                others = {part_of[u] for u in adj[v]} - {p}
                if not others:
                    continue
                here = self._dist(v, p)
                q = min(others, key=lambda r: (self._dist(v, r), r))
                if self._dist(v, q) >= POLISH_MARGIN * here:
                    continue
                if self.weight[p] - w[v] < self.lo or self.weight[q] + w[v] > self.hi:
                    continue
                if not self._connected_without(v, p):
                    continue
                self._assign(v, q)
                moved += 1
            if not moved:
                return

    # -- run --------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.part_of = [-1] * len(self.g)
        self.members, self.weight, self.sx, self.sy = [], [], [], []

    def _window(self, tolerance: float) -> None:
        self.lo = self.mean * (1 - tolerance)
        self.hi = self.mean * (1 + tolerance)

    def _attempt(self, pieces: list[list[int]], counts: list[int]) -> list[int]:
        """One bisection and repair into the window of the tolerance; then, with a smaller
        budget, a tighter window: sectors drift as accounts are added, and a proposal at the
        edge of the window is out of it after the first new development. The tightening is
        kept only if every part is still within the tolerance."""
        self._reset()
        order: list[int] = []
        for piece, k in zip(pieces, counts, strict=True):
            label = self._new_part(piece)
            self._split(label, k, order)
        self._window(self.tolerance)
        self.budget = REPAIR_BUDGET_PER_BLOCK * len(self.g)
        self._repair(order)
        if not self._within(order):
            return order
        snapshot = list(self.part_of)
        self._window(self.tolerance * TIGHT_SHARE)
        self.budget = TIGHT_BUDGET_PER_BLOCK * len(self.g)
        self._repair(order)
        tight = self._within(order)
        self._window(self.tolerance)
        if not self._within(order):
            for v, owner in enumerate(snapshot):
                if self.part_of[v] != owner:
                    self._assign(v, owner)
        elif tight:
            self._window(self.tolerance * TIGHT_SHARE)  # the polish keeps the tight window
        return order

    def run(self) -> list[list[int]]:
        self._check_request()
        pieces = self._join_stranded(self._components())
        try:
            counts = self._allocate(pieces)
        except BalancingError as error:
            # Pieces that each hold whole sectors may still not add up to N; joined through
            # their corner links (where no barrier cuts them) they may.
            if error.code != "pieces_need_other_count" or not self._join_all_corners(pieces):
                raise
            pieces = self._components()
            counts = self._allocate(pieces)
        best = None
        split_error = None
        # Granular areas (few blocks per sector, blocks of very different weight) may need
        # another tree of cuts; each attempt rotates the sweep axes and swaps the halves.
        # Deterministic: the attempts and their order are fixed.
        for attempt in range(ATTEMPTS):
            self.attempt = attempt
            try:
                order = self._attempt(pieces, counts)
            except BalancingError as error:  # a tree of cuts that left a side without blocks
                split_error = error
                self._window(self.tolerance)
                continue
            worst = max(abs(self.weight[p] - self.mean) / self.mean for p in order)
            best = worst if best is None else min(best, worst)
            if self._within(order):
                # Compactness within the window the repair reached (the tight one if it did).
                self._polish(order)
                break
            self._window(self.tolerance)
        else:
            if best is None:
                raise split_error
            raise BalancingError(
                "not_balanced",
                _(
                    "No division into %(n)s contiguous sectors within ±%(tolerance)s%% of the "
                    "mean (%(mean)s accounts) was found; the best one found is %(worst)s%% off. "
                    "Try another number of sectors or fewer barrier streets."
                )
                % {
                    "n": self.n,
                    "tolerance": _one_decimal(self.tolerance * 100),
                    "mean": _one_decimal(self.mean),
                    "worst": _one_decimal(best * 100),
                },
            )
        for p in order:
            # The repair moves only non-articulation blocks; this is the invariant's last check.
            assert self._is_connected(p), f"part {p} lost its contiguity"
        return [sorted(self.members[p]) for p in order]


# --- 3. proposal -------------------------------------------------------------------------------


@dataclass
class SectorFigures:
    """Balance and compactness of a set of sectors (a proposal or the current sectors)."""

    sectors: int
    accounts_total: int
    accounts_min: int
    accounts_max: int
    accounts_mean: float
    max_deviation_percent: float
    compactness_mean: float
    compactness_min: float

    @classmethod
    def of(cls, accounts: list[int], compactness: list[float]) -> SectorFigures:
        mean = sum(accounts) / len(accounts)
        deviation = max(abs(a - mean) for a in accounts) / mean * 100 if mean else 0.0
        return cls(
            sectors=len(accounts),
            accounts_total=sum(accounts),
            accounts_min=min(accounts),
            accounts_max=max(accounts),
            accounts_mean=round(mean, 1),
            max_deviation_percent=round(deviation, 2),
            compactness_mean=round(sum(compactness) / len(compactness), 3),
            compactness_min=round(min(compactness), 3),
        )


@dataclass
class ProposedSector:
    code: str
    name: str
    geom: GEOSGeometry  # MultiPolygon, storage SRID: the union of the blocks
    block_ids: list[int]
    accounts: int
    compactness: float  # Polsby-Popper of the closed outline, 0..1

    def as_proposal_item(self) -> dict:
        """The shape ``sectors.services.preview_proposal``/``apply_proposal`` take."""
        return {"code": self.code, "name": self.name, "geom": self.geom}


@dataclass
class SectorProposal:
    sectors: list[ProposedSector]
    figures: SectorFigures
    tolerance: float
    n: int
    target: int | None
    barrier_segment_ids: list[int]
    blocks: int
    level: str = Level.SECTOR
    current: SectorFigures | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _polsby_popper_sql(expr: str) -> str:
    """SQL for the Polsby-Popper compactness (4πA/P²) of the polygon ``expr``."""
    return (
        f"CASE WHEN ST_Perimeter({expr}) > 0 "
        f"THEN 4 * pi() * ST_Area({expr}) / ST_Perimeter({expr}) ^ 2 ELSE 0 END"
    )


# Geometry and compactness per part, set-based: the assignment travels as two arrays. The
# outline whose compactness is measured is closed over the blocks' simplified outlines (a
# buffer of the collection merges them; the exact union is only needed for the output).
_SECTORS_SQL = """
WITH a AS (
  SELECT * FROM unnest(%(ids)s::bigint[], %(parts)s::int[]) AS t(block_id, part)
), u AS (
  SELECT a.part, ST_Multi(ST_Union(b.geom)) AS geom,
         ST_Collect(ST_Simplify(b.geom, %(simplify)s)) AS simple
    FROM a JOIN cadastre_block b ON b.id = a.block_id
   GROUP BY a.part
), closed AS (
  -- Out with mitred corners (a block's corner stays a corner), back in with round ones: GEOS
  -- 3.11 collapses some mitred inward buffers to an empty polygon.
  SELECT part, geom, ST_Buffer(ST_Buffer(simple, %(close)s, 'join=mitre'), -%(close)s) AS o
    FROM u
), c AS MATERIALIZED (
  -- MATERIALIZED: inlined, the outline would be buffered again for its area and perimeter.
  SELECT part, geom, CASE WHEN ST_IsEmpty(o) THEN geom ELSE o END AS outline FROM closed
)
SELECT part, ST_AsEWKB(geom), {pp}
  FROM c ORDER BY part
""".format(pp=_polsby_popper_sql("outline"))  # noqa: S608 - a constant expression


def current_sectors_figures(
    *, block_ids: list[int], level: str = Level.SECTOR
) -> SectorFigures | None:
    """The same figures for the current areas of ``level`` (sectors by default) over the
    blocks: those holding the point on surface of at least one of them.

    Accounts are each area's whole roll as the assignment engine recorded it
    (``AccountSectors``), active ones only as in the proposal; compactness is the
    Polsby-Popper of the area's drawn outline (it already spans its streets). ``None`` when no
    such area holds a block of the area.
    """
    table = CommercialArea._meta.db_table
    column = ASSIGNMENT_COLUMN[level]
    rows = _fetchall(
        f"""
        WITH pts AS (
          SELECT ST_PointOnSurface(b.geom) AS pt FROM cadastre_block b WHERE b.id = ANY(%(ids)s)
        ), cur AS (
          SELECT DISTINCT s.id FROM pts JOIN {table} s
              ON s.level = %(level)s AND ST_Intersects(s.geom, pts.pt)
        ), counts AS (
          SELECT a.{column} AS area_id, count(*) AS accounts
            FROM {AccountSectors._meta.db_table} a
            JOIN cadastre_serviceaccount sa ON sa.id = a.account_id AND sa.status <> 'inactive'
           WHERE a.{column} IN (SELECT id FROM cur)
           GROUP BY a.{column}
        )
        SELECT s.id, COALESCE(c.accounts, 0), {_polsby_popper_sql("s.geom")}
          FROM {table} s JOIN cur ON cur.id = s.id
          LEFT JOIN counts c ON c.area_id = s.id
         ORDER BY s.id
        """,  # noqa: S608 - table and column names from the models, values as parameters
        {"ids": list(block_ids), "level": str(level)},
    )
    if not rows:
        return None
    return SectorFigures.of([int(r[1]) for r in rows], [float(r[2]) for r in rows])


# How proposed areas are named, per level of the commercial hierarchy.
LEVEL_NAMES = {
    Level.ZONE: ("Z", gettext_lazy("Zone %(number)s")),
    Level.SECTOR: ("S", gettext_lazy("Sector %(number)s")),
    Level.BOOK: ("L", gettext_lazy("Reading book %(number)s")),
}


def sector_proposal(
    *,
    area: GEOSGeometry | None = None,
    block_ids: list[int] | None = None,
    n: int | None = None,
    target: int | None = None,
    barrier_streets: list[str] = (),
    barrier_street_ids: list[int] = (),
    level: str = Level.SECTOR,
    code_prefix: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    max_gap_m: float = DEFAULT_MAX_GAP_M,
    min_frontage_m: float = DEFAULT_MIN_FRONTAGE_M,
) -> SectorProposal:
    """Propose ``n`` areas of ``level`` (or as many as ``target`` accounts per area gives) of
    whole blocks over ``area`` (a polygon, WGS 84 when it has no SRID) or ``block_ids``, and
    the figures of the current areas of that level over the same blocks.

    Reads only; the planner adopts the proposal through ``sectors.services``'s preview/apply
    path (:meth:`ProposedSector.as_proposal_item`). Raises :class:`BalancingError` for bad
    input and for requests that cannot be met, saying why.
    """
    timings = {}
    started = time.perf_counter()
    if level not in LEVEL_NAMES:
        raise BalancingError(
            "unknown_level",
            _("“%(level)s” is not a level of the commercial hierarchy; use one of: %(levels)s.")
            % {"level": level, "levels": ", ".join(LEVEL_NAMES)},
        )
    if (area is None) == (not block_ids):
        raise BalancingError(
            "area_or_blocks", _("Give either an area (a polygon) or a list of blocks.")
        )
    if (n is None) == (target is None):
        raise BalancingError(
            "n_or_target",
            _("Give either the number of sectors or a target number of accounts per sector."),
        )
    if n is not None and n < 1:
        raise BalancingError("n_too_small", _("The number of sectors must be 1 or more."))
    if target is not None and target < 1:
        raise BalancingError(
            "target_too_small", _("The target number of accounts per sector must be 1 or more.")
        )
    if area is not None:
        area = area_to_storage(area)
    barrier_ids = barrier_segment_ids(names=barrier_streets, ids=barrier_street_ids)
    graph = block_graph_gather(
        area=area,
        block_ids=block_ids,
        barrier_ids=barrier_ids,
        max_gap_m=max_gap_m,
        min_frontage_m=min_frontage_m,
    )
    timings["gather"] = time.perf_counter() - started
    if target is not None:
        total = sum(graph.accounts)
        # With no accounts at all, N = 1 lets the partitioner report the empty roll.
        n = sector_count_for_target(total=total, target=target) if total else 1

    started = time.perf_counter()
    parts = partition_blocks(graph, n=n, tolerance=tolerance)
    timings["partition"] = time.perf_counter() - started

    started = time.perf_counter()
    ids, labels = [], []
    for i, part in enumerate(parts):
        ids.extend(graph.block_ids[v] for v in part)
        labels.extend([i] * len(part))
    rows = _fetchall(
        _SECTORS_SQL,
        {"ids": ids, "parts": labels, "close": max_gap_m / 2, "simplify": SIMPLIFY_M},
        jit=False,
    )
    prefix, name = LEVEL_NAMES[level]
    prefix = prefix if code_prefix is None else code_prefix
    width = max(2, len(str(len(parts))))
    sectors = []
    for (part, ewkb, compactness), nodes in zip(rows, parts, strict=True):
        number = f"{part + 1:0{width}d}"
        sectors.append(
            ProposedSector(
                code=f"{prefix}{number}",
                name=str(name) % {"number": number},
                geom=GEOSGeometry(memoryview(bytes(ewkb))),
                block_ids=[graph.block_ids[v] for v in nodes],
                accounts=sum(graph.accounts[v] for v in nodes),
                compactness=round(float(compactness), 4),
            )
        )
    figures = SectorFigures.of([s.accounts for s in sectors], [s.compactness for s in sectors])
    current = current_sectors_figures(block_ids=graph.block_ids, level=level)
    timings["summarise"] = time.perf_counter() - started
    return SectorProposal(
        sectors=sectors,
        figures=figures,
        tolerance=tolerance,
        n=n,
        target=target,
        barrier_segment_ids=barrier_ids,
        blocks=len(graph),
        level=str(level),
        current=current,
        timings=timings,
    )
