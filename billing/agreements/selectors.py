"""Reads of adjustments and payment agreements: lists, the managers' report, the schedule of
an agreement with what is paid, and which accounts have an agreement in force (collections
pause for them)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import settlement
from billing.agreements.models import (
    Adjustment,
    AdjustmentKind,
    AdjustmentStatus,
    Agreement,
    AgreementInstallment,
    AgreementStatus,
)

ZERO = Decimal("0.00")


# --- agreements in force ------------------------------------------------------------------------


def accounts_with_current_agreement(account_ids=None) -> QuerySet:
    """The ids of the accounts with a payment agreement in force, as a lazy queryset so a
    caller can use it inside its own query (``.exclude(pk__in=…)``) without a round trip;
    ``account_ids`` narrows it to some accounts."""
    qs = Agreement.objects.filter(status=AgreementStatus.CURRENT)
    if account_ids is not None:
        qs = qs.filter(account_id__in=account_ids)
    return qs.values_list("account_id", flat=True)


def agreement_current(account) -> Agreement | None:
    """The account's agreement in force, if any (at most one: a partial unique constraint)."""
    return Agreement.objects.filter(
        account_id=getattr(account, "pk", account), status=AgreementStatus.CURRENT
    ).first()


def agreements_list(*, status: str | None = None, account=None) -> QuerySet:
    qs = Agreement.objects.select_related("account", "signed_by")
    if status:
        qs = qs.filter(status=status)
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    return qs.order_by("-signed_at", "-pk")


@dataclass
class LineState:
    number: int
    due_date: dt.date
    principal: Decimal
    interest: Decimal
    amount: Decimal
    paid: Decimal
    open: Decimal
    state: str  # paid | open | overdue (past due and grace) | void (agreement ended unpaid)


def agreement_lines(*, agreement: Agreement, today: dt.date | None = None) -> list[LineState]:
    """The schedule of ``agreement`` with what each line has paid and still owes. Lines of an
    ended agreement whose entries were reversed (breach, cancellation) are ``void``."""
    today = today or timezone.localdate()
    still_open = {i.entry_id: i.open for i in settlement.open_items(account=agreement.account_id)}
    reversed_ids = set(
        agreement.schedule.filter(principal_entry__reversed_by__isnull=False).values_list(
            "principal_entry_id", flat=True
        )
    )
    out = []
    line: AgreementInstallment
    for line in agreement.schedule.all():
        if line.principal_entry_id in reversed_ids:
            out.append(
                LineState(
                    line.number,
                    line.due_date,
                    line.principal,
                    line.interest,
                    line.amount,
                    ZERO,
                    ZERO,
                    "void",
                )
            )
            continue
        owed = still_open.get(line.principal_entry_id, ZERO)
        if line.interest_entry_id:
            owed += still_open.get(line.interest_entry_id, ZERO)
        if owed == 0:
            state = "paid"
        elif line.due_date + dt.timedelta(days=agreement.grace_days) < today:
            state = "overdue"
        else:
            state = "open"
        out.append(
            LineState(
                line.number,
                line.due_date,
                line.principal,
                line.interest,
                line.amount,
                line.amount - owed,
                owed,
                state,
            )
        )
    return out


# --- adjustments --------------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of ``day`` in the utility's time zone (report dates are local days)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def adjustments_list(
    *,
    status: str | None = None,
    account=None,
    requested_by=None,
    reason: str | None = None,
    kind: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet:
    """Adjustments, newest first, filtered by any of the arguments (dates: requested on
    those local days, both inclusive; ``reason``: its code)."""
    qs = Adjustment.objects.select_related("reason", "requested_by", "decided_by")
    if status:
        qs = qs.filter(status=status)
    if account is not None:
        qs = qs.filter(account_id=getattr(account, "pk", account))
    if requested_by is not None:
        qs = qs.filter(requested_by_id=getattr(requested_by, "pk", requested_by))
    if reason:
        qs = qs.filter(reason__code=reason)
    if kind:
        qs = qs.filter(kind=kind)
    if date_from:
        qs = qs.filter(requested_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(requested_at__lt=_day_start(date_to + dt.timedelta(days=1)))
    return qs.order_by("-requested_at", "-pk")


def adjustments_report(
    *,
    date_from: dt.date,
    date_to: dt.date,
    statuses: tuple[str, ...] = (AdjustmentStatus.APPROVED,),
) -> list[dict]:
    """Adjustments requested from ``date_from`` to ``date_to`` (local days, inclusive) in
    ``statuses`` (default: approved and still standing), grouped by requester, reason and
    the account's commercial sector (its sector now; accounts in no sector: ``None``), with
    count and amount of credit notes and of debit notes apart. One aggregate query."""
    money = DecimalField(max_digits=16, decimal_places=2)
    credit = Q(kind=AdjustmentKind.CREDIT)
    debit = Q(kind=AdjustmentKind.DEBIT)
    rows = (
        Adjustment.objects.filter(
            requested_at__gte=_day_start(date_from),
            requested_at__lt=_day_start(date_to + dt.timedelta(days=1)),
            status__in=statuses,
        )
        .values(
            "requested_by_id",
            "requested_by__username",
            "reason__code",
            "reason__label",
            "account__sectors__sector_id",
            "account__sectors__sector__code",
            "account__sectors__sector__name",
        )
        .annotate(
            credit_count=Count("pk", filter=credit),
            credit_amount=Coalesce(Sum("amount", filter=credit), Value(ZERO), output_field=money),
            debit_count=Count("pk", filter=debit),
            debit_amount=Coalesce(Sum("amount", filter=debit), Value(ZERO), output_field=money),
        )
        .order_by("requested_by__username", "reason__code", "account__sectors__sector__code")
    )
    return [
        {
            "requested_by": r["requested_by_id"],
            "requested_by_username": r["requested_by__username"],
            "reason": r["reason__code"],
            "reason_label": _(r["reason__label"]),
            "sector": r["account__sectors__sector_id"],
            "sector_code": r["account__sectors__sector__code"],
            "sector_name": r["account__sectors__sector__name"],
            "credit_count": r["credit_count"],
            "credit_amount": r["credit_amount"],
            "debit_count": r["debit_count"],
            "debit_amount": r["debit_amount"],
        }
        for r in rows
    ]


def adjustments_report_csv(rows: list[dict], out) -> None:
    """The report as CSV (UTF-8, comma-separated, header in the active language)."""
    writer = csv.writer(out)
    writer.writerow(
        [
            _("requested by"),
            _("reason code"),
            _("reason"),
            _("sector code"),
            _("sector"),
            _("credit notes"),
            _("credit notes amount"),
            _("debit notes"),
            _("debit notes amount"),
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r["requested_by_username"],
                r["reason"],
                r["reason_label"],
                r["sector_code"] or "",
                r["sector_name"] or "",
                r["credit_count"],
                f"{r['credit_amount']:.2f}",
                r["debit_count"],
                f"{r['debit_amount']:.2f}",
            ]
        )
