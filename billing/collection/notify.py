"""Collection actions told to the customer: each issued reminder, formal notice, suspension
and reconnection becomes one notice (core.notifications) in the customer's preferred channel,
from the Spanish templates ``payment_reminder``, ``formal_notice``, ``suspension_notice`` and
``reconnection_done``.

Run after each evaluation (the nightly task) over the actions not yet told; the notice's
source ``collection:action:<id>`` makes it once per action whatever the number of runs. A
customer without e-mail or phone is skipped (the printed notice goes by hand) and counted.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from billing.collection.models import ActionKind, ActionStatus, CollectionAction
from core.notifications.models import Notice, NotifyError
from core.notifications.services import notice_queue

TEMPLATES = {
    ActionKind.REMINDER: "payment_reminder",
    ActionKind.FORMAL_NOTICE: "formal_notice",
    ActionKind.SUSPENSION: "suspension_notice",
    ActionKind.LIMITATION: "suspension_notice",
    ActionKind.RECONNECTION: "reconnection_done",
}


def source_of(action: CollectionAction) -> str:
    return f"collection:action:{action.pk}"


def collection_notices_queue(*, day: dt.date | None = None, limit: int = 5000) -> dict:
    """Queue the notices of actions issued in the 30 days up to ``day`` (today by default)
    and not yet told, oldest first, at most ``limit``. Returns ``{"queued": n,
    "unreachable": m}``; unreachable customers are tried again while their action is recent
    (they may give a phone meanwhile)."""
    day = day or timezone.localdate()
    told = Notice.objects.filter(
        source=Concat(Value("collection:action:"), Cast(OuterRef("pk"), CharField()))
    )
    pending = (
        CollectionAction.objects.filter(
            status=ActionStatus.ISSUED,
            kind__in=list(TEMPLATES),
            day__gt=day - dt.timedelta(days=30),
            day__lte=day,
        )
        .exclude(Exists(told))
        .select_related("account__customer")
        .order_by("pk")[:limit]
    )
    queued = unreachable = 0
    for action in pending:
        context = {
            "amount": f"{action.amount_owed:,.2f}",
            "date": f"{action.day:%d/%m/%Y}",
            "due_date": f"{(action.deadline or action.day):%d/%m/%Y}",
        }
        try:
            notice_queue(
                account=action.account,
                template=TEMPLATES[action.kind],
                context=context,
                source=source_of(action),
            )
            queued += 1
        except NotifyError:
            unreachable += 1
    return {"queued": queued, "unreachable": unreachable}
