"""The service desk's public ticket messages as a source of notices
(:mod:`core.notifications.sources`)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.notifications.models import NotifyError, TemplateCode
from core.notifications.services import notice_queue
from core.notifications.sources import notice_source
from orders.models import TicketMessage

TICKET_NOTICE_SOURCE = "orders:ticket:{ticket}:message:{message}"
# Desk messages older than this that could not be forwarded (no account, no contact) are no
# longer looked at: the customer has been at the counter or on the phone since.
TICKET_WINDOW = timedelta(days=7)


@notice_source("tickets")
def ticket_messages_forward(*, limit: int = 500) -> dict:
    """Turn the service desk's public ticket messages waiting to be sent
    (``orders.TicketMessage`` with ``sent_at`` empty, see :mod:`orders.desk`) into notices.

    Each becomes one notice (template ``ticket_status``, ``{ticket}`` = the ticket number,
    ``{message}`` = the desk's text, source ``orders:ticket:<ticket>:message:<id>``) to the
    holder of the ticket's account, and gets ``sent_at`` (handed to the sending interface).
    Messages of tickets without an account, or whose holder has no e-mail or phone, stay
    unsent (the truth) and are left alone after ``TICKET_WINDOW``. Claimed with ``FOR UPDATE
    SKIP LOCKED`` in primary-key order, one transaction. Returns ``{"forwarded",
    "unreachable"}``.
    """
    counts = {"forwarded": 0, "unreachable": 0}
    with transaction.atomic():
        rows = list(
            TicketMessage.objects.filter(
                public=True,
                sent_at__isnull=True,
                ticket__account__isnull=False,
                at__gte=timezone.now() - TICKET_WINDOW,
            )
            .select_related("ticket__account__customer")
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        sent = []
        for row in rows:
            try:
                notice_queue(
                    account=row.ticket.account,
                    template=TemplateCode.TICKET_STATUS,
                    context={"ticket": row.ticket.number, "message": row.text},
                    source=TICKET_NOTICE_SOURCE.format(ticket=row.ticket_id, message=row.pk),
                )
            except NotifyError:
                counts["unreachable"] += 1
            else:
                sent.append(row.pk)
        if sent:
            TicketMessage.objects.filter(pk__in=sent).update(sent_at=timezone.now())
        counts["forwarded"] = len(sent)
    return counts
