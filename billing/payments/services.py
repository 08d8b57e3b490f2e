"""Writes of payments: post and reverse a payment, open and close a cash session.

Every service is keyword-only and one transaction. Locks are always taken in one order, so two
writers of one account never deadlock:

1. the account's settlement lock (:func:`billing.settlement.lock_account`, an advisory lock);
2. the cash session row (``SELECT … FOR UPDATE``), when a cashier window is involved;
3. then the inserts (payment, ledger entry, settlements).

A cash session close takes only (2): it waits for the payment being taken at the window, and a
payment arriving after the close sees the session closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services as billing_services
from billing import settlement
from billing.errors import BillingError
from billing.models import LedgerConcept, LedgerEntry
from billing.payments.errors import PaymentError
from billing.payments.models import (
    PAYMENT_DOCUMENT,
    CashSession,
    Channel,
    Method,
    Payment,
    PaymentStatus,
    SessionStatus,
)
from gis_core.sql import fetchone

__all__ = [
    "DENOMINATIONS",
    "PaymentError",
    "cash_session_close",
    "cash_session_open",
    "cash_session_reconcile",
    "payment_post",
    "payment_reverse",
]

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Mexican peso bills and coins a drawer holds (the 20 is both a bill and a coin: one count).
DENOMINATIONS = tuple(
    Decimal(v) for v in ("1000", "500", "200", "100", "50", "20", "10", "5", "2", "1", "0.50")
)


def money_value(value, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive amount of money as Decimal with at most two decimals. Strings are parsed
    (the APIs send money as strings); floats are refused: 0.1 + 0.2 is not 0.30."""
    if isinstance(value, (bool, float)):
        raise PaymentError("not_decimal", _("Amounts must be decimal numbers."), field=field)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise PaymentError(
                "bad_amount", _("The amount is not a number."), field=field
            ) from None
    if isinstance(value, int):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PaymentError("not_decimal", _("Amounts must be decimal numbers."), field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise PaymentError("bad_amount", _("The amount must be greater than zero."), field=field)
    if value != value.quantize(CENT):
        raise PaymentError(
            "bad_amount", _("The amount cannot have more than two decimals."), field=field
        )
    if value >= Decimal("1e12"):
        raise PaymentError("bad_amount", _("The amount is too large."), field=field)
    return value.quantize(CENT)


def _next_payment_id() -> int:
    # The ledger entry's document id is the payment's own id and the payment points to its
    # entry (NOT NULL): take the id from the table's sequence first, then insert both.
    return fetchone("SELECT nextval(pg_get_serial_sequence('payments_payment', 'id'))", [])[0]


def _session_for_update(session_id: int) -> CashSession:
    return CashSession.objects.select_for_update().get(pk=session_id)


def _open_session_of(user) -> CashSession | None:
    if user is None:
        return None
    ids = list(
        CashSession.objects.filter(cashier=user, status=SessionStatus.OPEN).values_list(
            "pk", flat=True
        )
    )
    return _session_for_update(ids[0]) if ids else None


@transaction.atomic
def payment_post(
    *,
    account,
    amount: Decimal,
    channel: str,
    method: str,
    received_at: dt.datetime | None = None,
    reference: str = "",
    user=None,
    cash_session: CashSession | None = None,
) -> Payment:
    """Post a payment: the payment, its credit entry in the ledger (``-amount``, document
    "payment" = the payment's id) and its allocation to the open items, oldest debt first
    (:mod:`billing.settlement`); what is left stays as free credit.

    A cashier payment needs ``cash_session``: an open session of ``user``.

    Raises PaymentError: ``not_decimal``/``bad_amount`` (float, zero, negative, more than two
    decimals), ``bad_channel``, ``bad_method``, ``naive_time``, ``no_session`` (a cashier
    payment without a session, or a session of another cashier), ``session_closed`` (409),
    ``reference_used`` (409, an online reference already posted)."""
    amount = money_value(amount)
    if channel not in Channel.values:
        raise PaymentError("bad_channel", _("Unknown payment channel."), field="channel")
    if method not in Method.values:
        raise PaymentError("bad_method", _("Unknown payment method."), field="method")
    if received_at is not None and timezone.is_naive(received_at):
        raise PaymentError(
            "naive_time", _("The time of the payment needs a time zone."), field="received_at"
        )
    account_id = getattr(account, "pk", account)
    settlement.lock_account(account_id)
    session = None
    if channel == Channel.CASHIER:
        if cash_session is None:
            raise PaymentError(
                "no_session", _("Open a cash session before taking payments."), status=409
            )
        session = _session_for_update(cash_session.pk)
        if user is None or session.cashier_id != user.pk:
            raise PaymentError(
                "no_session", _("This cash session belongs to another cashier."), status=403
            )
        if session.status != SessionStatus.OPEN:
            raise PaymentError(
                "session_closed",
                _("This cash session is closed; open a new one to take payments."),
                status=409,
            )
    now = timezone.now()
    payment_id = _next_payment_id()
    entry = billing_services.ledger_post(
        account=account_id,
        document_type=PAYMENT_DOCUMENT,
        document_id=payment_id,
        concept=LedgerConcept.PAYMENT,
        amount=-amount,
        posted_at=now,
        note=(reference or "")[:200],
    )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                id=payment_id,
                account_id=account_id,
                amount=amount,
                received_at=received_at or now,
                channel=channel,
                method=method,
                reference=reference or "",
                ledger_entry=entry,
                created_by=user,
                created_at=now,
                cash_session=session,
            )
    except IntegrityError as exc:
        # Only the online reference can collide here (every other constraint is checked above).
        if "payment_online_reference_once" in str(exc):
            raise PaymentError(
                "reference_used",
                _("A payment with this gateway reference was already posted."),
                field="reference",
                status=409,
            ) from None
        raise
    settlement.settle_account(account=account_id)
    # A standing cut (an order not yet carried out, or a service cut)? Collections cancels it
    # or orders the reconnection, once, in a worker after this commits.
    from billing.collection.services import collection_on_payment_later

    collection_on_payment_later(account=account_id)
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, reason: str, user) -> Payment:
    """Reverse a payment (a bounced cheque, a chargeback, a cash payment taken by mistake):
    the reversal of its ledger entry, so its settlements stop counting and exactly what it
    paid is owed again; then the account's other free credit (if any) is applied to it.

    Where a reversal counts: a reversal belongs to the drawer it leaves, so it is recorded in
    the open cash session of the reversing ``user`` when there is one (even if the payment was
    taken in a session since closed: a closed count is never changed). A cash payment can only
    be reversed from an open session (the cash is handed back from a drawer); cheques, cards
    and transfers need none.

    Raises PaymentError: ``no_reason``, ``already_reversed`` (409), ``no_session`` (409, a
    cash payment without an open session of the user)."""
    reason = (reason or "").strip()
    if not reason:
        raise PaymentError("no_reason", _("Say why the payment is reversed."), field="reason")
    settlement.lock_account(payment.account_id)
    session = _open_session_of(user)
    current = Payment.objects.select_for_update().get(pk=payment.pk)
    if current.status == PaymentStatus.REVERSED:
        raise PaymentError("already_reversed", _("This payment was already reversed."), status=409)
    if current.method == Method.CASH and session is None:
        raise PaymentError(
            "no_session",
            _("Open a cash session to hand back a cash payment."),
            status=409,
        )
    entry = LedgerEntry.objects.get(pk=current.ledger_entry_id)
    try:
        billing_services.ledger_reverse(entry=entry, note=reason[:200])
    except BillingError as exc:
        raise PaymentError(exc.code, exc.message, status=409) from None
    current.status = PaymentStatus.REVERSED
    current.reversed_at = timezone.now()
    current.reverse_reason = reason[:200]
    current.reversed_by = user
    current.reversed_in_session = session
    current.save(
        update_fields=[
            "status",
            "reversed_at",
            "reverse_reason",
            "reversed_by",
            "reversed_in_session",
        ]
    )
    settlement.settle_account(account=current.account_id)
    return current


