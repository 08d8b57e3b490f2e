"""Writes of work orders. Other apps create and cancel orders only through these functions.

The state machine (:data:`ALLOWED_TRANSITIONS`)::

    created ──assign──▶ assigned ──en route──▶ en_route ──check-in──▶ in_progress ──▶ done
       │                 │  ▲ reassign            │                       │      └──▶ failed
       └──────cancel─────┴──┴───────cancel────────┴──────────cancel───────┘

Office staff create, assign (by hand or to the nearest free crew with the skill) and cancel;
the assigned crew's members move their orders on (field steps, also offline: see
:mod:`orders.field_sync`). Every move writes a :class:`~orders.models.WorkOrderStep` and the
milestone's time on the order; any other move is refused naming both states.
"""

from decimal import Decimal, InvalidOperation

from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.errors import DomainError
from gis_core.srid import to_storage_point
from orders import sla
from orders.models import (
    COMPLETION_FIELDS,
    NUMBER_SEQUENCE,
    OPEN_STATUSES,
    AttachmentKind,
    Crew,
    Material,
    ResultCode,
    WorkOrder,
    WorkOrderAttachment,
    WorkOrderMaterial,
    WorkOrderStatus,
    WorkOrderStep,
    WorkOrderType,
)

OPEN_REF_CONSTRAINT = "workorder_one_open_per_source_ref"

S = WorkOrderStatus
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.ASSIGNED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.EN_ROUTE, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DONE, S.FAILED, S.CANCELLED}),
}
# The milestone each state stamps on the order.
MILESTONE = {
    S.ASSIGNED: "assigned_at",
    S.EN_ROUTE: "en_route_at",
    S.IN_PROGRESS: "started_at",
    S.DONE: "finished_at",
    S.FAILED: "finished_at",
    S.CANCELLED: "cancelled_at",
}


class WorkOrderError(DomainError):
    """A work order operation was refused; ``code`` is stable, ``message`` is translated."""


# Orders other apps asked for are reported back to them when carried out (status ``done``), in
# the finishing transaction, by the order's ``source``: an explicit list a reader finds here
# rather than a signal. A handler is ``fn(*, order, user)``; it is imported on first use so
# orders does not load billing at start-up. Failed and cancelled orders report nothing.
COMPLETION_HANDLERS: dict[str, str] = {
    "collection": "billing.collection.services.collection_order_done",
}


def _completion_report(order: WorkOrder, *, user) -> None:
    path = COMPLETION_HANDLERS.get(order.source)
    if path:
        import_string(path)(order=order, user=user)


def _next_number(now) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
        value = cursor.fetchone()[0]
    year = timezone.localtime(now).year
    return f"OT-{year}-{value:06d}"


