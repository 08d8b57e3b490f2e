"""Celery tasks of notifications: call a service; nothing else."""

from celery import shared_task

from core.notifications.services import (
    notices_send,
    outage_notices_forward,
    ticket_messages_forward,
)


@shared_task(name="notifications.send")
def notices_send_task(limit: int = 500) -> dict:
    """Every five minutes (beat): network's outage outbox and the service desk's ticket
    messages become notices, then the pending notices are sent. Two workers running it at
    once share the rows (SKIP LOCKED)."""
    outbox = outage_notices_forward(limit=limit)
    tickets = ticket_messages_forward(limit=limit)
    return {"outbox": outbox, "tickets": tickets, "notices": notices_send(limit=limit)}
