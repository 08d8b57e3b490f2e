"""Bank collection files: what a bank collected at its branches for the utility, posted as
payments (channel ``bank``, method ``"03"`` transfer).

The layout (one per bank agreement; every bank of the utility sends this one)
------------------------------------------------------------------------------

A CSV text file, UTF-8 (a byte-order mark is tolerated), comma separated, one payment a line,
lines ending in LF or CRLF. The first line is exactly this header::

    referencia,importe,fecha,hora,sucursal,autorizacion

then one line per payment, e.g.::

    0000000042260476,1234.50,15/04/2026,13:45:10,0123,A1B2C3D4

==============  ====================================================================
column          content
==============  ====================================================================
referencia      the bill's payment reference: 16 digits (account 10, period YYMM,
                then two ISO 7064 MOD 97-10 check digits: the whole number
                modulo 97 is 1)
importe         the amount paid, pesos with a point and exactly two decimals, > 0,
                no thousands separator (``1234.50``)
fecha           the day paid, ``DD/MM/AAAA``
hora            the time paid, ``HH:MM:SS`` (24 h), the utility's local time
                (``TIME_ZONE``)
sucursal        the bank branch (free text, up to 20 characters, may be empty)
autorizacion    the bank's authorization number: 1 to 40 letters or digits, unique
                per bank — the key that makes a payment post once
==============  ====================================================================

Blank lines are ignored. The bank is not in the file: the clerk picks it when uploading.

How a file is imported (:func:`bank_file_import`)
-------------------------------------------------

- **All or nothing.** The whole file is parsed and validated first: a bad header, an unknown or
  mistyped reference (check digits), a bad amount, date or time, a missing authorization, an
  authorization repeated inside the file. If any line is wrong NOTHING is posted and every
  error is reported with its line number; the clerk asks the bank for a corrected file. (A bank
  file is a deposit the bank made as a whole: half of it posted is harder to reconcile than
  none of it.)
- **Once per file.** The SHA-256 of the bytes is unique: a file imported before is answered
  "already imported on … by …" and posts nothing.
- **Once per line.** A line whose (bank, authorization) was posted from another file (the bank
  re-sent it in the next day's file) is reported as a duplicate and skipped; the other lines
  post.
- One transaction per file. Lines post in account order (the per-account locks are then
  always taken in one order, so two files imported at once cannot deadlock).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from billing.models import Bill
from billing.payments.errors import PaymentError
from billing.payments.models import BankFile, BankFileLine, Channel, Method
from billing.payments.selectors import reference_is_valid
from billing.payments.services import payment_post

HEADER = ["referencia", "importe", "fecha", "hora", "sucursal", "autorizacion"]
AMOUNT_RE = re.compile(r"^\d{1,11}\.\d{2}$")
AUTHORIZATION_RE = re.compile(r"^[A-Za-z0-9]{1,40}$")
BANK_RE = re.compile(r"^[A-Za-z0-9_-]{1,10}$")


class BankFileError(PaymentError):
    """A file refused as a whole; ``errors``: ``[{"line": n, "field": …, "message": …}]``."""

    def __init__(self, code, message, *, errors=None, status=422):
        super().__init__(code, message, status=status)
        self.errors = errors or []


@dataclass
class ParsedLine:
    line_number: int
    reference: str
    amount: Decimal
    paid_at: dt.datetime
    branch: str
    authorization: str
    account_id: int = 0


@dataclass
class ImportResult:
    file: BankFile
    posted: list[BankFileLine] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)


def _error(line: int, column: str, message) -> dict:
    return {"line": line, "field": column, "message": str(message)}


def bank_file_parse(content: bytes) -> tuple[list[ParsedLine], list[dict]]:
    """Parse and validate every line (the layout above). Returns the lines and the errors
    (``line`` 0: the file as a whole); unknown references are looked up here too."""
    errors: list[dict] = []
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [_error(0, "", _("The file is not UTF-8 text."))]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip().lower() for c in rows[0]] != HEADER:
        return [], [
            _error(
                1,
                "",
                _("The first line must be the header: %(header)s") % {"header": ",".join(HEADER)},
            )
        ]
    tz = timezone.get_current_timezone()
    parsed: list[ParsedLine] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            errors.append(
                _error(
                    number,
                    "",
                    _("The line has %(found)s columns; it needs %(needed)s.")
                    % {"found": len(row), "needed": len(HEADER)},
                )
            )
            continue
        reference, amount, day, time, branch, authorization = (c.strip() for c in row)
        ok = True
        if not reference_is_valid(reference):
            errors.append(
                _error(
                    number,
                    "referencia",
                    _(
                        "The reference %(reference)s is not valid (16 digits with their "
                        "check digits)."
                    )
                    % {"reference": reference},
                )
            )
            ok = False
        if not AMOUNT_RE.match(amount) or Decimal(amount) <= 0:
            errors.append(
                _error(
                    number,
                    "importe",
                    _(
                        "The amount %(amount)s is not valid (pesos with two decimals, more "
                        "than zero)."
                    )
                    % {"amount": amount},
                )
            )
            ok = False
        try:
            paid_at = dt.datetime.strptime(f"{day} {time}", "%d/%m/%Y %H:%M:%S").replace(tzinfo=tz)
        except ValueError:
            errors.append(
                _error(
                    number,
                    "fecha",
                    _("The date and time %(date)s %(time)s are not valid (DD/MM/AAAA HH:MM:SS).")
                    % {"date": day, "time": time},
                )
            )
            ok = False
        if not AUTHORIZATION_RE.match(authorization):
            errors.append(
                _error(number, "autorizacion", _("The bank authorization is missing or not valid."))
            )
            ok = False
        elif authorization in seen:
            errors.append(
                _error(
                    number,
                    "autorizacion",
                    _("The authorization %(authorization)s repeats line %(line)s.")
                    % {"authorization": authorization, "line": seen[authorization]},
                )
            )
            ok = False
        else:
            seen[authorization] = number
        if len(branch) > 20:
            errors.append(_error(number, "sucursal", _("The branch is too long.")))
            ok = False
        if ok:
            parsed.append(
                ParsedLine(number, reference, Decimal(amount), paid_at, branch, authorization)
            )
    if not parsed and not errors:
        errors.append(_error(0, "", _("The file has no payments.")))
    # Unknown references, in one query.
    accounts = dict(
        Bill.objects.filter(payment_reference__in={p.reference for p in parsed})
        .order_by("id")
        .values_list("payment_reference", "account_id")
    )
    for line in parsed:
        if line.reference not in accounts:
            errors.append(
                _error(
                    line.line_number,
                    "referencia",
                    _("No bill has the reference %(reference)s.") % {"reference": line.reference},
                )
            )
        else:
            line.account_id = accounts[line.reference]
    errors.sort(key=lambda e: e["line"])
    return parsed, errors


def _already_imported(existing: BankFile) -> PaymentError:
    who = existing.uploaded_by.get_username() if existing.uploaded_by else "—"
    when = formats.date_format(timezone.localtime(existing.uploaded_at), "DATETIME_FORMAT")
    return PaymentError(
        "already_imported",
        _("This file was already imported on %(when)s by %(who)s (%(name)s); nothing was posted.")
        % {"when": when, "who": who, "name": existing.file_name},
        status=409,
    )


@transaction.atomic
def bank_file_import(*, bank: str, file_name: str, content: bytes, user) -> ImportResult:
    """Import a bank collection file (layout and rules in the module docstring): one payment
    per new line, duplicates of lines posted from other files skipped.

    Raises PaymentError ``bad_bank``, ``already_imported`` (409) and BankFileError
    ``invalid_file`` (422, with ``errors`` per line; nothing posted)."""
    bank = (bank or "").strip().upper()
    if not BANK_RE.match(bank):
        raise PaymentError("bad_bank", _("Pick the bank that sent the file."), field="bank")
    digest = hashlib.sha256(content).hexdigest()
    existing = BankFile.objects.filter(sha256=digest).select_related("uploaded_by").first()
    if existing:
        raise _already_imported(existing)
    lines, errors = bank_file_parse(content)
    if errors:
        raise BankFileError(
            "invalid_file",
            # gettext, not ngettext: the catalog tooling (scripts/check_messages.py) fills only
            # singular entries.
            _("The file has errors (%(count)s); nothing was posted.") % {"count": len(errors)},
            errors=errors,
        )
    try:
        with transaction.atomic():
            bank_file = BankFile.objects.create(
                bank=bank,
                file_name=(file_name or "")[:200],
                sha256=digest,
                uploaded_by=user,
                lines_total=len(lines),
                amount_total=sum((line.amount for line in lines), Decimal("0.00")),
            )
    except IntegrityError:
        # The same file uploaded twice at once: the other upload committed first.
        raise _already_imported(
            BankFile.objects.select_related("uploaded_by").get(sha256=digest)
        ) from None
    result = ImportResult(file=bank_file)
    posted_before = dict(
        BankFileLine.objects.filter(
            bank=bank, authorization__in=[line.authorization for line in lines]
        ).values_list("authorization", "file__file_name")
    )
    for line in sorted(lines, key=lambda p: (p.account_id, p.line_number)):
        if line.authorization in posted_before:
            result.duplicates.append(_duplicate(line, posted_before[line.authorization]))
            continue
        try:
            with transaction.atomic():
                payment = payment_post(
                    account=line.account_id,
                    amount=line.amount,
                    channel=Channel.BANK,
                    method=Method.TRANSFER,
                    received_at=line.paid_at,
                    reference=f"{bank}:{line.authorization}",
                    user=user,
                )
                result.posted.append(
                    BankFileLine.objects.create(
                        file=bank_file,
                        line_number=line.line_number,
                        bank=bank,
                        reference=line.reference,
                        amount=line.amount,
                        paid_at=line.paid_at,
                        branch=line.branch,
                        authorization=line.authorization,
                        payment=payment,
                    )
                )
        except IntegrityError as exc:
            # Another file with this line committed while this one was importing: the savepoint
            # took its payment back.
            if "bankline_once" not in str(exc):
                raise
            other = BankFileLine.objects.get(bank=bank, authorization=line.authorization)
            result.duplicates.append(_duplicate(line, other.file.file_name))
    result.posted.sort(key=lambda p: p.line_number)
    result.duplicates.sort(key=lambda d: d["line"])
    bank_file.lines_posted = len(result.posted)
    bank_file.lines_duplicate = len(result.duplicates)
    bank_file.amount_posted = sum((p.amount for p in result.posted), Decimal("0.00"))
    bank_file.save(update_fields=["lines_posted", "lines_duplicate", "amount_posted"])
    return result


def _duplicate(line: ParsedLine, file_name: str) -> dict:
    return {
        "line": line.line_number,
        "authorization": line.authorization,
        "message": _(
            "Line %(line)s (authorization %(authorization)s) was already posted "
            "from file %(file)s; skipped."
        )
        % {"line": line.line_number, "authorization": line.authorization, "file": file_name},
    }