# --- cash sessions ------------------------------------------------------------------------------


@transaction.atomic
def cash_session_open(*, user, window: str, opening_float: Decimal = ZERO) -> CashSession:
    """Open a cash session of ``user`` at ``window`` with the float in the drawer.

    Raises PaymentError: ``bad_window``, ``bad_amount``, ``session_open`` (409: the cashier
    has one open; the partial unique constraint makes it hold under concurrency too)."""
    window = (window or "").strip()
    if not window:
        raise PaymentError("bad_window", _("Name the window or office."), field="window")
    opening_float = money_value(opening_float, field="opening_float", allow_zero=True)
    if CashSession.objects.filter(cashier=user, status=SessionStatus.OPEN).exists():
        raise PaymentError("session_open", _("You already have an open cash session."), status=409)
    try:
        with transaction.atomic():
            return CashSession.objects.create(
                cashier=user, window=window[:60], opening_float=opening_float
            )
    except IntegrityError as exc:
        if "cashsession_one_open" in str(exc):
            raise PaymentError(
                "session_open", _("You already have an open cash session."), status=409
            ) from None
        raise


def _count_value(counted: dict) -> tuple[dict[str, int], Decimal]:
    """Normalise counted denominations (face value → pieces) and total them."""
    clean: dict[str, int] = {}
    total = ZERO
    valid = {str(d): d for d in DENOMINATIONS} | {f"{d:.2f}": d for d in DENOMINATIONS}
    for face, pieces in (counted or {}).items():
        key = str(face).strip()
        if key not in valid:
            raise PaymentError(
                "bad_denomination",
                _("%(face)s is not a peso bill or coin.") % {"face": key},
                field="counted",
            )
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 0:
            raise PaymentError(
                "bad_count",
                _("The count of %(face)s must be a whole number, zero or more.") % {"face": key},
                field="counted",
            )
        value = valid[key]
        name = f"{value:.2f}"
        clean[name] = clean.get(name, 0) + pieces
        total += value * pieces
    return clean, total.quantize(CENT)


