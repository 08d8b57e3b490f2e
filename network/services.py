"""Writes of the water network: outage events traced from a pipe break.

An outage is one transaction: the :class:`~network.models.Outage` row, the affected accounts
(:class:`~network.models.OutageAccount`, what customer service and the next bill read), one
pending :class:`~network.models.OutageNotice` per account (a narrow outbox: nothing here sends
messages; the sending interface arrives with the collections issue and claims pending rows) and
a repair work order through :func:`orders.services.work_order_create`.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gis_core.sql import execute
from network.models import NetworkError, Outage, OutageStatus
from network.selectors import isolation_trace
from orders.services import work_order_create

DEFAULT_OUTAGE_HOURS = 6
ORDER_SOURCE = "network.outage"


def _notice_text(*, expected_end) -> str:
    local = timezone.localtime(expected_end)
    return _(
        "Water service is interrupted at your address to repair a leak in the network. "
        "Service is expected back by %(end)s. We apologise for the inconvenience."
    ) % {"end": date_format(local, "DATETIME_FORMAT")}


def outage_create(
    *,
    point,
    pipe_id: int | None = None,
    expected_end=None,
    reason: str = "",
    user,
) -> Outage:
    """Trace the break at ``point`` (on ``pipe_id`` when given) and record the outage.

    Changes, in one transaction: inserts one ``Outage`` (valves to close, isolated pipes, the
    isolated section's geometry), one ``OutageAccount`` and one pending ``OutageNotice`` per
    affected account (set-based ``INSERT … SELECT``), and one ``leak_repair`` work order with
    ``asset_ref="pipe:<id>"``. ``expected_end`` defaults to ``DEFAULT_OUTAGE_HOURS`` from now.

    Raises ``NetworkError`` for a point far from every pipe or an end not after the start, and
    lets ``WorkOrderError`` through when the order is refused; either way nothing is written.
    """
    started = timezone.now()
    expected_end = expected_end or started + timedelta(hours=DEFAULT_OUTAGE_HOURS)
    if expected_end <= started:
        raise NetworkError(
            "end_before_start",
            _("The expected end of the outage must be in the future."),
            field="expected_end",
        )
    with transaction.atomic():
        trace = isolation_trace(point=point, pipe_id=pipe_id)
        outage = Outage.objects.create(
            pipe_id=trace.pipe_id,
            break_point=trace.break_point,
            valves=trace.valves,
            pipes=trace.pipes,
            geom=trace.geom,
            started_at=started,
            expected_end=expected_end,
            created_by=user,
        )
        execute(
            """INSERT INTO network_outageaccount (outage_id, account_id)
               SELECT %(outage)s, unnest(%(accounts)s::bigint[])""",
            {"outage": outage.pk, "accounts": trace.accounts},
        )
        execute(
            """INSERT INTO network_outagenotice (outage_id, account_id, message, status, created_at)
               SELECT %(outage)s, unnest(%(accounts)s::bigint[]), %(message)s, 'pending', %(now)s""",
            {
                "outage": outage.pk,
                "accounts": trace.accounts,
                "message": _notice_text(expected_end=expected_end),
                "now": started,
            },
        )
        order = work_order_create(
            kind="leak_repair",
            reason=reason.strip()
            or _(
                "Repair of pipe %(pipe)s: %(accounts)s accounts without water; close valves %(valves)s."
            )
            % {
                "pipe": trace.pipe_id,
                "accounts": len(trace.accounts),
                "valves": ", ".join(map(str, trace.valves)) or "—",
            },
            location=trace.break_point,
            asset_ref=f"pipe:{trace.pipe_id}",
            source=ORDER_SOURCE,
            source_ref=f"outage:{outage.pk}",
            user=user,
        )
        outage.work_order = order
        outage.save(update_fields=["work_order"])
    outage.trace = trace
    return outage


def outage_close(*, outage: Outage, user=None) -> Outage:
    """Mark an active outage closed now (service restored). Changes the outage's status and
    ``ended_at``. Raises ``NetworkError`` when it is already closed."""
    with transaction.atomic():
        locked = Outage.objects.select_for_update().get(pk=outage.pk)
        if locked.status != OutageStatus.ACTIVE:
            raise NetworkError(
                "outage_closed", _("Outage %(id)s is already closed.") % {"id": locked.pk}
            )
        locked.status = OutageStatus.CLOSED
        locked.ended_at = max(timezone.now(), locked.started_at + timedelta(microseconds=1))
        locked.save(update_fields=["status", "ended_at"])
    return locked
