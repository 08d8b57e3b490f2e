"""Writes of adjustments and payment agreements.

Every function takes keyword arguments only, runs in one transaction and raises
:class:`billing.agreements.errors.AgreementError` (a ``BillingError``) with nothing written
when it refuses. Money moves only through :func:`billing.services.ledger_post` /
:func:`billing.services.ledger_reverse` and is allocated by :mod:`billing.settlement`. Lock
order, everywhere: the account's settlement lock (:func:`billing.settlement.lock_account`)
first, then the adjustment or agreement row (``select_for_update``).

Adjustments
-----------
``adjustment_request`` → ``adjustment_approve`` | ``adjustment_reject``; an approved one is
undone only by ``adjustment_cancel`` (its entry is reversed, never edited).

- **Who approves**: a user holding a role with an :class:`ApprovalRule` of the adjustment's
  kind (or of both kinds) whose ``amount_up_to`` covers the amount (empty: any amount); the
  smallest covering rule of the approver is recorded on the adjustment. There is no
  automatic approval: every adjustment needs a second person, even a small one (a rule may
  let the requester's own role approve small amounts, but never the requester: the database
  refuses ``decided_by = requested_by`` too). Superusers get no exception. Rejecting needs
  the same rule as approving (a clerk cannot silence a request above their limit).
- **What approval posts** (same transaction): an ``adjustment`` entry, document
  ``("adjustment", id)``. A credit note is -amount, applied with ``settle_credit`` to the open
  debits of the bill it corrects (with no bill: ``settle_account``, oldest debt first); what
  the bill cannot take stays free credit (the next ``settle_account`` — a payment, a bill —
  applies it). A debit note is +amount, due ``CAUDAL_ADJUSTMENT_DEBIT_DUE_DAYS`` (default
  15) days after the approval day (utility's time zone), then ``settle_account`` lets free
  credit pay it.

Payment agreements
------------------
Ledger scheme (document ``("agreement", id)`` for every entry):

- **Signing** (``agreement_sign``): ``settle_account`` first (free credit pays the debt before
  anything is financed), then the covered debt D = the open amount of the open items (only
  those due before ``due_before`` when given). One credit ``agreement`` -D, applied with
  ``settle_credit`` to exactly the covered debits (they become closed); then one debit
  ``installment`` per schedule line (line 0: the down payment, due on the signing day),
  plus an ``interest`` debit per line with interest, each with the line's due date. Balance
  change: -D + D + interest = interest (zero without interest). The transfer is applied
  *before* the installments are posted: a document's own credit pays that document's debits
  first (``billing.settlement``), so posting them first would let the transfer pay them.
- **Payments** (the payments app posts them and calls ``settle_account``) pay the oldest due
  first: the down payment, then installment 1 (its interest before its principal: the
  concept order ranks ``interest`` before ``installment``), …
- **Breach / cancellation** (``agreements_check`` / ``agreement_cancel``): reverse the
  transfer (its settlements stop counting: the covered debits re-open exactly as they were)
  and *every* installment entry, paid or not, and every interest entry not fully paid by
  the customer's credits (their settlements stop counting: the payments that paid them
  become free credit); then ``settle_account`` re-applies that credit to the re-opened
  debts, oldest first. Fully paid interest stays (the financing the customer had); interest
  not (fully) paid is dropped. Why everything and not only the unpaid lines: keeping a paid
  installment while the whole transfer is reversed would count its part of the debt twice.
  Balance after = D + interest fully paid - payments made to the agreement. Example: D
  1,000.00, down payment 100.00, 3 x 300.00, down payment and installment 1 paid (400.00):
  after the breach the balance is 600.00 and the open items are the original bills'
  concepts (oldest paid first) summing 600.00.
- **Completion**: every line's entries have no open amount → ``completed`` (found by the same
  daily ``agreements_check``).

Schedule: the financed amount F = D - down payment is split evenly to the cent (each line
F/N rounded down to the cent, the last line takes the remainder). Interest is *not* French
(level payment): each line pays interest on the balance still financed before it, at the
monthly rate, rounded half up to the cent (declining interest with equal principal). The
first period counts as one month whatever the days between signing and the first due date.
Line k (k ≥ 1) falls due k - 1 months after ``first_due_date`` (the month's last day when
the day does not exist).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import settlement
from billing.agreements.errors import AgreementError
from billing.agreements.models import (
    Adjustment,
    AdjustmentKind,
    AdjustmentReason,
    AdjustmentStatus,
    Agreement,
    AgreementInstallment,
    AgreementStatus,
    ApprovalRule,
)
from billing.models import Bill, BillStatus, LedgerConcept, LedgerEntry, Settlement
from billing.services import ledger_post, ledger_reverse
from gis_core.sql import fetchall

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DOC_ADJUSTMENT = "adjustment"
DOC_AGREEMENT = "agreement"


def debit_note_due_days() -> int:
    return getattr(settings, "CAUDAL_ADJUSTMENT_DEBIT_DUE_DAYS", 15)


def default_grace_days() -> int:
    return getattr(settings, "CAUDAL_AGREEMENT_GRACE_DAYS", 10)


def max_installments() -> int:
    return getattr(settings, "CAUDAL_AGREEMENT_MAX_INSTALLMENTS", 36)


def _money(value, field: str) -> Decimal:
    """A positive amount in cents; floats and fractions of a cent are refused, not rounded."""
    if not isinstance(value, Decimal):
        raise AgreementError("not_decimal", _("Amounts must be decimal numbers."), field=field)
    if value != value.quantize(CENT):
        raise AgreementError(
            "not_cents", _("Amounts are in pesos and cents (two decimals)."), field=field
        )
    return value.quantize(CENT)


# --- adjustments --------------------------------------------------------------------------------


def adjustment_request(
    *,
    account,
    kind: str,
    amount: Decimal,
    reason: AdjustmentReason | str,
    user,
    note: str = "",
    bill: Bill | None = None,
) -> Adjustment:
    """Ask for a credit note (``kind="credit_note"``: lowers what ``account`` owes) or a debit
    note (``"debit_note"``: raises it) of ``amount`` (a positive ``Decimal``) for ``reason``
    (an :class:`AdjustmentReason` or its code), optionally correcting ``bill`` (one of the
    account's issued bills: a credit note then pays that bill first). Nothing is posted
    until someone else approves it (:func:`adjustment_approve`).

    This is the entry point for other apps (the service desk's bill disputes): keep its
    arguments to these. Raises ``invalid_kind``, ``not_decimal``, ``not_cents``,
    ``not_positive``, ``unknown_reason``, ``reason_inactive``, ``reason_kind``,
    ``bill_other_account`` and ``bill_not_issued``."""
    if kind not in AdjustmentKind.values:
        raise AgreementError(
            "invalid_kind", _("An adjustment is a credit note or a debit note."), field="kind"
        )
    amount = _money(amount, "amount")
    if amount <= 0:
        raise AgreementError(
            "not_positive", _("The amount of an adjustment must be positive."), field="amount"
        )
    if not isinstance(reason, AdjustmentReason):
        found = AdjustmentReason.objects.filter(code=reason).first()
        if found is None:
            raise AgreementError(
                "unknown_reason",
                _("There is no adjustment reason %(code)s.") % {"code": reason},
                field="reason",
            )
        reason = found
    if not reason.active:
        raise AgreementError(
            "reason_inactive",
            _("The reason %(code)s is no longer used; choose another.") % {"code": reason.code},
            field="reason",
        )
    if not reason.allows(kind):
        raise AgreementError(
            "reason_kind",
            _("The reason %(code)s cannot be used for a %(kind)s.")
            % {"code": reason.code, "kind": AdjustmentKind(kind).label},
            field="reason",
        )
    account_id = getattr(account, "pk", account)
    if bill is not None:
        if bill.account_id != account_id:
            raise AgreementError(
                "bill_other_account", _("The bill belongs to another account."), field="bill"
            )
        if bill.status != BillStatus.ISSUED:
            raise AgreementError(
                "bill_not_issued",
                _("Only an issued bill can be corrected by an adjustment."),
                field="bill",
            )
    return Adjustment.objects.create(
        account_id=account_id,
        kind=kind,
        amount=amount,
        reason=reason,
        note=note,
        bill=bill,
        requested_by=user,
    )


def approval_rule_for(*, user, kind: str, amount: Decimal) -> ApprovalRule | None:
    """The smallest rule of any of ``user``'s roles that covers ``amount`` of ``kind``."""
    user_roles = list(user.groups.values_list("name", flat=True))
    return (
        ApprovalRule.objects.filter(role__in=user_roles)
        .filter(Q(kind="") | Q(kind=kind))
        .filter(Q(amount_up_to__isnull=True) | Q(amount_up_to__gte=amount))
        .order_by(F("amount_up_to").asc(nulls_last=True), "pk")
        .first()
    )


def _pending_locked(adjustment: Adjustment, user) -> tuple[Adjustment, ApprovalRule]:
    """The adjustment re-read under lock (account lock first), still pending, and the rule
    that lets ``user`` decide it."""
    settlement.lock_account(adjustment.account_id)
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if adjustment.status != AdjustmentStatus.REQUESTED:
        raise AgreementError(
            "not_pending",
            _("This adjustment was already decided (%(status)s); reload it.")
            % {"status": adjustment.get_status_display()},
            status=409,
        )
    if adjustment.requested_by_id == user.pk:
        raise AgreementError(
            "own_request",
            _("You cannot decide an adjustment you requested; another person must approve it."),
            status=403,
        )
    rule = approval_rule_for(user=user, kind=adjustment.kind, amount=adjustment.amount)
    if rule is None:
        raise AgreementError(
            "not_allowed",
            _(
                "None of your roles may decide a %(kind)s of %(amount)s; ask someone whose role "
                "covers that amount."
            )
            % {"kind": adjustment.get_kind_display(), "amount": adjustment.amount},
            status=403,
        )
    return adjustment, rule


@transaction.atomic
def adjustment_approve(*, adjustment: Adjustment, user, note: str = "") -> Adjustment:
    """Approve a pending adjustment and post it (see the module docstring for what is
    posted and how it is applied). Raises ``not_pending`` (409: decided meanwhile),
    ``own_request`` and ``not_allowed`` (403)."""
    adjustment, rule = _pending_locked(adjustment, user)
    now = timezone.now()
    label = _("Adjustment %(id)s: %(reason)s") % {
        "id": adjustment.pk,
        "reason": adjustment.reason.display_label,
    }
    credit = adjustment.kind == AdjustmentKind.CREDIT
    # A credit has no due date; a debit note falls due some days after the approval.
    due = None if credit else timezone.localdate(now) + dt.timedelta(days=debit_note_due_days())
    entry = ledger_post(
        account=adjustment.account_id,
        document_type=DOC_ADJUSTMENT,
        document_id=adjustment.pk,
        concept=LedgerConcept.ADJUSTMENT,
        amount=-adjustment.amount if credit else adjustment.amount,
        note=label[:200],
        posted_at=now,
        due_date=due,
    )
    if credit and adjustment.bill_id is not None:
        debits = LedgerEntry.objects.filter(
            account_id=adjustment.account_id,
            document_type="bill",
            document_id=adjustment.bill_id,
            amount__gt=0,
        )
        settlement.settle_credit(credit=entry, debits=list(debits))
    else:
        settlement.settle_account(account=adjustment.account_id)
    adjustment.status = AdjustmentStatus.APPROVED
    adjustment.decided_by = user
    adjustment.decided_at = now
    adjustment.decision_note = note
    adjustment.approval_rule = rule
    adjustment.ledger_entry = entry
    adjustment.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "approval_rule",
            "ledger_entry",
        ]
    )
    return adjustment


