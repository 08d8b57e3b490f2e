"""Bulk readings file: one period's readings (up to a million meters) from a CSV file.

The file is for a period code (``2026-03``): each row goes to the period of that code of its
account's billing cycle (which must exist, be open and contain the row's date), so one file
may cover every cycle of the month.

The file (UTF-8, comma or semicolon separated, a header row naming the columns) is loaded with
``COPY`` into a staging table, validated set-based by the very SQL the field sync uses
(:mod:`metering.validation`), and written in one transaction: good rows are stored, every
rejected row is listed with its row number, meter and reason (:class:`IngestRejection`).

Columns (any order; names are case-insensitive, Spanish aliases in brackets):

- ``meter_serial`` [serie, medidor] or ``meter_id``: the meter; one of them is required;
- ``captured_at`` [fecha]: ISO 8601 with UTC offset, e.g. ``2026-03-04T10:15:00-06:00``;
- ``value`` [lectura] and/or ``observation`` [observacion]: as in the field sync;
- optional: ``client_id``, ``device_id``, ``lon``, ``lat``, ``accuracy_m``, ``photo``.

Replays: a file identical to one already loaded (same SHA-256) applies nothing and answers
with the first load's report. A row without ``client_id`` gets one derived from its content
(period, meter, time, value, observation), so the same row in another file is a duplicate, not
a second reading; a corrected row (other value) is a new reading of the same meter in the same
period and is flagged ``conflict`` with the first.

Locking: the file takes ``SHARE ROW EXCLUSIVE`` on the readings table for its transaction, so
field syncs wait for it (and it for them) instead of interleaving with its checks.
"""

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass, field

import psycopg
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from metering.models import IngestBatch, PeriodStatus, ReadingPeriod, ReadingSource
from metering.services import MeteringError
from metering.validation import (
    STAGE_COLUMNS,
    message_sql,
    rejection_templates_sql,
    rules_load,
    stage_create,
    stage_evaluate,
    stage_resolve,
    stage_write,
)

ALIASES = {
    "serie": "meter_serial",
    "serial": "meter_serial",
    "medidor": "meter_serial",
    "lectura": "value",
    "fecha": "captured_at",
    "observacion": "observation",
    "observación": "observation",
    "dispositivo": "device_id",
    "foto": "photo",
    "precision_m": "accuracy_m",
}
CHUNK = 1 << 20
MAX_REPORT_ROWS = 1000


@dataclass
class IngestReport:
    batch: IngestBatch
    replay: bool = False
    rejections: list = field(default_factory=list)  # first MAX_REPORT_ROWS (row, meter, code, msg)

    def as_dict(self) -> dict:
        b = self.batch
        return {
            "batch_id": b.pk,
            "file_name": b.file_name,
            "period": b.period_code,
            "replay": self.replay,
            "rows": b.rows,
            "accepted": b.accepted,
            "duplicates": b.duplicates,
            "rejected": b.rejected,
            "flagged": b.flagged,
            "rejections": [
                {"row": row, "meter": meter, "code": code, "message": message}
                for row, meter, code, message in self.rejections
            ],
        }


def _read_header(fileobj) -> tuple[list[str], str]:
    """The file's columns (mapped to staging names) and its delimiter."""
    fileobj.seek(0)
    first = fileobj.readline()
    fileobj.seek(0)
    if isinstance(first, bytes):
        first = first.decode("utf-8-sig", errors="replace")
    first = first.lstrip("\ufeff").strip("\r\n")
    if not first:
        raise MeteringError("file_empty", _("The file is empty."), field="file")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    names = next(csv.reader([first], delimiter=delimiter))
    columns = []
    for raw in names:
        name = raw.strip().lower()
        name = ALIASES.get(name, name)
        if name not in STAGE_COLUMNS:
            raise MeteringError(
                "file_column_unknown",
                _("Unknown column “%(name)s” in the header. Known columns: %(known)s.")
                % {"name": raw.strip()[:60], "known": ", ".join(STAGE_COLUMNS)},
                field="file",
            )
        if name in columns:
            raise MeteringError(
                "file_column_twice",
                _("The column “%(name)s” appears twice in the header.") % {"name": name},
                field="file",
            )
        columns.append(name)
    if "meter_serial" not in columns and "meter_id" not in columns:
        raise MeteringError(
            "file_no_meter_column",
            _("The file needs a column meter_serial or meter_id."),
            field="file",
        )
    if "captured_at" not in columns:
        raise MeteringError(
            "file_no_time_column", _("The file needs a column captured_at."), field="file"
        )
    if "value" not in columns and "observation" not in columns:
        raise MeteringError(
            "file_no_value_column",
            _("The file needs a column value or observation."),
            field="file",
        )
    return columns, delimiter


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    while chunk := fileobj.read(CHUNK):
        digest.update(chunk if isinstance(chunk, bytes) else chunk.encode())
    fileobj.seek(0)
    return digest.hexdigest()


