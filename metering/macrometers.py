"""Macrometer readings: typed by hand, loaded from a CSV file, or pushed by telemetry.

All three go through :func:`macrometer_readings_record`, which checks the whole batch before
writing any of it. A batch is refused as a whole, with every problem listed by line, when:

- a macrometer code is unknown, or the instant is outside the meter's service;
- an instant cannot be read, or lies in the future;
- a register is not a number, is negative, or has more than 3 decimals (litres); a reverse
  register is given for a meter that is not bidirectional;
- the same meter and instant appear twice with different registers, or a stored reading at
  that instant has other registers;
- a register goes down against the readings around it (stored or in the batch): registers
  only grow, and a replaced meter is a new macrometer (see :class:`metering.models.Macrometer`).

Re-sending is harmless: a reading identical to a stored one is counted as a duplicate and not
stored again, and a file or telemetry payload whose content was already imported is
recognised by its SHA-256 and adds nothing (the first import's figures are answered).

Instants without a UTC offset are taken in the utility's time zone (``TIME_ZONE``), which is
what SCADA exports and hand-typed sheets mean. CSV: a header row naming ``macrometer``,
``read_at`` and ``forward_m3`` (``reverse_m3`` optional), comma- or semicolon-separated, UTF-8.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from metering.models import (
    Macrometer,
    MacrometerImport,
    MacrometerReading,
    MacrometerSource,
)
from metering.services import MeteringError

MAX_ERRORS = 100  # listed in one refusal; a file with more is wrong throughout
FUTURE_TOLERANCE = dt.timedelta(minutes=5)  # device clocks run a little ahead
CSV_COLUMNS = ("macrometer", "read_at", "forward_m3")


@dataclass
class MacrometerRow:
    """One reading as received: ``where`` says where it came from (for messages)."""

    where: str
    macrometer: str
    read_at: str | dt.datetime
    forward_m3: str | Decimal
    reverse_m3: str | Decimal | None = None


@dataclass
class MacrometerImportReport:
    batch_id: int | None
    rows: int
    added: int
    duplicates: int
    replay: bool = False


@dataclass
class _Checked:
    position: int  # in the batch, to list problems in the batch's order
    where: str
    macrometer: Macrometer
    read_at: dt.datetime
    forward: Decimal
    reverse: Decimal | None


class MacrometerBatchError(MeteringError):
    """A batch of macrometer readings was refused; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]):
        shown = errors[:MAX_ERRORS]
        more = len(errors) - len(shown)
        message = _("The macrometer readings were not stored: %(count)d problem(s).") % {
            "count": len(errors)
        }
        super().__init__("macrometer_batch_invalid", message)
        self.errors = shown + ([_("… and %(count)d more.") % {"count": more}] if more > 0 else [])