@transaction.atomic
def adjustment_reject(*, adjustment: Adjustment, user, note: str) -> Adjustment:
    """Refuse a pending adjustment (nothing is posted). Same rules as approving; ``note``
    (why) is required. Raises ``note_required``, ``not_pending`` (409), ``own_request`` and
    ``not_allowed`` (403)."""
    if not note.strip():
        raise AgreementError(
            "note_required", _("Say why the adjustment is not approved."), field="note"
        )
    adjustment, _rule = _pending_locked(adjustment, user)
    adjustment.status = AdjustmentStatus.REJECTED
    adjustment.decided_by = user
    adjustment.decided_at = timezone.now()
    adjustment.decision_note = note
    adjustment.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return adjustment


@transaction.atomic
def adjustment_cancel(*, adjustment: Adjustment, user, reason: str) -> Adjustment:
    """Undo an approved adjustment by reversing its entry (what a credit note paid is owed
    again; what paid a debit note becomes free credit), then ``settle_account``. Raises
    ``reason_required`` and ``not_approved`` (409)."""
    if not reason.strip():
        raise AgreementError(
            "reason_required", _("Say why the adjustment is reversed."), field="reason"
        )
    settlement.lock_account(adjustment.account_id)
    adjustment = Adjustment.objects.select_for_update().get(pk=adjustment.pk)
    if adjustment.status != AdjustmentStatus.APPROVED:
        raise AgreementError(
            "not_approved",
            _("Only an approved adjustment can be reversed; this one is %(status)s.")
            % {"status": adjustment.get_status_display()},
            status=409,
        )
    ledger_reverse(entry=adjustment.ledger_entry, note=reason[:200])
    settlement.settle_account(account=adjustment.account_id)
    adjustment.status = AdjustmentStatus.CANCELLED
    adjustment.cancelled_by = user
    adjustment.cancelled_at = timezone.now()
    adjustment.cancel_reason = reason[:200]
    adjustment.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason"])
    return adjustment


