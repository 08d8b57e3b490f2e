"""Writes of metering: field sync of readings, photos, review decisions, meter changes,
reading periods and assignments.

Field capture contract — ``sync_readings(*, user, batch) -> SyncResult``
========================================================================

What the field app sends (``POST /api/metering/sync/`` passes the parsed JSON body as
``batch``; the service validates every item itself, so one bad item never blocks the rest)::

    {
      "device_id": "tablet-07",                 # optional default for the items (≤ 64 chars)
      "readings": [                              # 1 … SYNC_MAX_ITEMS (5,000) items
        {
          "client_id": "3f1c…-uuid",            # REQUIRED, made on the device, never reused:
                                                 # the idempotency key of the reading
          "meter_id": 123,                       # the meter: meter_id or meter_serial
          "meter_serial": "CIC-000000123",
          "value": "1234.5",                    # m³ on the dials (string or number, ≥ 0, at
                                                 # most 3 decimals, below 10^dials); null when
                                                 # an observation says there is no reading
          "observation": "no_access",           # code of the catalog (GET …/observations/) or
                                                 # null: no_access, house_closed, dog,
                                                 # meter_not_found, illegible, broken_meter,
                                                 # leak, tampered, buried
          "photo": true,                         # a photo was taken; upload it afterwards with
                                                 # reading_photo_attach (POST …/readings/photo/,
                                                 # multipart: client_id + file); default false
          "position": {"lon": -100.81, "lat": 20.53},   # WGS 84, or null
          "accuracy_m": 8.5,                     # of the position, metres, or null
          "captured_at": "2026-03-04T10:15:00-06:00",  # device time, ISO 8601 WITH offset
          "device_id": "tablet-07"               # optional, overrides the batch's
        }
      ]
    }

What comes back (:class:`SyncResult`, as JSON by the API), one result per item, in order::

    {"results": [
        {"client_id": "3f1c…", "status": "accepted", "reading_id": 991,
         "flags": ["gps_far"], "code": "", "message": ""},
        {"client_id": "9a0b…", "status": "duplicate", "reading_id": 990,
         "flags": [], "code": "", "message": ""},
        {"client_id": "77de…", "status": "rejected", "reading_id": null, "flags": [],
         "code": "unknown_meter", "message": "<translated: what is wrong and where>"}
     ],
     "accepted": 1, "duplicate": 1, "rejected": 1}

- ``accepted``: stored now. ``flags`` are the codes of the rules it tripped
  (:class:`metering.models.RuleCode`: below_previous, zero_consumption, high_consumption,
  gps_far, photo_missing, conflict, observation); a flagged reading waits for review in the
  office. The device marks it synced either way.
- ``duplicate``: a reading with this ``client_id`` was stored before (a retried or replayed
  sync): nothing is written; ``reading_id`` and ``flags`` are the stored reading's. Mark it
  synced. The same item sent twice in one batch: the second is a duplicate of the first.
- ``rejected``: not stored; ``code`` is stable (see :data:`REJECTION_CODES`), ``message``
  translated into the user's language. Resending the same item gives the same rejection unless
  what caused it changed (e.g. the office opened the period). Keep it on the device and show it.

Never in the answer (the reader must not see what is expected): previous readings, consumption,
averages, thresholds. A reading of a meter already read in the same period by another device
(or twice by one) is stored and both are flagged ``conflict``; nothing is overwritten.
Consumption follows the readings' ``captured_at`` order, not their arrival order.

Errors of the whole batch (not a list, too many items, not a dict) raise :class:`MeteringError`
and nothing is written. The batch is one transaction.

Photos: ``reading_photo_attach(*, user, client_id, photo)`` stores the image of a reading the
same user synced (JPEG, PNG or WebP, at most ``PHOTO_MAX_BYTES``); a second upload for the same
reading is ignored and answers like the first (idempotent).

The reader's route: :func:`metering.selectors.reader_assignments` (assignments of a user) and
:func:`metering.selectors.assignment_meters` (meters of a book: id, serial, account number,
address, location; nothing about consumption).
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.roles import METER_READER
from metering.models import (
    Meter,
    MeterChange,
    MeterStatus,
    PeriodStatus,
    Reading,
    ReadingAssignment,
    ReadingKind,
    ReadingPeriod,
    ReadingSource,
    ReadingStatus,
)
from metering.validation import (
    STAGE_COLUMNS,
    chain_successors,
    readings_recheck,
    rejection_message,
    rules_load,
    stage_create,
    stage_evaluate,
    stage_resolve,
    stage_write,
)

SYNC_MAX_ITEMS = 5000
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")

# Advisory-free locking order of every write of readings: the readings table (ROW EXCLUSIVE;
# the bulk file takes SHARE ROW EXCLUSIVE, so files and syncs take turns), then meter rows by
# id (FOR NO KEY UPDATE: two syncs of one meter take turns; foreign-key checks still pass).
_LOCK_READINGS = "LOCK TABLE metering_reading IN ROW EXCLUSIVE MODE"


class MeteringError(DomainError):
    """A metering operation was refused; nothing was written. ``code`` is stable, ``message``
    translated; ``field`` names the input at fault, when one is."""


# --- Field sync ----------------------------------------------------------------------------


@dataclass
class SyncItemResult:
    client_id: str
    status: str  # accepted | duplicate | rejected
    reading_id: int | None = None
    flags: list = field(default_factory=list)
    code: str = ""
    message: str = ""

    def as_dict(self) -> dict:
        return {
            "client_id": self.client_id,
            "status": self.status,
            "reading_id": self.reading_id,
            "flags": list(self.flags),
            "code": self.code,
            "message": self.message,
        }


@dataclass
class SyncResult:
    results: list[SyncItemResult]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def as_dict(self) -> dict:
        return {
            "results": [r.as_dict() for r in self.results],
            "accepted": self.count("accepted"),
            "duplicate": self.count("duplicate"),
            "rejected": self.count("rejected"),
        }


def _text(value) -> str | None:
    """An item's field as the staging table's text (None stays NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # repr keeps every digit the device sent; the SQL rejects more than 3 decimals.
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    return "\x00invalid"  # lists/objects: the SQL finds no pattern in it and says so


def _position_text(position) -> tuple[str | None, str | None]:
    if position is None:
        return None, None
    if not isinstance(position, dict):
        return "\x00invalid", "\x00invalid"
    return _text(position.get("lon")), _text(position.get("lat"))


def _batch_items(batch) -> tuple[list, str]:
    if isinstance(batch, list):
        batch = {"readings": batch}
    if not isinstance(batch, dict) or not isinstance(batch.get("readings"), list):
        raise MeteringError(
            "batch_invalid",
            _("Send an object with a list “readings” of readings."),
            field="readings",
        )
    items = batch["readings"]
    if not items:
        raise MeteringError("batch_empty", _("The batch has no readings."), field="readings")
    if len(items) > SYNC_MAX_ITEMS:
        raise MeteringError(
            "batch_too_large",
            _("The batch has %(count)s readings; send at most %(max)s at a time.")
            % {"count": len(items), "max": SYNC_MAX_ITEMS},
            field="readings",
        )
    device = batch.get("device_id") or ""
    if not isinstance(device, str):
        raise MeteringError("device_invalid", _("The device id must be text."), field="device_id")
    return items, device


def _lock_meters(cursor, *, ids: list[int], serials: list[str]) -> None:
    cursor.execute(
        """SELECT m.id FROM metering_meter m
            WHERE m.id IN (SELECT id FROM metering_meter WHERE id = ANY(%s)
                           UNION SELECT id FROM metering_meter WHERE serial = ANY(%s))
            ORDER BY m.id FOR NO KEY UPDATE""",
        [ids, serials],
    )


@transaction.atomic
def sync_readings(*, user, batch) -> SyncResult:
    """Store a field device's batch of readings, each once (see the module docstring).

    Changes: inserts the accepted readings (source ``field``, reader ``user``) with their
    consumption and flags; flags ``conflict`` on stored readings of the same meter and period;
    rechecks stored readings that now follow a late-arriving one in their meter's chain.
    Raises :class:`MeteringError` when the batch itself is malformed (nothing is written);
    a bad item is rejected alone.
    """
    items, device = _batch_items(batch)
    results: list[SyncItemResult | None] = [None] * len(items)
    rows, ids, serials = [], [], []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            results[index] = SyncItemResult(
                client_id="",
                status="rejected",
                code="malformed",
                message=rejection_message("malformed"),
            )
            continue
        lon, lat = _position_text(item.get("position"))
        meter_id, serial = _text(item.get("meter_id")), _text(item.get("meter_serial"))
        if meter_id and meter_id.isdigit() and len(meter_id) <= 18:
            ids.append(int(meter_id))
        if serial:
            serials.append(serial.strip())
        rows.append(
            (
                index + 1,
                _text(item.get("client_id")),
                meter_id,
                serial,
                _text(item.get("value")),
                _text(item.get("observation")),
                _text(item.get("photo", False)),
                lon,
                lat,
                _text(item.get("accuracy_m")),
                _text(item.get("captured_at")),
                _text(item.get("device_id") or device),
            )
        )
    if rows:
        _sync_rows(user=user, rows=rows, ids=ids, serials=serials, results=results)
    return SyncResult(results=results)


def _sync_rows(*, user, rows, ids, serials, results) -> None:
    with connection.cursor() as cur:
        cur.execute(_LOCK_READINGS)
        stage = stage_create(cur)
        columns = ", ".join(("row_no", *STAGE_COLUMNS))
        with cur.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
            for row in rows:
                # NUL cannot travel in COPY text; it only marks a value of the wrong JSON type.
                copy.write_row([v.replace("\x00", "") if isinstance(v, str) else v for v in row])
        _lock_meters(cur, ids=ids, serials=serials)
        rules = rules_load()
        stage_resolve(cur, stage=stage)
        stage_evaluate(cur, rules=rules)
        inserted = stage_write(cur, source=ReadingSource.FIELD, reader_id=user.pk, returning=True)
        cur.execute(
            """SELECT c.row_no, c.raw_client_id, c.client_id::text, c.meter_ref, c.reject_code,
                      c.reject_detail, c.period_code, r.id, r.flags
                 FROM metering_cand c
                 LEFT JOIN metering_reading r ON r.client_id = c.client_id
                ORDER BY c.row_no"""
        )
        for row_no, raw_cid, cid, meter, code, detail, period, reading_id, flags in cur:
            index = row_no - 1
            if code:
                results[index] = SyncItemResult(
                    client_id=raw_cid or "",
                    status="rejected",
                    code=code,
                    message=rejection_message(code, meter=meter, value=detail, period=period),
                )
            elif cid in inserted:
                inserted.discard(cid)  # a repeat later in the batch is a duplicate
                results[index] = SyncItemResult(
                    client_id=cid, status="accepted", reading_id=reading_id, flags=flags or []
                )
            else:
                results[index] = SyncItemResult(
                    client_id=cid, status="duplicate", reading_id=reading_id, flags=flags or []
                )


# --- Photos --------------------------------------------------------------------------------


@transaction.atomic
def reading_photo_attach(*, user, client_id, photo: UploadedFile) -> Reading:
    """Store the photo of a reading the same user synced; idempotent.

    Changes: ``Reading.photo`` when the reading has none yet (a second upload is ignored and
    the reading returned as it is). Raises :class:`MeteringError` for an unknown client id, a
    reading of another reader, or a file that is not a JPEG/PNG/WebP image of at most
    ``PHOTO_MAX_BYTES``. The photo does not change the reading's flags: ``photo_missing`` was
    decided by the ``photo`` field of the synced item.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        key = uuid.UUID(str(client_id))
    except ValueError:
        raise MeteringError(
            "client_id_invalid",
            rejection_message("client_id_invalid", value=str(client_id)[:60]),
            field="client_id",
        ) from None
    reading = Reading.objects.select_for_update().filter(client_id=key).first()
    if reading is None:
        raise MeteringError(
            "unknown_reading",
            _("No reading with client id %(client_id)s was synced: sync it before its photo.")
            % {"client_id": key},
            field="client_id",
        )
    if reading.reader_id != user.pk:
        raise MeteringError(
            "not_your_reading",
            _("Reading %(client_id)s was captured by another reader.") % {"client_id": key},
            field="client_id",
        )
    if reading.photo:
        return reading
    if photo.size > PHOTO_MAX_BYTES:
        raise MeteringError(
            "photo_too_large",
            _("The photo has %(size)s bytes; at most %(max)s are accepted.")
            % {"size": photo.size, "max": PHOTO_MAX_BYTES},
            field="photo",
        )
    try:
        image = Image.open(photo)
        image.verify()
        kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError):
        kind = None
    if kind not in PHOTO_FORMATS:
        raise MeteringError(
            "photo_invalid", _("The photo must be a JPEG, PNG or WebP image."), field="photo"
        )
    photo.seek(0)
    reading.photo.save(f"{key}.{kind.lower()}", photo, save=False)
    reading.save(update_fields=["photo"])
    return reading


# --- Review --------------------------------------------------------------------------------


class ReviewAction:
    ACCEPT = "accept"
    REJECT = "reject"
    REREAD = "reread"
    INSPECT = "inspect"
    ALL = (ACCEPT, REJECT, REREAD, INSPECT)


# action → (statuses it may start from, status it leads to)
_REVIEW_TRANSITIONS = {
    ReviewAction.ACCEPT: ((ReadingStatus.FLAGGED,), ReadingStatus.ACCEPTED),
    ReviewAction.REJECT: (
        (ReadingStatus.VALID, ReadingStatus.FLAGGED, ReadingStatus.ACCEPTED),
        ReadingStatus.REJECTED,
    ),
    ReviewAction.REREAD: ((ReadingStatus.VALID, ReadingStatus.FLAGGED), ReadingStatus.REREAD),
}


def _lock_reading(reading_id: int) -> Reading:
    with connection.cursor() as cur:
        cur.execute(_LOCK_READINGS)
        cur.execute("SELECT meter_id FROM metering_reading WHERE id = %s", [reading_id])
        row = cur.fetchone()
        if row is None:
            raise MeteringError("unknown_reading", _("The reading does not exist."))
        cur.execute("SELECT id FROM metering_meter WHERE id = %s FOR NO KEY UPDATE", [row[0]])
    return Reading.objects.select_for_update().select_related("meter", "account").get(pk=reading_id)


@transaction.atomic
def reading_review(*, reading: Reading, action: str, user, note: str = "") -> Reading:
    """Decide on a reading: ``accept``, ``reject`` or ``reread`` (ask for another reading).

    Changes: the reading's status and review fields. A rejected reading, or one sent for
    re-reading, leaves its meter's chain: the next reading's consumption and chain flags are
    recomputed. Raises :class:`MeteringError` for an unknown action or a transition that is
    not allowed (e.g. accepting a reading that is not flagged).
    """
    if action not in _REVIEW_TRANSITIONS:
        raise MeteringError(
            "action_invalid",
            _("Unknown review action: %(action)s.") % {"action": action},
            field="action",
        )
    locked = _lock_reading(reading.pk)
    allowed, target = _REVIEW_TRANSITIONS[action]
    if locked.status not in allowed:
        raise MeteringError(
            "transition_not_allowed",
            _("Reading %(id)s is “%(current)s”: it cannot be changed to “%(wanted)s”.")
            % {
                "id": locked.pk,
                "current": ReadingStatus(locked.status).label,
                "wanted": ReadingStatus(target).label,
            },
            field="action",
        )
    leaves_chain = target in (ReadingStatus.REJECTED, ReadingStatus.REREAD)
    with connection.cursor() as cur:
        successors = (
            chain_successors(cur, reading_ids=[locked.pk])
            if leaves_chain and locked.value is not None
            else []
        )
    locked.status = target
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = user
    locked.review_note = (note or "").strip()
    locked.save(update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    if successors:
        with connection.cursor() as cur:
            readings_recheck(cur, reading_ids=successors)
    return locked


METERING_REVIEW_SOURCE = "metering_review"


@transaction.atomic
def reading_inspection_open(*, reading: Reading, user, reason: str = "") -> Reading:
    """Open an inspection work order for a flagged reading (one per reading: asking twice
    returns the same open order). The reading stays in the review queue until decided.

    Changes: a ``WorkOrder`` through :func:`orders.services.work_order_create` and the
    reading's ``work_order``. Raises :class:`MeteringError` for an order refused by orders.
    """
    from orders.models import WorkOrderKind
    from orders.services import WorkOrderError, work_order_create

    locked = _lock_reading(reading.pk)
    meter = locked.meter
    account = locked.account
    flags = ", ".join(locked.flags) or "-"
    text = (reason or "").strip() or _(
        "Check meter %(serial)s of account %(account)s: reading of %(date)s flagged (%(flags)s)."
    ) % {
        "serial": meter.serial,
        "account": account.number,
        "date": timezone.localtime(locked.captured_at).date().isoformat(),
        "flags": flags,
    }
    try:
        order = work_order_create(
            kind=WorkOrderKind.INSPECTION,
            reason=text,
            location=meter.location or account.service_point,
            account=account,
            source=METERING_REVIEW_SOURCE,
            source_ref=f"reading:{locked.pk}",
            user=user,
        )
    except WorkOrderError as exc:
        raise MeteringError(exc.code, exc.message, field=exc.field) from exc
    if locked.work_order_id != order.pk:
        locked.work_order = order
        locked.save(update_fields=["work_order"])
    return locked


# --- Meter changes -------------------------------------------------------------------------


def _value_check(meter: Meter, value, label: str):
    from decimal import Decimal, InvalidOperation

    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0 or number != round(number, 3):
        raise MeteringError(
            "value_invalid",
            _("The %(label)s of meter %(serial)s must be a number ≥ 0 with at most 3 decimals.")
            % {"label": label, "serial": meter.serial},
        )
    if number >= 10**meter.dials:
        raise MeteringError(
            "value_too_large",
            rejection_message("value_too_large", meter=meter.serial, value=str(number)),
        )
    return number


def _period_for(account, at: datetime):
    day = timezone.localtime(at).date()
    return ReadingPeriod.objects.filter(
        cycle=account.billing_cycle, starts_on__lte=day, ends_on__gte=day
    ).first()


@transaction.atomic
def meter_change(
    *,
    account,
    user,
    changed_at: datetime,
    removal_value=None,
    new_meter: Meter | None = None,
    installation_value=None,
    reason: str = "",
) -> MeterChange:
    """Take the account's installed meter off (with its removal reading) and/or put
    ``new_meter`` on (with its installation reading).

    Changes: one ``MeterChange``; the old meter becomes ``removed`` (removed_on set), the new
    one ``installed`` on the account; a ``removal`` reading closes the old meter's chain (its
    consumption is counted in the period), an ``installation`` reading opens the new one's
    (consumption 0). Meters are locked in id order.

    Raises :class:`MeteringError`: naive ``changed_at``; nothing to do; a removal without a
    value, or a value below the meter's last reading (unless the dials wrapped); a new meter
    that is not in stock; a change dated before the old meter's last reading.
    """
    if timezone.is_naive(changed_at):
        raise MeteringError(
            "changed_at_naive", _("The time of the change needs its time zone."), field="changed_at"
        )
    if changed_at > timezone.now() + timedelta(minutes=10):
        raise MeteringError(
            "changed_at_future", _("The meter change is dated in the future."), field="changed_at"
        )
    with connection.cursor() as cur:
        cur.execute(_LOCK_READINGS)
    ids = list(
        Meter.objects.filter(account=account, status=MeterStatus.INSTALLED).values_list(
            "pk", flat=True
        )
    )
    if new_meter is not None:
        ids.append(new_meter.pk)
    locked = {
        m.pk: m
        for m in Meter.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    }
    old = next(
        (
            m
            for m in locked.values()
            if m.account_id == account.pk and m.status == MeterStatus.INSTALLED
        ),
        None,
    )
    new = locked.get(new_meter.pk) if new_meter is not None else None
    if old is None and new is None:
        raise MeteringError(
            "nothing_to_change",
            _("Account %(account)s has no installed meter and no new meter was given.")
            % {"account": account.number},
        )
    if new is not None and new.status != MeterStatus.IN_STOCK:
        raise MeteringError(
            "meter_not_in_stock",
            _("Meter %(serial)s is not in stock (it is “%(status)s”).")
            % {"serial": new.serial, "status": MeterStatus(new.status).label},
            field="new_meter",
        )
    period = _period_for(account, changed_at)
    change = MeterChange(
        account=account, changed_at=changed_at, reason=reason or "", created_by=user
    )
    day = timezone.localtime(changed_at).date()
    removal = None
    if old is not None:
        if removal_value is None:
            raise MeteringError(
                "removal_value_required",
                _("Give the reading of meter %(serial)s when it was removed.")
                % {"serial": old.serial},
                field="removal_value",
            )
        value = _value_check(old, removal_value, _("removal reading"))
        later = old.readings.filter(captured_at__gt=changed_at, value__isnull=False).exists()
        if later:
            raise MeteringError(
                "change_before_last_reading",
                _("Meter %(serial)s has readings after %(date)s: date the change later.")
                % {"serial": old.serial, "date": timezone.localtime(changed_at).isoformat()},
                field="changed_at",
            )
        removal = Reading.objects.create(
            client_id=uuid.uuid4(),
            meter=old,
            account=account,
            period=period,
            kind=ReadingKind.REMOVAL,
            source=ReadingSource.OFFICE,
            value=value,
            captured_at=changed_at,
            reader=user,
            status=ReadingStatus.VALID,
        )
        with connection.cursor() as cur:
            readings_recheck(cur, reading_ids=[removal.pk])
        removal.refresh_from_db(fields=["consumption", "rollover"])
        if removal.consumption is not None and removal.consumption < 0:
            raise MeteringError(
                "removal_below_previous",
                _("The removal reading %(value)s of meter %(serial)s is below its last reading.")
                % {"value": value, "serial": old.serial},
                field="removal_value",
            )
        old.status = MeterStatus.REMOVED
        old.removed_on = day
        old.save(update_fields=["status", "removed_on"])
        change.removed_meter = old
        change.removal_reading = removal
    if new is not None:
        value = _value_check(new, installation_value or 0, _("installation reading"))
        new.account = account
        new.status = MeterStatus.INSTALLED
        new.installed_on = day
        new.removed_on = None
        new.save(update_fields=["account", "status", "installed_on", "removed_on"])
        change.installed_meter = new
        change.installation_reading = Reading.objects.create(
            client_id=uuid.uuid4(),
            meter=new,
            account=account,
            period=period,
            kind=ReadingKind.INSTALLATION,
            source=ReadingSource.OFFICE,
            value=value,
            captured_at=changed_at,
            reader=user,
            consumption=0,
            status=ReadingStatus.VALID,
        )
    change.save()
    return change


# --- Periods and assignments -------------------------------------------------------------


@transaction.atomic
def reading_period_create(*, cycle: str, code: str, starts_on: date, ends_on: date):
    """Open a reading period of a billing cycle. Raises :class:`MeteringError` when the dates
    are reversed, the code is taken or the dates overlap another period of the cycle."""
    cycle, code = (cycle or "").strip(), (code or "").strip()
    if not cycle or not code:
        raise MeteringError("period_invalid", _("Give the period a cycle and a code."))
    if starts_on > ends_on:
        raise MeteringError(
            "period_dates",
            _("The period ends (%(end)s) before it starts (%(start)s).")
            % {"end": ends_on, "start": starts_on},
            field="ends_on",
        )
    try:
        with transaction.atomic():
            return ReadingPeriod.objects.create(
                cycle=cycle, code=code, starts_on=starts_on, ends_on=ends_on
            )
    except IntegrityError as exc:
        if "readingperiod_no_overlap" in str(exc):
            raise MeteringError(
                "period_overlap",
                _("The dates %(start)s to %(end)s overlap another period of cycle %(cycle)s.")
                % {"start": starts_on, "end": ends_on, "cycle": cycle},
            ) from exc
        raise MeteringError(
            "period_code_taken",
            _("Cycle %(cycle)s already has a period %(code)s.") % {"cycle": cycle, "code": code},
            field="code",
        ) from exc


@transaction.atomic
def reading_period_close(*, period: ReadingPeriod) -> ReadingPeriod:
    """Close a period (no more readings are accepted for it) and compute its accounts'
    consumption in a Celery task after commit. Closing a closed period changes nothing."""
    from metering.tasks import consumption_compute_task

    locked = ReadingPeriod.objects.select_for_update().get(pk=period.pk)
    if locked.status != PeriodStatus.CLOSED:
        locked.status = PeriodStatus.CLOSED
        locked.save(update_fields=["status"])
        transaction.on_commit(lambda: consumption_compute_task.delay(locked.pk))
    return locked


@transaction.atomic
def reading_assignment_set(*, period, book, reader, scheduled_on: date) -> ReadingAssignment:
    """Give ``reader`` the reading of ``book`` in ``period`` on ``scheduled_on`` (replacing
    any earlier assignment of the book in the period). Raises :class:`MeteringError` when the
    area is not a book, the user is not a meter reader or the day is outside the period."""
    if getattr(book, "level", None) != "book":
        raise MeteringError(
            "not_a_book", _("%(area)s is not a reading book.") % {"area": book}, field="book"
        )
    if not reader.groups.filter(name=METER_READER).exists():
        raise MeteringError(
            "not_a_reader",
            _("%(user)s is not a meter reader.") % {"user": reader.get_username()},
            field="reader",
        )
    if not period.starts_on <= scheduled_on <= period.ends_on:
        raise MeteringError(
            "outside_period",
            _("%(day)s is outside the period %(period)s (%(start)s to %(end)s).")
            % {
                "day": scheduled_on,
                "period": period.code,
                "start": period.starts_on,
                "end": period.ends_on,
            },
            field="scheduled_on",
        )
    assignment, _created = ReadingAssignment.objects.select_for_update().update_or_create(
        period=period, book=book, defaults={"reader": reader, "scheduled_on": scheduled_on}
    )
    return assignment


def user_is_meter_reader(user) -> bool:
    """Meter readers never see expected values (previous readings, consumption, averages)."""
    return Group.objects.filter(name=METER_READER, user=user).exists()