def cash_session_reconcile(*, session: CashSession) -> dict:
    """What the drawer should hold and what each method took in ``session``.

    Expected cash = opening float + cash payments taken in the session - cash payments
    reversed in it. Per method: the payments taken (count, total), the reversals counted in
    the session (count, total) and the net. Money as Decimal."""
    taken = (
        Payment.objects.filter(cash_session=session)
        .values("method")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    reversed_ = (
        Payment.objects.filter(reversed_in_session=session)
        .values("method")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    methods = {
        m: {"count": 0, "total": ZERO, "reversed_count": 0, "reversed_total": ZERO}
        for m in Method.values
    }
    for row in taken:
        methods[row["method"]].update(count=row["n"], total=row["total"])
    for row in reversed_:
        methods[row["method"]].update(reversed_count=row["n"], reversed_total=row["total"])
    for row in methods.values():
        row["net"] = row["total"] - row["reversed_total"]
    expected_cash = session.opening_float + methods[Method.CASH]["net"]
    return {"expected_cash": expected_cash, "methods": methods}


@transaction.atomic
def cash_session_close(*, session: CashSession, user, counted: dict, note: str = "") -> CashSession:
    """Close ``session`` with the counted denominations (``{"500": 3, "0.50": 4}``), storing
    the reconciliation: expected vs counted cash, the difference (counted - expected;
    negative is a shortfall) and the totals per method.

    Raises PaymentError: ``not_yours`` (403), ``session_closed`` (409), ``bad_denomination``,
    ``bad_count``."""
    session = _session_for_update(session.pk)
    if session.cashier_id != getattr(user, "pk", None):
        raise PaymentError("not_yours", _("Only its cashier can close a cash session."), status=403)
    if session.status != SessionStatus.OPEN:
        raise PaymentError("session_closed", _("This cash session is already closed."), status=409)
    clean, counted_cash = _count_value(counted)
    figures = cash_session_reconcile(session=session)
    expected = figures["expected_cash"]
    session.counted = clean
    session.counted_cash = counted_cash
    session.expected_cash = expected
    session.difference = counted_cash - expected
    session.reconciliation = {
        method: {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}
        for method, row in figures["methods"].items()
    }
    session.closing_note = (note or "")[:200]
    session.status = SessionStatus.CLOSED
    session.closed_at = timezone.now()
    session.save()
    return session


def open_session_of(*, user) -> CashSession | None:
    """The user's open cash session, if any (no lock: for pages and checks)."""
    return CashSession.objects.filter(
        Q(status=SessionStatus.OPEN), cashier=getattr(user, "pk", user)
    ).first()