# --- agreements: schedule -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleLine:
    number: int  # 0: the down payment
    due_date: dt.date
    principal: Decimal
    interest: Decimal
    balance: Decimal  # financed amount still owed after this line

    @property
    def amount(self) -> Decimal:
        return self.principal + self.interest


def _terms_check(
    *, debt, down_payment, installments, monthly_rate, first_due_date, signed_on
) -> None:
    if not isinstance(monthly_rate, Decimal) or not (0 <= monthly_rate < 1):
        raise AgreementError(
            "rate",
            _("The monthly interest rate is a fraction from 0 (no interest) to below 1."),
            field="monthly_rate",
        )
    if not isinstance(installments, int) or not (1 <= installments <= max_installments()):
        raise AgreementError(
            "installments",
            _("An agreement has from 1 to %(max)s installments.") % {"max": max_installments()},
            field="installments",
        )
    if down_payment < 0 or down_payment >= debt:
        raise AgreementError(
            "down_payment",
            _("The down payment must be at least 0 and less than the debt (%(debt)s).")
            % {"debt": debt},
            field="down_payment",
        )
    if first_due_date <= signed_on:
        raise AgreementError(
            "first_due_date",
            _("The first installment must fall due after the day of signing."),
            field="first_due_date",
        )


def schedule_compute(
    *,
    debt: Decimal,
    down_payment: Decimal,
    installments: int,
    monthly_rate: Decimal,
    first_due_date: dt.date,
    signed_on: dt.date,
) -> list[ScheduleLine]:
    """The schedule of an agreement (no writes): line 0 the down payment (when > 0), then
    ``installments`` lines; see the module docstring for the rules. Raises ``rate``,
    ``installments``, ``down_payment`` and ``first_due_date``."""
    debt = _money(debt, "debt")
    down_payment = _money(down_payment, "down_payment")
    _terms_check(
        debt=debt,
        down_payment=down_payment,
        installments=installments,
        monthly_rate=monthly_rate,
        first_due_date=first_due_date,
        signed_on=signed_on,
    )
    financed = debt - down_payment
    lines = []
    if down_payment > 0:
        lines.append(ScheduleLine(0, signed_on, down_payment, ZERO, financed))
    even = (financed / installments).quantize(CENT, rounding=ROUND_DOWN)
    left = financed
    for k in range(1, installments + 1):
        principal = even if k < installments else left
        interest = (left * monthly_rate).quantize(CENT, rounding=ROUND_HALF_UP)
        left -= principal
        due = first_due_date + relativedelta(months=k - 1)
        lines.append(ScheduleLine(k, due, principal, interest, left))
    return lines


