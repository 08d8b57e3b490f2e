"""Field completion from the phone, online or after hours offline: a batch of steps.

A batch is ``{"device_id": "...", "steps": [step, …]}``; a step is::

    {"client_id": "<uuid made on the phone>", "order_id": 123,
     "action": "en_route" | "check_in" | "finish",
     "at": "2026-11-30T10:15:00-06:00",            # device time of the step
     "position": {"lon": …, "lat": …} | null,      # WGS 84
     "result": "done", "note": "…",                 # finish only
     "data": {"meter_reading": "1234", …},          # finish: the type's required data
     "materials": [{"code": "COD-13", "quantity": 2}]}

The same rules as meter readings: every step carries a client-made id and is applied once (a
replayed or retried batch answers ``duplicate`` for what already landed); steps are applied in
the order of their ``at`` (a batch assembled out of order lands right); a step for an order
another device already closed is kept, flagged ``conflict`` (the order too, for the office to
decide) and changes nothing; a step the order's state does not allow is ``rejected`` with the
reason and not stored. Photos and signatures go first, one upload each (see
:func:`orders.services.work_order_attachment_add`), so a finish only names what arrived.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gis_core.srid import WGS84, storage_srid
from orders.models import FINISHED_STATUSES, WorkOrder, WorkOrderStatus, WorkOrderStep
from orders.services import WorkOrderError, crew_member_check, work_order_field_step

MAX_STEPS = 500
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass
class StepResult:
    client_id: str
    status: str  # accepted | duplicate | conflict | rejected
    order_status: str = ""
    code: str = ""
    message: str = ""

    def as_dict(self) -> dict:
        return {
            "client_id": self.client_id,
            "status": self.status,
            "order_status": self.order_status,
            "code": self.code,
            "message": self.message,
        }


def _rejected(client_id: str, error: WorkOrderError) -> StepResult:
    return StepResult(client_id, "rejected", code=error.code, message=error.message)


def _parse_step(step) -> tuple[uuid.UUID, int, dt.datetime, Point | None]:
    if not isinstance(step, dict):
        raise WorkOrderError("malformed", _("A step must be an object."))
    try:
        client_id = uuid.UUID(str(step.get("client_id")))
    except ValueError as exc:
        raise WorkOrderError(
            "client_id_invalid", _("Each step needs a client id (a UUID)."), field="client_id"
        ) from exc
    order_id = step.get("order_id")
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        raise WorkOrderError(
            "order_invalid", _("Each step names its order by id."), field="order_id"
        )
    at = parse_datetime(str(step.get("at") or "")) if step.get("at") else None
    if at is None or timezone.is_naive(at):
        raise WorkOrderError(
            "at_invalid",
            _("Each step needs its device time with a UTC offset (ISO 8601)."),
            field="at",
        )
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise WorkOrderError("at_future", _("The step's time is in the future."), field="at")
    position = None
    raw = step.get("position")
    if raw is not None:
        try:
            lon, lat = float(raw["lon"]), float(raw["lat"])
        except (TypeError, KeyError, ValueError) as exc:
            raise WorkOrderError(
                "position_invalid", _("The position needs numeric lon and lat."), field="position"
            ) from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise WorkOrderError(
                "position_invalid", _("The position is outside the world."), field="position"
            )
        position = Point(lon, lat, srid=WGS84)
        position.transform(storage_srid())
    return client_id, order_id, at, position


def orders_field_sync(*, user, batch) -> list[StepResult]:
    """Apply a device's batch of steps (see the module docstring), each in its own savepoint.
    Raises :class:`WorkOrderError` only for a batch that is not a batch (nothing applied)."""
    if not isinstance(batch, dict) or not isinstance(batch.get("steps"), list):
        raise WorkOrderError(
            "batch_invalid", _("Send an object with a list “steps”."), field="steps"
        )
    steps = batch["steps"]
    if not steps:
        raise WorkOrderError("batch_empty", _("The batch has no steps."), field="steps")
    if len(steps) > MAX_STEPS:
        raise WorkOrderError(
            "batch_too_large",
            _("Send at most %(max)s steps at a time.") % {"max": MAX_STEPS},
            field="steps",
        )
    device = str(batch.get("device_id") or "")[:64]
    parsed, results = [], [None] * len(steps)
    for index, step in enumerate(steps):
        raw_id = str(step.get("client_id", "")) if isinstance(step, dict) else ""
        try:
            parsed.append((index, *_parse_step(step)))
        except WorkOrderError as error:
            results[index] = _rejected(raw_id, error)
    # Device time order; the batch's own order breaks ties.
    parsed.sort(key=lambda p: (p[3], p[0]))
    for index, client_id, order_id, at, position in parsed:
        results[index] = _apply(
            user=user,
            step=steps[index],
            client_id=client_id,
            order_id=order_id,
            at=at,
            position=position,
            device=device,
        )
    return results


def _apply(*, user, step, client_id, order_id, at, position, device) -> StepResult:
    cid = str(client_id)
    stored = WorkOrderStep.objects.filter(client_id=client_id).select_related("order").first()
    if stored is not None:
        return StepResult(cid, "duplicate", order_status=stored.order.status)
    order = WorkOrder.objects.filter(pk=order_id).first()
    if order is None:
        return _rejected(
            cid,
            WorkOrderError(
                "order_unknown", _("Work order %(id)s does not exist.") % {"id": order_id}
            ),
        )
    try:
        with transaction.atomic():
            work_order_field_step(
                order=order,
                action=str(step.get("action") or ""),
                user=user,
                at=at,
                position=position,
                client_id=client_id,
                device_id=device,
                result=str(step.get("result") or ""),
                note=str(step.get("note") or ""),
                data=step.get("data") if isinstance(step.get("data"), dict) else {},
                materials=step.get("materials") or [],
            )
    except WorkOrderError as error:
        if error.code == "transition_not_allowed":
            return _conflict_or_rejected(user, order, step, client_id, at, position, device, error)
        return _rejected(cid, error)
    except IntegrityError:
        # The same client id landed through another request in the meantime: applied once.
        stored = WorkOrderStep.objects.filter(client_id=client_id).select_related("order").first()
        if stored is None:
            raise
        return StepResult(cid, "duplicate", order_status=stored.order.status)
    order.refresh_from_db(fields=["status"])
    return StepResult(cid, "accepted", order_status=order.status)


def _conflict_or_rejected(user, order, step, client_id, at, position, device, error):
    """A step for an order already closed by someone else is kept as a conflict; any other
    step the state does not allow is refused."""
    cid = str(client_id)
    with transaction.atomic():
        locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
        try:
            crew_member_check(locked, user)
        except WorkOrderError as not_member:
            return _rejected(cid, not_member)
        closed_by_other = (
            locked.status in (*FINISHED_STATUSES, WorkOrderStatus.CANCELLED)
            and step.get("action") == "finish"
        )
        if not closed_by_other:
            return _rejected(cid, error)
        WorkOrderStep.objects.create(
            order=locked,
            from_status=locked.status,
            to_status=locked.status,
            at=at,
            by=user,
            position=position,
            note=str(step.get("note") or ""),
            client_id=client_id,
            device_id=device,
            conflict=True,
        )
        locked.conflict = True
        locked.save(update_fields=["conflict"])
    return StepResult(
        cid,
        "conflict",
        order_status=locked.status,
        code="conflict",
        message=_(
            "Work order %(number)s was already closed by another device; both are kept for the office to review."
        )
        % {"number": locked.number},
    )
