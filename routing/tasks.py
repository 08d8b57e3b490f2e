"""Celery tasks of routing: fetch ids, call a service; nothing else."""

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone
from django.utils.translation import gettext as _

from routing.models import OptimizationRun, RunStatus
from routing.services import run_execute

# The solver stops itself at the run's time limit (at most an hour); these limits only catch
# a worker stuck elsewhere (the database, the network).
SOFT_LIMIT_S = 3600 + 300


class _OptimizeTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """An unexpected error (not a refused request): the run must not stay "running"."""
        OptimizationRun.objects.filter(
            pk=args[0], status__in=(RunStatus.PENDING, RunStatus.RUNNING)
        ).update(
            status=RunStatus.FAILED,
            message=_("The optimization stopped on an unexpected error: %(error)s")
            % {"error": type(exc).__name__},
            finished_at=timezone.now(),
        )


@shared_task(
    base=_OptimizeTask,
    name="routing.optimize",
    soft_time_limit=SOFT_LIMIT_S,
    time_limit=SOFT_LIMIT_S + 60,
)
def optimize_task(run_id: int) -> str:
    """Build the plan of one optimization run (see ``routing.services.run_execute``)."""
    try:
        return run_execute(run_id=run_id)
    except SoftTimeLimitExceeded:
        OptimizationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED,
            message=_("The optimization took too long and was stopped."),
            finished_at=timezone.now(),
        )
        return RunStatus.FAILED