def _covered_items(account_id: int, due_before: dt.date | None) -> list[settlement.OpenItem]:
    """The open items an agreement signed now would cover, with the account's free credit
    taken off the oldest first (what ``settle_account`` would do before signing)."""
    items = settlement.open_items(account=account_id)
    credit = sum((c.amount for c in settlement.free_credits(account=account_id)), ZERO)
    covered = []
    for item in items:
        take = min(credit, item.open)
        credit -= take
        item.open -= take
        if item.open > 0 and (due_before is None or item.due_date < due_before):
            covered.append(item)
    return covered


def agreement_simulate(
    *,
    account,
    down_payment: Decimal,
    installments: int,
    first_due_date: dt.date,
    monthly_rate: Decimal = ZERO,
    due_before: dt.date | None = None,
) -> tuple[Decimal, list[ScheduleLine]]:
    """What :func:`agreement_sign` would cover and schedule today; writes nothing. Raises
    ``nothing_owed`` and the errors of :func:`schedule_compute`."""
    account_id = getattr(account, "pk", account)
    debt = sum((i.open for i in _covered_items(account_id, due_before)), ZERO)
    if debt <= 0:
        raise AgreementError("nothing_owed", _("The account owes nothing to put in an agreement."))
    lines = schedule_compute(
        debt=debt,
        down_payment=down_payment,
        installments=installments,
        monthly_rate=monthly_rate,
        first_due_date=first_due_date,
        signed_on=timezone.localdate(),
    )
    return debt, lines


