"""Writes of work orders. Other apps create and cancel orders only through these functions."""

from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from gis_core.srid import storage_srid
from orders.models import (
    NUMBER_SEQUENCE,
    OPEN_STATUSES,
    WorkOrder,
    WorkOrderKind,
    WorkOrderStatus,
)

OPEN_REF_CONSTRAINT = "workorder_one_open_per_source_ref"

# Status changes this issue supports. Issue 11 adds assign/start/finish to this table.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    WorkOrderStatus.CREATED: frozenset({WorkOrderStatus.CANCELLED}),
    WorkOrderStatus.ASSIGNED: frozenset({WorkOrderStatus.CANCELLED}),
    WorkOrderStatus.IN_PROGRESS: frozenset({WorkOrderStatus.CANCELLED}),
}


class WorkOrderError(DomainError):
    """A work order operation was refused; ``code`` is stable, ``message`` is translated."""


def _next_number(now) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
        value = cursor.fetchone()[0]
    year = timezone.localtime(now).year
    return f"OT-{year}-{value:06d}"


def _storage_point(location) -> Point:
    if not isinstance(location, GEOSGeometry) or location.geom_type != "Point":
        raise WorkOrderError(
            "location_invalid", _("The location must be a point."), field="location"
        )
    if location.empty:
        raise WorkOrderError("location_invalid", _("The location is empty."), field="location")
    if not location.srid:
        raise WorkOrderError(
            "location_invalid",
            _("The location has no coordinate system (SRID)."),
            field="location",
        )
    point = location.clone()
    if point.srid != storage_srid():
        point.transform(storage_srid())
    return point


def _open_order(source: str, source_ref: str) -> WorkOrder | None:
    return (
        WorkOrder.objects.filter(source=source, source_ref=source_ref, status__in=OPEN_STATUSES)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def work_order_create(
    *,
    kind: str,
    reason: str,
    location,
    parcel=None,
    account=None,
    source: str = "",
    source_ref: str = "",
    user,
) -> WorkOrder:
    """Create a work order, or return the open one already made from the same finding.

    Changes: inserts one ``WorkOrder`` (status ``created``) and consumes one order number. When
    ``source_ref`` is given and an open order (created/assigned/in progress) with the same
    ``source`` and ``source_ref`` exists, nothing is written and that order is returned: the
    same finding turned into a request twice gives one order, also under concurrent requests
    (a partial unique constraint decides). The returned order has ``was_created`` set.
    ``location`` may be in any SRID; it is stored in the installation's. Without a ``parcel``,
    the account's parcel is used.

    Raises ``WorkOrderError`` for an unknown kind, an empty reason, a location that is not a
    point with an SRID, a ``source_ref`` without ``source``, or an account of another parcel.
    """
    if kind not in WorkOrderKind.values:
        raise WorkOrderError(
            "kind_invalid", _("Unknown work order kind: %(kind)s.") % {"kind": kind}, field="kind"
        )
    reason = (reason or "").strip()
    if not reason:
        raise WorkOrderError(
            "reason_required", _("Say why the work order is needed."), field="reason"
        )
    source = (source or "").strip()
    source_ref = (source_ref or "").strip()
    if source_ref and not source:
        raise WorkOrderError(
            "source_required",
            _("A source reference needs a source (where the order comes from)."),
            field="source",
        )
    if account is not None:
        if parcel is None:
            parcel = account.parcel
        elif account.parcel_id != parcel.pk:
            raise WorkOrderError(
                "account_parcel_mismatch",
                _("Account %(account)s is not on parcel %(parcel)s.")
                % {"account": account.number, "parcel": parcel.cadastral_key},
                field="account",
            )
    point = _storage_point(location)

    if source_ref:
        existing = _open_order(source, source_ref)
        if existing is not None:
            existing.was_created = False
            return existing

    now = timezone.now()
    order = WorkOrder(
        number=_next_number(now),
        kind=kind,
        status=WorkOrderStatus.CREATED,
        reason=reason,
        source=source,
        source_ref=source_ref,
        location=point,
        parcel=parcel,
        account=account,
        created_at=now,
        created_by=user,
    )
    try:
        with transaction.atomic():
            order.save(force_insert=True)
    except IntegrityError as exc:
        # Another request created the order for this finding between our read and our insert.
        if not source_ref or OPEN_REF_CONSTRAINT not in str(exc):
            raise
        existing = _open_order(source, source_ref)
        if existing is None:
            raise
        existing.was_created = False
        return existing
    order.was_created = True
    return order


@transaction.atomic
def work_order_status_change(*, order: WorkOrder, status: str, user, reason: str = "") -> WorkOrder:
    """Move a work order to ``status`` if the transition is allowed.

    Changes: the order's status (and, for ``cancelled``, who/when/why), re-read under a row
    lock so two clerks cannot both change it. Today only cancelling an open order is allowed;
    issue 11 adds the field transitions.

    Raises ``WorkOrderError`` (``transition_not_allowed``) for any other change, naming the
    order, its current status and the one asked for; ``status_invalid`` for an unknown status.
    """
    if status not in WorkOrderStatus.values:
        raise WorkOrderError(
            "status_invalid",
            _("Unknown work order status: %(status)s.") % {"status": status},
            field="status",
        )
    locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if status not in ALLOWED_TRANSITIONS.get(locked.status, frozenset()):
        raise WorkOrderError(
            "transition_not_allowed",
            _(
                "Work order %(number)s cannot change from “%(current)s” to “%(wanted)s”. "
                "Only open orders can be cancelled for now."
            )
            % {
                "number": locked.number,
                "current": WorkOrderStatus(locked.status).label,
                "wanted": WorkOrderStatus(status).label,
            },
            field="status",
        )
    locked.status = status
    fields = ["status"]
    if status == WorkOrderStatus.CANCELLED:
        locked.cancelled_at = timezone.now()
        locked.cancelled_by = user
        locked.cancel_reason = (reason or "").strip()
        fields += ["cancelled_at", "cancelled_by", "cancel_reason"]
    locked.save(update_fields=fields)
    return locked


def work_order_cancel(*, order: WorkOrder, user, reason: str = "") -> WorkOrder:
    """Cancel an open work order; see :func:`work_order_status_change` for what it raises.

    Cancelling frees the order's finding: turning it into a request again makes a new order.
    """
    return work_order_status_change(
        order=order, status=WorkOrderStatus.CANCELLED, user=user, reason=reason
    )