def storage_point_of(location) -> Point:
    """An order's place in the storage SRID (see :func:`gis_core.srid.to_storage_point`)."""
    return to_storage_point(location, error=WorkOrderError, field="location")


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
    asset_ref: str = "",
    priority: str | None = None,
    user,
) -> WorkOrder:
    """Create a work order, or return the open one already made from the same finding.

    Changes: inserts one ``WorkOrder`` (status ``created``) and consumes one order number. When
    ``source_ref`` is given and an open order (created/assigned/in progress) with the same
    ``source`` and ``source_ref`` exists, nothing is written and that order is returned: the
    same finding turned into a request twice gives one order, also under concurrent requests
    (a partial unique constraint decides). The returned order has ``was_created`` set.
    ``location`` may be in any SRID; it is stored in the installation's. Without a ``parcel``,
    the account's parcel is used. The order takes its type's priority (unless ``priority`` is
    given) and is due when its type's SLA says (:mod:`orders.sla`).

    Raises ``WorkOrderError`` for an unknown kind, an empty reason, a location that is not a
    point with an SRID, a ``source_ref`` without ``source``, or an account of another parcel.
    """
    order_type = WorkOrderType.objects.filter(code=kind, active=True).first()
    if order_type is None:
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
    point = storage_point_of(location)

    if source_ref:
        existing = _open_order(source, source_ref)
        if existing is not None:
            existing.was_created = False
            return existing

    now = timezone.now()
    order = WorkOrder(
        number=_next_number(now),
        kind=order_type,
        priority=priority or order_type.priority,
        due_at=sla.due_at(
            start=now, hours=order_type.sla_hours, working_hours=order_type.sla_working_hours
        ),
        asset_ref=(asset_ref or "").strip(),
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


def _refused_transition(order: WorkOrder, wanted: str) -> WorkOrderError:
    return WorkOrderError(
        "transition_not_allowed",
        _("Work order %(number)s cannot change from “%(current)s” to “%(wanted)s”.")
        % {
            "number": order.number,
            "current": WorkOrderStatus(order.status).label,
            "wanted": WorkOrderStatus(wanted).label,
        },
        field="status",
    )


def _lock(order: WorkOrder) -> WorkOrder:
    return WorkOrder.objects.select_for_update().select_related("kind").get(pk=order.pk)


def _move(
    locked: WorkOrder,
    status: str,
    *,
    user,
    at=None,
    position=None,
    note: str = "",
    client_id=None,
    device_id: str = "",
    fields: tuple[str, ...] = (),
) -> WorkOrderStep:
    """Apply an allowed move to a locked order: status, milestone, step row."""
    if status not in ALLOWED_TRANSITIONS.get(locked.status, frozenset()):
        raise _refused_transition(locked, status)
    at = at or timezone.now()
    if at < locked.created_at:
        raise WorkOrderError(
            "step_before_creation",
            _("Work order %(number)s was created at %(created)s; a step cannot come before it.")
            % {"number": locked.number, "created": timezone.localtime(locked.created_at)},
            field="at",
        )
    step = WorkOrderStep.objects.create(
        order=locked,
        from_status=locked.status,
        to_status=status,
        at=at,
        by=user,
        position=position,
        note=(note or "").strip(),
        client_id=client_id,
        device_id=device_id or "",
    )
    locked.status = status
    milestone = MILESTONE[status]
    setattr(locked, milestone, at)
    locked.save(update_fields=["status", milestone, *fields])
    return step


@transaction.atomic
def work_order_status_change(*, order: WorkOrder, status: str, user, reason: str = "") -> WorkOrder:
    """Move a work order to ``status`` from the office: only cancelling goes through here
    (assigning has :func:`work_order_assign`, the field steps :func:`work_order_field_step`).

    Changes: the order's status (and who/when/why), re-read under a row lock so two clerks
    cannot both change it; one step row. Raises ``WorkOrderError`` (``transition_not_allowed``)
    naming the order, its current status and the one asked for; ``status_invalid`` for an
    unknown status.
    """
    if status not in WorkOrderStatus.values:
        raise WorkOrderError(
            "status_invalid",
            _("Unknown work order status: %(status)s.") % {"status": status},
            field="status",
        )
    locked = _lock(order)
    if status != WorkOrderStatus.CANCELLED:
        raise _refused_transition(locked, status)
    locked.cancelled_by = user
    locked.cancel_reason = (reason or "").strip()
    _move(locked, status, user=user, note=reason, fields=("cancelled_by", "cancel_reason"))
    return locked


def work_order_cancel(*, order: WorkOrder, user, reason: str = "") -> WorkOrder:
    """Cancel an open work order; see :func:`work_order_status_change` for what it raises.

    Cancelling frees the order's finding: turning it into a request again makes a new order.
    """
    return work_order_status_change(
        order=order, status=WorkOrderStatus.CANCELLED, user=user, reason=reason
    )


# --- Crews ----------------------------------------------------------------------------------


@transaction.atomic
def work_order_assign(*, order: WorkOrder, crew: Crew, user) -> WorkOrder:
    """Give an order to a crew (or move it to another one before it is on its way).

    Raises ``WorkOrderError``: ``crew_inactive``; ``crew_lacks_skill`` when the crew does not
    know the order type's skill; ``transition_not_allowed`` once the order is en route or later.
    """
    locked = _lock(order)
    if not crew.active:
        raise WorkOrderError(
            "crew_inactive", _("Crew %(crew)s is not active.") % {"crew": crew.code}, field="crew"
        )
    if locked.kind.skill not in crew.skills:
        raise WorkOrderError(
            "crew_lacks_skill",
            _("Crew %(crew)s lacks the skill “%(skill)s” that %(kind)s needs.")
            % {"crew": crew.code, "skill": locked.kind.skill, "kind": locked.kind.display_label},
            field="crew",
        )
    locked.crew = crew
    note = _("Assigned to crew %(crew)s.") % {"crew": crew.code}
    _move(locked, WorkOrderStatus.ASSIGNED, user=user, note=note, fields=("crew",))
    return locked


def crew_open_load(*, day=None) -> dict[int, int]:
    """Open orders per crew (those due ``day`` or earlier, or all when ``day`` is None)."""
    qs = WorkOrder.objects.filter(status__in=OPEN_STATUSES, crew__isnull=False)
    if day is not None:
        qs = qs.filter(due_at__date__lte=day)
    return dict(qs.values_list("crew").annotate(n=Count("id")).values_list("crew", "n"))


def work_order_assign_nearest(*, order: WorkOrder, user) -> WorkOrder:
    """Assign the order to the nearest active crew (from its base) that has the type's skill
    and fewer open orders than its daily capacity. Raises ``WorkOrderError``
    (``no_crew_available``) when none qualifies."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT c.id FROM orders_crew c
                WHERE c.active AND %s = ANY(c.skills)
                  AND (SELECT count(*) FROM orders_workorder o
                        WHERE o.crew_id = c.id
                          AND o.status IN ('assigned', 'en_route', 'in_progress'))
                      < c.daily_capacity
                ORDER BY c.base <-> %s, c.code LIMIT 1""",
            [order.kind.skill, order.location.ewkb],
        )
        found = cur.fetchone()
    if found is None:
        raise WorkOrderError(
            "no_crew_available",
            _("No active crew with the skill “%(skill)s” has room for another order.")
            % {"skill": order.kind.skill},
            field="crew",
        )
    return work_order_assign(order=order, crew=Crew.objects.get(pk=found[0]), user=user)


