"""Standard vehicle-routing instances (VRPLIB / CVRPLIB ``.vrp`` and Solomon VRPTW ``.txt``) as
engine problems, so the optimizer is measured on public benchmarks (``bench/routes.py``).

Parsing is the ``vrplib`` package's (MIT; the reader of the CVRPLIB maintainers), which handles
both formats; this module turns an instance into :class:`routing.engine.Problem`:

- node 0 (the depot) becomes the office of every route; customers are visits ``0 … n-2``;
- CVRP: ``EUC_2D`` distances rounded to the nearest integer, as TSPLIB/CVRPLIB define them
  (best-known values are for those); the capacity is the cap on the sum of demands;
- Solomon VRPTW: Euclidean distances kept to 1/``SCALE`` (the engine works in integers), travel
  time equals distance, service times and time windows as given, the depot's due date is the
  horizon; the vehicle number of the file.

The number of routes is the ``-kN`` of a CVRPLIB name, else the "No of trucks" of its comment,
else enough for the demand. The best-known value is read from the comment ("Optimal value: N")
when the file gives it.
"""

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import vrplib

from routing.engine import Problem

SCALE = 100


@dataclass
class Instance:
    name: str
    kind: str  # "cvrp" or "vrptw"
    problem: Problem
    distance: np.ndarray  # (n+1)x(n+1) in the file's units, depot at 0
    best_known: float | None
    scale: float

    def cost(self, routes: list[list[int]]) -> float:
        """Total distance of routes of visits (engine indices), depot to depot, file units."""
        total = 0.0
        for r in routes:
            if not r:
                continue
            nodes = [0, *[v + 1 for v in r], 0]
            total += float(sum(self.distance[a, b] for a, b in itertools.pairwise(nodes)))
        return total


def instance_read(path: str | Path, *, time_limit_s: float = 10.0) -> Instance:
    """Read a ``.vrp`` (VRPLIB) or Solomon ``.txt`` file. Raises ValueError for a file that is
    neither, or has no depot at node 1 (VRPLIB) / 0 (Solomon)."""
    path = Path(path)
    solomon = path.suffix.lower() == ".txt"
    data = vrplib.read_instance(str(path), instance_format="solomon" if solomon else "vrplib")
    name = str(data.get("name") or path.stem)
    comment = str(data.get("comment") or "")
    demand = np.asarray(data["demand"], dtype=np.int64)
    capacity = int(np.asarray(data["capacity"]).max())
    if not solomon:
        depots = np.asarray(data.get("depot", [0])).reshape(-1)
        if len(depots) != 1 or int(depots[0]) != 0:
            raise ValueError(f"{path.name}: one depot, node 1, is expected")
    weights = np.asarray(data["edge_weight"], dtype=float)
    if solomon:
        distance = weights
        unit = SCALE
    else:
        distance = np.rint(weights)
        unit = 1
    if len(distance) < 2:
        raise ValueError(f"{path.name}: no customers")
    scaled = distance * unit
    problem = Problem(
        duration_s=scaled[1:, 1:],
        distance_m=scaled[1:, 1:],
        vehicles=_vehicles(name, comment, data, demand, capacity),
        depot_duration_s=(scaled[0, 1:], scaled[1:, 0]),
        depot_distance_m=(scaled[0, 1:], scaled[1:, 0]),
        return_to_depot=True,
        max_visits=capacity,
        demand=demand[1:],
        balance_tolerance=None,
        minimize="distance",
        time_limit_s=time_limit_s,
    )
    if solomon:
        windows = np.asarray(data["time_window"], dtype=float) * unit
        problem.service_s = np.asarray(data["service_time"], dtype=float)[1:] * unit
        problem.time_windows = [(float(a), float(b)) for a, b in windows[1:]]
        problem.shift_s = float(windows[0][1])
    best = re.search(r"optimal value:\s*([\d.]+)", comment, re.IGNORECASE)
    return Instance(
        name=name,
        kind="vrptw" if solomon else "cvrp",
        problem=problem,
        distance=distance,
        best_known=float(best.group(1)) if best else None,
        scale=unit,
    )


def _vehicles(name: str, comment: str, data: dict, demand: np.ndarray, capacity: int) -> int:
    if "vehicles" in data:
        return int(data["vehicles"])
    k = re.search(r"-k(\d+)", name)
    if k:
        return int(k.group(1))
    trucks = re.search(r"trucks:\s*(\d+)", comment)
    if trucks:
        return int(trucks.group(1))
    return math.ceil(int(demand.sum()) / capacity) + 1