def _copy(cursor, *, stage: str, columns: list[str], delimiter: str, fileobj) -> None:
    cols = ", ".join(columns)
    sql = (
        f"COPY {stage} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true, "
        f"DELIMITER '{delimiter}', ENCODING 'UTF8')"
    )
    fileobj.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        with cursor.copy(sql) as copy:
            while chunk := fileobj.read(CHUNK):
                if isinstance(chunk, bytes):
                    # Decode here so a non-UTF-8 file fails with our message, not mid-COPY.
                    decoder.decode(chunk)
                copy.write(chunk)
    except UnicodeDecodeError as exc:
        raise MeteringError(
            "file_encoding",
            _("The file is not UTF-8 text (byte %(pos)s): save it as CSV UTF-8.")
            % {"pos": exc.start},
            field="file",
        ) from exc
    except (DatabaseError, psycopg.Error) as exc:
        # COPY stops at the first row it cannot split into the header's columns. (cursor.copy
        # is psycopg's own: its errors arrive unwrapped by Django.)
        where = getattr(exc, "diag", None) or getattr(getattr(exc, "__cause__", None), "diag", None)
        context = (getattr(where, "context", "") or "").splitlines()
        raise MeteringError(
            "file_malformed",
            _("The file is not valid CSV for its header: %(reason)s (%(where)s).")
            % {
                "reason": (getattr(where, "message_primary", "") or str(exc))[:200],
                "where": (context[0] if context else "")[:200],
            },
            field="file",
        ) from exc