# --- Field steps -----------------------------------------------------------------------------

FIELD_ACTIONS = {
    "en_route": WorkOrderStatus.EN_ROUTE,
    "check_in": WorkOrderStatus.IN_PROGRESS,
}


def user_crew(user) -> Crew | None:
    membership = getattr(user, "crew_membership", None)
    return membership.crew if membership is not None else None


def crew_member_check(locked: WorkOrder, user) -> None:
    crew = user_crew(user)
    if crew is None or locked.crew_id != crew.pk:
        raise WorkOrderError(
            "not_your_order",
            _("Work order %(number)s is not assigned to your crew.") % {"number": locked.number},
            field="order",
        )


def work_order_field_step(
    *,
    order: WorkOrder,
    action: str,
    user,
    at=None,
    position=None,
    client_id=None,
    device_id: str = "",
    result: str = "",
    note: str = "",
    data: dict | None = None,
    materials: list | None = None,
) -> WorkOrderStep:
    """A step of the crew on site: ``en_route``, ``check_in`` (counts a visit) or ``finish``
    (done or failed, by the result code's kind). One transaction; the order is locked.

    Finishing checks what the order's type requires: a result code; for a job done, the
    required completion data (``data``), photos and signature (uploaded before, see
    :func:`work_order_attachment_add`) and materials (``[{code, quantity}]``). Raises
    ``WorkOrderError`` saying what is missing, ``not_your_order`` for another crew's order,
    ``transition_not_allowed`` for a step the order's state does not allow. A job done is
    reported to the app that asked for it (:data:`COMPLETION_HANDLERS`), in this transaction.
    """
    with transaction.atomic():
        locked = _lock(order)
        crew_member_check(locked, user)
        if action in FIELD_ACTIONS:
            fields: tuple[str, ...] = ()
            if action == "check_in":
                locked.visits += 1
                fields = ("visits",)
            return _move(
                locked,
                FIELD_ACTIONS[action],
                user=user,
                at=at,
                position=position,
                note=note,
                client_id=client_id,
                device_id=device_id,
                fields=fields,
            )
        if action != "finish":
            raise WorkOrderError(
                "action_invalid",
                _("Unknown field step “%(action)s”.") % {"action": action},
                field="action",
            )
        code = ResultCode.objects.filter(code=result or "", active=True).first()
        if code is None:
            raise WorkOrderError(
                "result_required",
                _("Choose how the visit ended (a result code)."),
                field="result",
            )
        status = WorkOrderStatus.DONE if code.success else WorkOrderStatus.FAILED
        if status not in ALLOWED_TRANSITIONS.get(locked.status, frozenset()):
            raise _refused_transition(locked, status)
        data = {k: v for k, v in (data or {}).items() if k in COMPLETION_FIELDS}
        if note:
            data["note"] = note.strip()
        used = _materials(materials or [])
        if status == WorkOrderStatus.DONE:
            _check_required(locked, data=data, materials=used)
        locked.result = code
        locked.completion = data
        for material, quantity in used:
            WorkOrderMaterial.objects.create(order=locked, material=material, quantity=quantity)
        step = _move(
            locked,
            status,
            user=user,
            at=at,
            position=position,
            note=note,
            client_id=client_id,
            device_id=device_id,
            fields=("result", "completion"),
        )
        if status == WorkOrderStatus.DONE:
            _completion_report(locked, user=user)
        return step


