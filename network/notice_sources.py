"""Network's outage outbox as a source of notices (:mod:`core.notifications.sources`)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.notifications.models import NotifyError, TemplateCode
from core.notifications.services import notice_queue
from core.notifications.sources import notice_source
from network.models import NoticeStatus as OutboxStatus
from network.models import OutageNotice

OUTAGE_SOURCE = "network:outage:{outage}:{account}"


@notice_source("outbox")
def outage_notices_forward(*, limit: int = 500) -> dict:
    """Turn pending ``network.OutageNotice`` rows (network's outbox) into notices.

    Each outbox row becomes one notice to the account holder's preferred contact (template
    ``outage_notice``, ``{message}`` = network's text, source
    ``network:outage:<outage>:<account>``) and is marked ``sent`` — handed to the sending
    interface; the notice's own status then says whether it reached the customer — or
    ``failed`` when the holder has no e-mail or phone (or no template exists). Rows are claimed
    with ``FOR UPDATE SKIP LOCKED`` in primary-key order, as network's docstring asks of its
    consumer; the whole batch is one transaction, so a row is forwarded once. Returns
    ``{"forwarded": n, "failed": n}``.
    """
    counts = {"forwarded": 0, "failed": 0}
    with transaction.atomic():
        rows = list(
            OutageNotice.objects.filter(status=OutboxStatus.PENDING)
            .select_related("account__customer", "outage")
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        now = timezone.now()
        sent, failed = [], []
        for row in rows:
            try:
                notice_queue(
                    account=row.account,
                    template=TemplateCode.OUTAGE_NOTICE,
                    context={
                        "message": row.message,
                        "expected_end": timezone.localtime(row.outage.expected_end).strftime(
                            "%d/%m/%Y %H:%M"
                        ),
                    },
                    source=OUTAGE_SOURCE.format(outage=row.outage_id, account=row.account_id),
                )
            except NotifyError:
                failed.append(row.pk)
            else:
                sent.append(row.pk)
        if sent:
            OutageNotice.objects.filter(pk__in=sent).update(status=OutboxStatus.SENT, sent_at=now)
        if failed:
            OutageNotice.objects.filter(pk__in=failed).update(status=OutboxStatus.FAILED)
        counts["forwarded"], counts["failed"] = len(sent), len(failed)
    return counts
