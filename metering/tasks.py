"""Celery tasks of metering: fetch ids, call a service; nothing else."""

from celery import shared_task

from metering.estimation import consumption_compute
from metering.models import ReadingPeriod


@shared_task(name="metering.consumption_compute")
def consumption_compute_task(period_id: int) -> dict:
    """Measured/estimated consumption of every metered account of a period (after closing)."""
    period = ReadingPeriod.objects.filter(pk=period_id).first()
    if period is None:
        return {}
    counts = consumption_compute(period=period)
    return {key: str(value) for key, value in counts.items()}
