"""Writes of the water network: outage events traced from a pipe break.

An outage is one transaction: the :class:`~network.models.Outage` row, the affected accounts
(:class:`~network.models.OutageAccount`, what customer service and the next bill read), one
pending :class:`~network.models.OutageNotice` per account (a narrow outbox: nothing here sends
messages; the sending interface arrives with the collections issue and claims pending rows) and
a repair work order through :func:`orders.services.work_order_create`.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gis_core.sql import execute
from network.models import NetworkError, Outage, OutageStatus, Pipe, Valve
from network.selectors import isolation_trace
from network.topology import topology_ensure
from orders.services import work_order_create

DEFAULT_OUTAGE_HOURS = 6
ORDER_SOURCE = "network.outage"


def _notice_text(*, expected_end) -> str:
    """The customer's message, in the utility's language (``LANGUAGE_CODE``): it is stored and
    sent later, so the language of whoever traced the break must not decide it."""
    local = timezone.localtime(expected_end)
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Water service is interrupted at your address to repair a leak in the network. "
            "Service is expected back by %(end)s. We apologise for the inconvenience."
        ) % {"end": date_format(local, "DATETIME_FORMAT")}


def _order_reason(trace) -> str:
    """What the crew reads on the repair order: the pipe and the valves by the codes painted on
    the map and in the field (ids mean nothing to them)."""
    pipe_code = Pipe.objects.filter(pk=trace.pipe_id).values_list("code", flat=True).first()
    valve_codes = list(
        Valve.objects.filter(pk__in=trace.valves).order_by("code").values_list("code", flat=True)
    )
    return _(
        "Repair of pipe %(pipe)s: %(accounts)s accounts without water; close valves %(valves)s."
    ) % {
        "pipe": pipe_code or trace.pipe_id,
        "accounts": len(trace.accounts),
        "valves": ", ".join(valve_codes) or "—",
    }


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
    # A stale graph is rebuilt in a transaction of its own: inside the outage's, its TRUNCATE
    # would block every other trace until the order is written, and a refused order would
    # throw the rebuild away.
    topology_ensure()
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
            reason=reason.strip() or _order_reason(trace),
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