@transaction.atomic
def agreement_sign(
    *,
    account,
    down_payment: Decimal,
    installments: int,
    first_due_date: dt.date,
    user,
    monthly_rate: Decimal = ZERO,
    grace_days: int | None = None,
    due_before: dt.date | None = None,
    note: str = "",
) -> Agreement:
    """Sign a payment agreement over what ``account`` owes (only debts due before
    ``due_before`` when given) and post its ledger entries (module docstring). Raises
    ``agreement_exists`` (409: the account has one in force), ``nothing_owed``,
    ``grace_days`` and the errors of :func:`schedule_compute`."""
    account_id = getattr(account, "pk", account)
    grace = default_grace_days() if grace_days is None else grace_days
    if not isinstance(grace, int) or not (0 <= grace <= 365):
        raise AgreementError("grace_days", _("Days of grace go from 0 to 365."), field="grace_days")
    settlement.lock_account(account_id)
    if Agreement.objects.filter(account_id=account_id, status=AgreementStatus.CURRENT).exists():
        raise AgreementError(
            "agreement_exists",
            _("The account already has a payment agreement in force."),
            status=409,
        )
    settlement.settle_account(account=account_id)
    items = _covered_items(account_id, due_before)
    debt = sum((i.open for i in items), ZERO)
    if debt <= 0:
        raise AgreementError("nothing_owed", _("The account owes nothing to put in an agreement."))
    now = timezone.now()
    lines = schedule_compute(
        debt=debt,
        down_payment=down_payment,
        installments=installments,
        monthly_rate=monthly_rate,
        first_due_date=first_due_date,
        signed_on=timezone.localdate(now),
    )
    agreement = Agreement.objects.create(
        account_id=account_id,
        debt=debt,
        due_before=due_before,
        down_payment=down_payment,
        installments=installments,
        monthly_rate=monthly_rate,
        first_due_date=first_due_date,
        grace_days=grace,
        note=note,
        signed_by=user,
        signed_at=now,
    )

    def post(concept, amount, due_date=None, text=""):
        return ledger_post(
            account=account_id,
            document_type=DOC_AGREEMENT,
            document_id=agreement.pk,
            concept=concept,
            amount=amount,
            posted_at=now,
            due_date=due_date,
            note=text[:200],
        )

    # The transfer is applied before any installment exists (see the module docstring).
    transfer = post(
        LedgerConcept.AGREEMENT, -debt, text=_("Agreement %(id)s") % {"id": agreement.pk}
    )
    made = settlement.settle_credit(
        credit=transfer, debits=list(LedgerEntry.objects.filter(pk__in=[i.entry_id for i in items]))
    )
    if sum((s.amount for s in made), ZERO) != debt:
        # Only possible if the open items moved under us, which the account lock forbids.
        raise AgreementError("debt_moved", _("The debt changed while signing; try again."))
    rows = []
    for line in lines:
        text = _("Agreement %(id)s, installment %(n)s of %(of)s") % {
            "id": agreement.pk,
            "n": line.number,
            "of": installments,
        }
        principal = post(LedgerConcept.INSTALLMENT, line.principal, line.due_date, text)
        interest = (
            post(LedgerConcept.INTEREST, line.interest, line.due_date, text)
            if line.interest > 0
            else None
        )
        rows.append(
            AgreementInstallment(
                agreement=agreement,
                number=line.number,
                due_date=line.due_date,
                principal=line.principal,
                interest=line.interest,
                principal_entry=principal,
                interest_entry=interest,
            )
        )
    AgreementInstallment.objects.bulk_create(rows)
    agreement.transfer_entry = transfer
    agreement.save(update_fields=["transfer_entry"])
    settlement.settle_account(account=account_id)
    # A current agreement ends a standing cut: collections cancels the order not yet carried
    # out or orders the reconnection, once, in a worker after this commits.
    from billing.collection.services import collection_on_payment_later

    collection_on_payment_later(account=account_id)
    return agreement


