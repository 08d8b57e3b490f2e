"""Rebuild the routing graph from the street segments (after a bulk street import)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from core.history import command_context
from routing.graph import graph_build


class Command(BaseCommand):
    help = "Rebuild the routing graph (pgRouting vertices and edges) from the street segments."

    def handle(self, *args, **options):
        with command_context("routing_graph_build"):
            counts = graph_build()
        self.stdout.write(
            _("Routing graph: %(vertices)s vertices, %(edges)s edges in %(seconds).1f s.") % counts
        )
