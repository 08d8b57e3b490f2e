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


@shared_task(name="metering.water_balance")
def water_balance_task(month: str | None = None) -> dict:
    """The water balance of ``month`` (YYYY-MM), or of last month and this one (daily: late
    macrometer readings and recomputed consumption reach the balance the next morning)."""
    from django.utils import timezone

    from metering.water_balance import parse_month, water_balance_compute

    if month:
        months = [parse_month(month)]
    else:
        this = timezone.localdate().replace(day=1)
        last = (this - timezone.timedelta(days=1)).replace(day=1)
        months = [last, this]
    return {f"{m:%Y-%m}": water_balance_compute(month=m) for m in months}
