"""Celery tasks of the collection log: fetch ids, call a service; nothing else."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from billing.credit.services import escalations_notify, promises_check


@shared_task(name="credit.promises_check")
def promises_check_task(day: str | None = None) -> dict:
    """The nightly promise check (beat, after midnight in the utility's zone): keeps or breaks
    the open promises as of ``day`` (ISO date; default today, local), then e-mails the new
    escalations to the managers — after the check committed, so a failed check e-mails
    nothing."""
    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    counts = promises_check(day=today)
    return {**counts, **escalations_notify()}
