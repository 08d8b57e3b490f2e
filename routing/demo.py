"""Demo city step of routing: the routing graph of the demo streets (set-based SQL)."""

from core.demo import DemoContext, demo_step
from routing.graph import graph_build
from routing.models import RoutingEdge, RoutingVertex


@demo_step(
    "routing.graph",
    after=("cadastre.base_map",),
    tables=(RoutingEdge._meta.db_table, RoutingVertex._meta.db_table),
    description="routing graph of the streets (pgRouting vertices and edges)",
)
def build_graph(ctx: DemoContext) -> dict:
    counts = graph_build()
    return {"vertices": counts["vertices"], "edges": counts["edges"]}