# --- agreements: breach, cancellation, completion -----------------------------------------------


def _entry_open(account_id: int) -> dict[int, Decimal]:
    return {i.entry_id: i.open for i in settlement.open_items(account=account_id)}


def _current_locked(agreement: Agreement) -> Agreement:
    settlement.lock_account(agreement.account_id)
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if agreement.status != AgreementStatus.CURRENT:
        raise AgreementError(
            "not_current",
            _("This agreement is no longer in force (%(status)s); reload it.")
            % {"status": agreement.get_status_display()},
            status=409,
        )
    return agreement


def _paid_by_payments(entry_ids: list[int], transfer_id: int) -> dict[int, Decimal]:
    """What credits other than the agreement's own transfer paid of each entry (live
    settlements only): interest the transfer paid (netting) was not paid by the customer."""
    rows = (
        Settlement.objects.filter(debit_id__in=entry_ids)
        .exclude(credit_id=transfer_id)
        .exclude(credit__reversed_by__isnull=False)
        .values("debit_id")
        .annotate(paid=Sum("amount"))
        .order_by()
    )
    return {row["debit_id"]: row["paid"] for row in rows}


def _unwind(agreement: Agreement, *, status: str, user, reason: str) -> Agreement:
    """Restore the debt of a locked, current agreement (module docstring: breach)."""
    lines = list(agreement.schedule.select_related("principal_entry", "interest_entry"))
    interest_ids = [line.interest_entry_id for line in lines if line.interest_entry_id]
    paid = _paid_by_payments(interest_ids, agreement.transfer_entry_id)
    note = reason[:200]
    ledger_reverse(entry=agreement.transfer_entry, note=note)
    for line in lines:
        ledger_reverse(entry=line.principal_entry, note=note)
        # Interest the customer paid in full stays (the financing they had); the rest is
        # dropped, and what partly paid it becomes free credit for the restored debt.
        if line.interest_entry is not None and paid.get(line.interest_entry_id, ZERO) < (
            line.interest_entry.amount
        ):
            ledger_reverse(entry=line.interest_entry, note=note)
    settlement.settle_account(account=agreement.account_id)
    agreement.status = status
    agreement.closed_at = timezone.now()
    agreement.closed_by = user
    agreement.close_reason = note
    agreement.save(update_fields=["status", "closed_at", "closed_by", "close_reason"])
    return agreement


@transaction.atomic
def agreement_cancel(*, agreement: Agreement, user, reason: str) -> Agreement:
    """Cancel a current agreement on request: its debt is restored exactly as in a breach,
    status ``cancelled``. Raises ``reason_required`` and ``not_current`` (409)."""
    if not reason.strip():
        raise AgreementError(
            "reason_required", _("Say why the agreement is cancelled."), field="reason"
        )
    agreement = _current_locked(agreement)
    return _unwind(agreement, status=AgreementStatus.CANCELLED, user=user, reason=reason)


def _line_open(line: AgreementInstallment, still_open: dict[int, Decimal]) -> Decimal:
    return still_open.get(line.principal_entry_id, ZERO) + (
        still_open.get(line.interest_entry_id, ZERO) if line.interest_entry_id else ZERO
    )