def _materials(items: list) -> list[tuple[Material, Decimal]]:
    if not isinstance(items, list):
        items = [None]
    codes = [i.get("code") for i in items if isinstance(i, dict)]
    known = {m.code: m for m in Material.objects.filter(code__in=codes, active=True)}
    used: dict[str, tuple[Material, Decimal]] = {}
    for item in items:
        code = item.get("code") if isinstance(item, dict) else None
        if code not in known:
            raise WorkOrderError(
                "material_unknown",
                _("Unknown material “%(code)s”.") % {"code": code},
                field="materials",
            )
        try:
            quantity = Decimal(str(item.get("quantity")))
        except (InvalidOperation, ValueError):
            quantity = Decimal(0)
        if not quantity.is_finite() or quantity <= 0 or quantity >= Decimal("1e7"):
            raise WorkOrderError(
                "material_quantity",
                _("The quantity of %(code)s must be a positive number.") % {"code": code},
                field="materials",
            )
        if code in used:
            quantity += used[code][1]
        used[code] = (known[code], quantity.quantize(Decimal("0.001")))
    return list(used.values())


def _check_required(order: WorkOrder, *, data: dict, materials: list) -> None:
    missing = []
    kinds = list(order.attachments.values_list("kind", flat=True))
    for name in order.kind.required_fields:
        if name == "materials":
            present = bool(materials)
        elif name == "signature":
            present = AttachmentKind.SIGNATURE in kinds
        else:
            present = str(data.get(name) or "").strip() != ""
        if not present:
            missing.append(str(COMPLETION_FIELDS.get(name, name)))
    photos = kinds.count(AttachmentKind.PHOTO)
    if photos < order.kind.photos_required:
        missing.append(
            _("%(count)d more photo(s)") % {"count": order.kind.photos_required - photos}
        )
    if missing:
        raise WorkOrderError(
            "completion_incomplete",
            _("Work order %(number)s cannot be closed as done yet; missing: %(missing)s.")
            % {"number": order.number, "missing": ", ".join(missing)},
            field="data",
        )


@transaction.atomic
def work_order_attachment_add(
    *, order: WorkOrder, kind: str, client_id, image, user
) -> WorkOrderAttachment:
    """Store a photo or signature of an order, once per client id (a re-sent upload returns
    the stored one). Raises ``WorkOrderError`` for another crew's order or an unknown kind."""
    existing = WorkOrderAttachment.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.order_id != order.pk:
            raise WorkOrderError(
                "client_id_reused",
                _("This upload id belongs to another work order."),
                field="client_id",
            )
        return existing
    if kind not in AttachmentKind.values:
        raise WorkOrderError("attachment_kind", _("Unknown kind of attachment."), field="kind")
    locked = _lock(order)
    crew_member_check(locked, user)
    return WorkOrderAttachment.objects.create(
        order=locked, kind=kind, client_id=client_id, image=image, uploaded_by=user
    )