def macrometer_rows_from_csv(content: bytes) -> list[MacrometerRow]:
    """The rows of a CSV file (see the module docstring); raises :class:`MeteringError` for a
    file that is not such a CSV at all."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MeteringError(
            "macrometer_file_encoding",
            _("The file is not UTF-8 text (byte %(position)d).") % {"position": exc.start + 1},
            field="file",
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise MeteringError(
            "macrometer_file_columns",
            _("The file lacks the column(s) %(columns)s; its header must name %(expected)s.")
            % {"columns": ", ".join(missing), "expected": ", ".join(CSV_COLUMNS)},
            field="file",
        )
    reader.fieldnames = header
    rows = []
    for number, record in enumerate(reader, start=2):
        if not any((value or "").strip() for value in record.values() if isinstance(value, str)):
            continue  # blank line
        rows.append(
            MacrometerRow(
                where=_("Line %(line)d") % {"line": number},
                macrometer=(record.get("macrometer") or "").strip(),
                read_at=(record.get("read_at") or "").strip(),
                forward_m3=(record.get("forward_m3") or "").strip(),
                reverse_m3=(record.get("reverse_m3") or "").strip() or None,
            )
        )
    if not rows:
        raise MeteringError("macrometer_file_empty", _("The file has no readings."), field="file")
    return rows


def macrometer_readings_record(
    *,
    rows: list[MacrometerRow],
    source: str,
    user=None,
    content: bytes | None = None,
    name: str = "",
) -> MacrometerImportReport:
    """Check ``rows`` as a whole and store the new readings, in one transaction.

    ``content`` (the file's or payload's bytes) keys the import: the same content again adds
    nothing and answers the first import's figures (``replay``). Manual readings pass no
    content. Raises :class:`MacrometerBatchError` listing every problem (nothing stored), or
    :class:`MeteringError` for an empty batch.
    """
    if source not in MacrometerSource.values:
        raise MeteringError("macrometer_source", _("Unknown source of readings."), field="source")
    if not rows:
        raise MeteringError("macrometer_batch_empty", _("There are no readings to store."))
    digest = hashlib.sha256(content).hexdigest() if content is not None else None
    with transaction.atomic():
        if digest is not None:
            previous = MacrometerImport.objects.filter(sha256=digest).first()
            if previous is not None:
                return _replayed(previous)
        codes = sorted({row.macrometer for row in rows})
        # Lock the meters in pk order: two batches for the same meters check their registers
        # one after the other, so neither can slip a lower register between the other's.
        meters = {
            m.code: m
            for m in Macrometer.objects.filter(code__in=codes).order_by("pk").select_for_update()
        }
        checked, errors = _parse(rows, meters)
        # The rows that parsed are checked against the stored ones too, so one refusal lists
        # every problem of the batch, in the batch's order.
        checked, duplicates, stored_errors = _against_stored(checked)
        if errors or stored_errors:
            ordered = sorted([*errors, *stored_errors], key=lambda e: e[0])
            raise MacrometerBatchError([message for _position, message in ordered])
        batch = None
        if digest is not None:
            batch = MacrometerImport.objects.create(
                source=source,
                name=name[:200],
                sha256=digest,
                rows=len(rows),
                added=len(checked),
                duplicates=duplicates,
                imported_by=user if getattr(user, "is_authenticated", False) else None,
            )
        MacrometerReading.objects.bulk_create(
            [
                MacrometerReading(
                    macrometer=c.macrometer,
                    read_at=c.read_at,
                    forward_m3=c.forward,
                    reverse_m3=c.reverse,
                    source=source,
                    batch=batch,
                    recorded_by=user if getattr(user, "is_authenticated", False) else None,
                )
                for c in checked
            ],
            batch_size=5000,
        )
    return MacrometerImportReport(
        batch_id=batch.pk if batch else None,
        rows=len(rows),
        added=len(checked),
        duplicates=duplicates,
    )


def _replayed(previous: MacrometerImport) -> MacrometerImportReport:
    return MacrometerImportReport(
        batch_id=previous.pk,
        rows=previous.rows,
        added=previous.added,
        duplicates=previous.duplicates,
        replay=True,
    )


def _register(value, *, where: str, label: str, errors: list[str]) -> Decimal | None:
    if value is None or value == "":
        errors.append(
            _("%(where)s: the %(register)s is missing.") % {"where": where, "register": label}
        )
        return None
    try:
        number = Decimal(str(value).strip().replace(" ", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        errors.append(
            _("%(where)s: the %(register)s “%(value)s” is not a number.")
            % {"where": where, "register": label, "value": value}
        )
        return None
    if number < 0:
        errors.append(
            _("%(where)s: the %(register)s cannot be negative (%(value)s).")
            % {"where": where, "register": label, "value": value}
        )
        return None
    if number.as_tuple().exponent < -3 or number >= Decimal("1e11"):
        errors.append(
            _("%(where)s: the %(register)s %(value)s has more than 3 decimals or 11 digits.")
            % {"where": where, "register": label, "value": value}
        )
        return None
    return number


def _instant(value, *, where: str, errors: list[str]) -> dt.datetime | None:
    parsed = value if isinstance(value, dt.datetime) else None
    if parsed is None and isinstance(value, str) and value:
        try:
            parsed = parse_datetime(value.replace(" ", "T", 1) if "T" not in value else value)
        except ValueError:
            parsed = None
    if parsed is None:
        errors.append(
            _("%(where)s: “%(value)s” is not a date and time (use 2026-11-30T08:00:00-06:00).")
            % {"where": where, "value": value}
        )
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    if parsed > timezone.now() + FUTURE_TOLERANCE:
        errors.append(
            _("%(where)s: the instant %(value)s is in the future.")
            % {"where": where, "value": value}
        )
        return None
    return parsed


def _parse(rows: list[MacrometerRow], meters: dict[str, Macrometer]):
    errors: list[tuple[int, str]] = []
    checked: list[_Checked] = []
    seen: dict[tuple[int, dt.datetime], _Checked] = {}
    for position, row in enumerate(rows):
        own: list[str] = []
        meter = meters.get(row.macrometer)
        if meter is None:
            own.append(
                _("%(where)s: there is no macrometer “%(code)s”.")
                % {"where": row.where, "code": row.macrometer}
            )
        read_at = _instant(row.read_at, where=row.where, errors=own)
        forward = _register(
            row.forward_m3, where=row.where, label=_("forward register"), errors=own
        )
        reverse = None
        if row.reverse_m3 not in (None, ""):
            reverse = _register(
                row.reverse_m3, where=row.where, label=_("reverse register"), errors=own
            )
            if meter is not None and not meter.bidirectional and reverse is not None:
                own.append(
                    _(
                        "%(where)s: macrometer “%(code)s” is not bidirectional; it has no reverse register."
                    )
                    % {"where": row.where, "code": meter.code}
                )
        if (
            meter is not None
            and read_at is not None
            and (
                read_at < meter.in_service_from
                or (meter.in_service_until is not None and read_at > meter.in_service_until)
            )
        ):
            own.append(
                _("%(where)s: macrometer “%(code)s” was not in service at %(instant)s.")
                % {"where": row.where, "code": meter.code, "instant": _shown(read_at)}
            )
        if own:
            errors.extend((position, message) for message in own)
            continue
        item = _Checked(position, row.where, meter, read_at, forward, reverse)
        twin = seen.get((meter.pk, read_at))
        if twin is not None:
            if (twin.forward, twin.reverse) != (forward, reverse):
                errors.append(
                    (
                        position,
                        _(
                            "%(where)s: %(other)s gives macrometer “%(code)s” other registers at the same instant."
                        )
                        % {"where": row.where, "other": twin.where, "code": meter.code},
                    )
                )
            continue  # the same reading twice in one batch counts once
        seen[(meter.pk, read_at)] = item
        checked.append(item)
    return checked, errors


def _against_stored(checked: list[_Checked]):
    """Drop readings already stored identically; check instants and register order against
    the stored readings (only those around the batch's span of each meter are read)."""
    errors: list[tuple[int, str]] = []
    by_meter: dict[int, list[_Checked]] = {}
    for item in checked:
        by_meter.setdefault(item.macrometer.pk, []).append(item)
    fresh: list[_Checked] = []
    duplicates = 0
    for meter_id, items in by_meter.items():
        first = min(i.read_at for i in items)
        last = max(i.read_at for i in items)
        stored_qs = MacrometerReading.objects.filter(macrometer_id=meter_id)
        around = list(stored_qs.filter(read_at__gte=first, read_at__lte=last))
        before = stored_qs.filter(read_at__lt=first).order_by("-read_at").first()
        after = stored_qs.filter(read_at__gt=last).order_by("read_at").first()
        stored = {r.read_at: r for r in around}
        # (instant, forward, reverse, where, position in the batch or None for a stored one)
        timeline: list[tuple[dt.datetime, Decimal, Decimal | None, str, int | None]] = [
            (
                r.read_at,
                r.forward_m3,
                r.reverse_m3,
                _("the stored reading of %(instant)s") % {"instant": _shown(r.read_at)},
                None,
            )
            for r in [*around, *(x for x in (before, after) if x is not None)]
        ]
        for item in items:
            existing = stored.get(item.read_at)
            if existing is None:
                fresh.append(item)
                timeline.append(
                    (item.read_at, item.forward, item.reverse, item.where, item.position)
                )
            elif (existing.forward_m3, existing.reverse_m3) == (item.forward, item.reverse):
                duplicates += 1
            else:
                message = _(
                    "%(where)s: macrometer “%(code)s” already has a reading at %(instant)s with other registers (%(stored)s m³)."
                ) % {
                    "where": item.where,
                    "code": item.macrometer.code,
                    "instant": _shown(item.read_at),
                    "stored": existing.forward_m3,
                }
                errors.append((item.position, message))
        timeline.sort(key=lambda t: t[0])
        code = items[0].macrometer.code
        for (_t0, f0, r0, w0, p0), (t1, f1, r1, w1, p1) in itertools.pairwise(timeline):
            if p0 is None and p1 is None:
                continue  # two stored readings: not this batch's doing
            if f1 < f0 or (r0 is not None and r1 is not None and r1 < r0):
                message = _(
                    "%(where)s: the register of macrometer “%(code)s” goes down from %(before)s m³ (%(before_where)s) to %(after)s m³ at %(instant)s; registers only grow."
                ) % {
                    # Blame the batch's reading: stored ones were checked when they came.
                    "where": w1 if p1 is not None else w0,
                    "code": code,
                    "before": f0 if f1 < f0 else r0,
                    "before_where": w0,
                    "after": f1 if f1 < f0 else r1,
                    "instant": _shown(t1),
                }
                errors.append((p1 if p1 is not None else p0, message))
    return fresh, duplicates, errors


def _shown(instant: dt.datetime) -> str:
    return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M")