@transaction.atomic
def agreement_check(*, agreement: Agreement, today: dt.date, user=None) -> Agreement:
    """Breach or complete one current agreement as of ``today``: breached when a line still
    open fell due more than ``grace_days`` before ``today`` (its debt restored, module
    docstring); completed when no line is open. Free credit is applied first (a payment
    whose settlement did not run yet is not a breach). Raises ``not_current`` (409)."""
    agreement = _current_locked(agreement)
    settlement.settle_account(account=agreement.account_id)
    still_open = _entry_open(agreement.account_id)
    lines = list(agreement.schedule.all())
    late = [
        line
        for line in lines
        if _line_open(line, still_open) > 0
        and line.due_date + dt.timedelta(days=agreement.grace_days) < today
    ]
    if late:
        reason = _("Installment %(n)s due %(due)s unpaid after %(days)s days of grace") % {
            "n": late[0].number,
            "due": late[0].due_date.isoformat(),
            "days": agreement.grace_days,
        }
        return _unwind(agreement, status=AgreementStatus.BREACHED, user=user, reason=reason)
    if all(_line_open(line, still_open) == 0 for line in lines):
        agreement.status = AgreementStatus.COMPLETED
        agreement.closed_at = timezone.now()
        agreement.closed_by = user
        agreement.close_reason = _("Every installment paid")
        agreement.save(update_fields=["status", "closed_at", "closed_by", "close_reason"])
    return agreement


# Candidates of the daily check, set-based: current agreements with an installment line
# that looks open and overdue, or with nothing open at all. The open amount of an entry is
# its amount less its live settlements (neither side reversed), less, at document level,
# the transfer's unapplied credit (a covered bill reversed after signing frees part of the
# transfer, which pays the agreement's own lines first — billing.settlement's netting rule).
# Each candidate is then decided exactly, under its account lock, by ``agreement_check``.
_CANDIDATES_SQL = """
WITH lines AS (
    SELECT a.id AS agreement_id, a.grace_days, e.due_date,
           e.amount - coalesce((
               SELECT sum(s.amount) FROM billing_settlement s
                WHERE s.debit_id = e.id
                  AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r
                                   WHERE r.reversal_of_id = s.credit_id)), 0) AS open
      FROM agreements_agreement a
      JOIN agreements_agreementinstallment i ON i.agreement_id = a.id
      JOIN billing_ledgerentry e ON e.id IN (i.principal_entry_id, i.interest_entry_id)
     WHERE a.status = 'current'
), transfer_free AS (
    SELECT a.id AS agreement_id,
           -t.amount - coalesce((
               SELECT sum(s.amount) FROM billing_settlement s
                WHERE s.credit_id = t.id
                  AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry r
                                   WHERE r.reversal_of_id = s.debit_id)), 0) AS free
      FROM agreements_agreement a JOIN billing_ledgerentry t ON t.id = a.transfer_entry_id
     WHERE a.status = 'current'
)
SELECT l.agreement_id
  FROM lines l JOIN transfer_free f USING (agreement_id)
 GROUP BY l.agreement_id, f.free
HAVING sum(l.open) FILTER (WHERE l.due_date + l.grace_days < %(today)s) > f.free
    OR sum(l.open) <= f.free
 ORDER BY l.agreement_id
"""


def agreements_check(*, today: dt.date, user=None) -> dict[str, list[int]]:
    """The daily check: breach the current agreements with a line unpaid past its grace and
    complete the paid ones (see :func:`agreement_check`). One transaction per agreement, so
    one refusal does not hold back the others. Returns the ids ``{"breached", "completed"}``."""
    done: dict[str, list[int]] = {"breached": [], "completed": []}
    ids = [row[0] for row in fetchall(_CANDIDATES_SQL, {"today": today})]
    for agreement in Agreement.objects.filter(pk__in=ids).order_by("pk"):
        try:
            agreement = agreement_check(agreement=agreement, today=today, user=user)
        except AgreementError as error:
            if error.code != "not_current":  # ended meanwhile by someone else: nothing to do
                raise
            continue
        if agreement.status == AgreementStatus.BREACHED:
            done["breached"].append(agreement.pk)
        elif agreement.status == AgreementStatus.COMPLETED:
            done["completed"].append(agreement.pk)
    return done