@transaction.atomic
def readings_file_ingest(*, period_code: str, fileobj, name: str, user=None) -> IngestReport:
    """Load a readings file for the period ``period_code`` (see the module docstring).

    Changes: one ``IngestBatch``; the accepted rows as readings (source ``file``); conflict
    flags on stored readings of the same meters and period; rechecks of stored readings that
    follow a row in time; one ``IngestRejection`` per rejected row.

    Raises :class:`MeteringError` (nothing written) when no open period has that code, for an
    empty file, an unknown or missing header column, a file that is not UTF-8 or not CSV for
    its header, and (``file_conflict``) when the write collides with stored readings the
    checks did not see.
    """
    period_code = (period_code or "").strip()
    if not ReadingPeriod.objects.filter(code=period_code, status=PeriodStatus.OPEN).exists():
        raise MeteringError(
            "period_not_open",
            _("No billing cycle has an open reading period %(period)s.")
            % {"period": period_code or "-"},
            field="period",
        )
    if isinstance(fileobj, str | bytes):
        fileobj = io.BytesIO(fileobj.encode() if isinstance(fileobj, str) else fileobj)
    columns, delimiter = _read_header(fileobj)
    digest = _sha256(fileobj)
    earlier = IngestBatch.objects.filter(sha256=digest).first()
    if earlier is not None:
        return _report(earlier, replay=True)
    with connection.cursor() as cur:
        cur.execute("LOCK TABLE metering_reading IN SHARE ROW EXCLUSIVE MODE")
        # A million rows are sorted twice (by meter for the rules, by meter and time for the
        # insert): at the default 64 MB both spilled to disk (190 MB). One file at a time
        # holds the lock above, so this memory is taken once.
        cur.execute("SET LOCAL work_mem = '256MB'")
        try:
            with transaction.atomic():
                batch = IngestBatch.objects.create(
                    sha256=digest,
                    file_name=(name or "")[:255],
                    period_code=period_code,
                    uploaded_by=user,
                )
        except IntegrityError:
            # The same file, loaded by someone else while we hashed it.
            return _report(IngestBatch.objects.get(sha256=digest), replay=True)
        stage = stage_create(cur)
        _copy(cur, stage=stage, columns=columns, delimiter=delimiter, fileobj=fileobj)
        cur.execute(f"ANALYZE {stage}")
        stage_resolve(
            cur, stage=stage, period_code=period_code, columns=columns, derive_client_id=True
        )
        cur.execute("ANALYZE metering_cand")
        stage_evaluate(cur, rules=rules_load())
        try:
            inserted = stage_write(
                cur,
                source=ReadingSource.FILE,
                batch_id=batch.pk,
                # Derived ids carry their period, and stage_resolve looked them up among that
                # period's readings under this transaction's table lock; ids a device made may
                # be stored in another period, and only the insert's arbiter looks there.
                ids_checked="client_id" not in columns,
            )
        except IntegrityError as exc:
            # Stored readings no longer match what the checks above read (one moved to
            # another period, say): the whole file is rolled back, the batch with it.
            raise MeteringError(
                "file_conflict",
                _(
                    "Readings already stored conflict with this file (%(error)s); nothing was "
                    "written. Load the file again; if it is refused again, report it."
                )
                % {"error": str(exc).splitlines()[0][:200]},
                field="file",
            ) from exc
        values, params = rejection_templates_sql()
        message = message_sql(
            "tpl.template", meter="c.meter_ref", value="c.reject_detail", period="%s"
        )
        cur.execute(
            f"""INSERT INTO metering_ingestrejection (batch_id, row_no, meter_ref, code, message)
                SELECT %s, c.row_no, left(c.meter_ref, 60), c.reject_code, {message}
                FROM metering_cand c JOIN {values} ON tpl.code = c.reject_code
                WHERE c.reject_code IS NOT NULL
                ORDER BY c.row_no""",  # noqa: S608 (constants; file content is bound or staged)
            [batch.pk, period_code, *params],
        )
        cur.execute(
            """SELECT count(*), count(*) FILTER (WHERE reject_code IS NOT NULL),
                      count(*) FILTER (WHERE reject_code IS NULL AND (dup_id IS NOT NULL
                                                                     OR dup_row))
               FROM metering_cand"""
        )
        rows, rejected, duplicates = cur.fetchone()
        cur.execute("SELECT count(*) FROM metering_eval WHERE cardinality(new_flags) > 0")
        flagged = cur.fetchone()[0]
        evaluated_rows = rows - rejected - duplicates
    batch.rows = rows
    batch.accepted = inserted
    batch.rejected = rejected
    # Rows inserted meanwhile by a field sync with the same client id count as duplicates.
    batch.duplicates = duplicates + (evaluated_rows - inserted)
    batch.flagged = flagged
    batch.save(update_fields=["rows", "accepted", "rejected", "duplicates", "flagged"])
    return _report(batch, replay=False)


def _report(batch: IngestBatch, *, replay: bool) -> IngestReport:
    rows = list(
        batch.rejections.order_by("row_no").values_list("row_no", "meter_ref", "code", "message")[
            :MAX_REPORT_ROWS
        ]
    )
    return IngestReport(batch=batch, replay=replay, rejections=rows)


def rejections_csv(*, batch: IngestBatch, out) -> None:
    """Write the whole rejection report of a file as CSV (row, meter, code, message)."""
    writer = csv.writer(out)
    writer.writerow([_("row"), _("meter"), _("code"), _("message")])
    for row in (
        batch.rejections.order_by("row_no")
        .values_list("row_no", "meter_ref", "code", "message")
        .iterator(chunk_size=5000)
    ):
        writer.writerow(row)
