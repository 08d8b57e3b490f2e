"""Route optimization: the routing graph and the optimization runs (plans).

- :class:`RoutingVertex` / :class:`RoutingEdge`: the street network as a graph for pgRouting,
  derived from ``cadastre.StreetSegment`` by :func:`routing.graph.graph_build` (set-based SQL;
  segment end points closer than ``SNAP_M`` are one vertex). Edges are undirected (the cadastre
  has no one-way attribute); the cost of an edge is its length for distances, and its length
  over the profile's speed for its street class for times.
- :class:`OptimizationRun`: one request to the optimizer (what, with which parameters), its
  progress while a Celery worker solves it, and its result (the plan: ordered routes with
  their figures). Planners edit the plan (move a meter, lock a route) and publish it: the
  routes become the reading order of the field app (``sectors.AccountSectors.reading_sequence``).
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.history import track_history

SRID = settings.CAUDAL_SRID


# Derived data rebuilt in bulk (TRUNCATE + INSERT … SELECT): the street segments' own history is
# the record; insert snapshots of a rebuild would tell nobody anything.
@track_history(inserts=False)
class RoutingVertex(models.Model):
    geom = models.PointField(_("position"), srid=SRID)

    class Meta:
        verbose_name = _("routing vertex")
        verbose_name_plural = _("routing vertices")


@track_history(inserts=False)
class RoutingEdge(models.Model):
    # The cadastre.StreetSegment it comes from. No foreign key: the graph is derived and
    # rebuilt from the streets, and a key would stop the cadastre's bulk replaces (TRUNCATE).
    segment_id = models.BigIntegerField(_("street segment"))
    source = models.BigIntegerField(_("source vertex"), db_index=True)
    target = models.BigIntegerField(_("target vertex"), db_index=True)
    length_m = models.FloatField(_("length (m)"))
    street_class = models.CharField(_("class"), max_length=10)
    geom = models.LineStringField(_("centreline"), srid=SRID)

    class Meta:
        verbose_name = _("routing edge")
        verbose_name_plural = _("routing edges")
        constraints = [
            models.CheckConstraint(condition=Q(length_m__gte=0), name="routingedge_length"),
        ]


class RunKind(models.TextChoices):
    READING = "reading", _("Meter reading")
    COLLECTION = "collection", _("Collector visits")
    CREW = "crew", _("Crew day")


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    PUBLISHED = "published", _("Published")


@track_history()
class OptimizationRun(models.Model):
    """One optimization and the plan it produced (see the module docstring).

    ``params`` are the validated inputs (see ``routing.services.READING_DEFAULTS``);
    ``result`` is the plan: ``{"routes": [{"stops": [account ids…], "locked": bool, "km": …,
    "minutes": …}, …], "totals": …, "current": …, "solver": …}``.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=RunKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    message = models.CharField(_("message"), max_length=300, blank=True)
    book = models.ForeignKey(
        "sectors.CommercialArea",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("area"),
    )
    base_run = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("previous plan (stable mode)"),
    )
    params = models.JSONField(_("parameters"), default=dict)
    result = models.JSONField(_("result"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("optimization run")
        verbose_name_plural = _("optimization runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="optimizationrun_progress"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"


class RoutingError(DomainError):
    """A refused routing request or plan edit; nothing was written when it is raised.

    Codes: ``no_graph`` (no streets to route on), ``no_points``, ``too_many_points``,
    ``bad_params``, ``infeasible`` (no plan within the limits), ``not_ready`` (the run has no
    plan yet), ``published`` (a published plan is not edited), ``locked`` (the route is locked),
    ``unknown_stop``.
    """
