"""Celery tasks of notifications: call a service; nothing else."""

from celery import shared_task

from core.notifications.services import notices_send
from core.notifications.sources import notice_sources_forward


@shared_task(name="notifications.send")
def notices_send_task(limit: int = 500) -> dict:
    """Every five minutes (beat): the outboxes other apps declare (network's outage notices,
    the service desk's ticket messages: :mod:`core.notifications.sources`) become notices,
    then the pending notices are sent. Two workers running it at once share the rows (SKIP
    LOCKED)."""
    forwarded = notice_sources_forward(limit=limit)
    return {**forwarded, "notices": notices_send(limit=limit)}
