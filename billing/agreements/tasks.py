"""Celery tasks of adjustments and agreements: fetch ids, call a service; nothing else."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from billing.agreements.services import agreements_check


@shared_task(name="agreements.check")
def agreements_check_task(day: str | None = None) -> dict:
    """The daily breach check (beat: once a day, after midnight in the utility's zone):
    breaches agreements with an installment unpaid past its grace, completes paid ones.
    ``day``: ISO date to check as of (default: today, local)."""
    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    return agreements_check(today=today)
