"""Credit control at the points of service: the decision, its log and its authorization.

:func:`credit_check` works out the figures of the situation — the customer's past-due debt
over all their accounts, the oldest debt's age, how many of their accounts owe or are
suspended, broken promises and breached agreements in the rule's window, the account's and
the parcel's past-due debt (a new contract on a parcel with debts) — and applies the
:class:`~billing.credit.models.CreditPolicy` rows of the point of service at the configured
level: the decision is the most severe of the rows met (*inform* when none is). Every check is
logged (:class:`~billing.credit.models.CreditCheck`) with the figures and reasons shown.

:func:`credit_enforce` is what a point of service calls before it writes: *refuse* raises,
*authorize* raises unless an authorized check of the same point and subject is given, *warn*
and *inform* pass (the caller shows the reasons).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.credit.models import (
    SEVERITY,
    WINDOWED,
    CreditCheck,
    CreditError,
    CreditPolicy,
    Decision,
    Figure,
    Level,
    PaymentPromise,
    Point,
    PromiseStatus,
)
from billing.credit.selectors import ZERO, accounts_overdue
from cadastre.models import AccountStatus, ServiceAccount

DEFAULT_LEVEL = Level.STANDARD
# How long an authorization covers the same operation (the clerk comes back to finish it).
AUTHORIZATION_VALID = timedelta(hours=24)
MONEY_FIGURES = (Figure.OVERDUE_AMOUNT, Figure.ACCOUNT_OVERDUE, Figure.PARCEL_OVERDUE)


@dataclass
class CreditDecision:
    decision: str
    reasons: list[str]
    figures: dict
    rules: list[dict] = field(default_factory=list)
    check_id: int | None = None
    level: str = DEFAULT_LEVEL
    point: str = ""


def configured_level() -> str:
    level = (getattr(settings, "CAUDAL_CREDIT", {}) or {}).get("level", DEFAULT_LEVEL)
    return level if level in Level.values else DEFAULT_LEVEL


def money(amount: Decimal) -> str:
    # Pesos as Mexican customers read them ($1,250.00), whatever the locale's separators;
    # the same shape as collections' formal notices.
    return f"${amount:,.2f}"


def _months_back(on: dt.date, months: int) -> dt.date:
    year, month = divmod(on.year * 12 + on.month - 1 - months, 12)
    month += 1
    last_day = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(on.day, last_day))


def _since(on: dt.date, months: int) -> dt.datetime:
    start = _months_back(on, months)
    return timezone.make_aware(dt.datetime.combine(start, dt.time.min))


def _windowed_counts(*, customer, on: dt.date, months: set[int]) -> dict:
    """Broken promises and breached agreements of the customer in each window asked for."""
    from billing.agreements.models import Agreement, AgreementStatus

    counts = {}
    for m in sorted(months):
        since = _since(on, m)
        counts[(Figure.BROKEN_PROMISES, m)] = PaymentPromise.objects.filter(
            account__customer=customer, status=PromiseStatus.BROKEN, decided_at__gte=since
        ).count()
        counts[(Figure.BREACHED_AGREEMENTS, m)] = Agreement.objects.filter(
            account__customer=customer, status=AgreementStatus.BREACHED, closed_at__gte=since
        ).count()
    return counts


def _sentence(figure: str, value, *, months: int, account, parcel) -> str:
    if figure == Figure.OVERDUE_AMOUNT:
        return _("The customer owes %(amount)s past due.") % {"amount": money(value)}
    if figure == Figure.DAYS_OVERDUE:
        return _("Days past due of the oldest debt: %(days)s.") % {"days": value}
    if figure == Figure.OVERDUE_ACCOUNTS:
        return _("Accounts of the customer with past-due debt: %(count)s.") % {"count": value}
    if figure == Figure.SUSPENDED_ACCOUNTS:
        return _("Suspended or cut-off accounts of the customer: %(count)s.") % {"count": value}
    if figure == Figure.BROKEN_PROMISES:
        return _("Promises of payment broken in the last %(months)s months: %(count)s.") % {
            "count": value,
            "months": months,
        }
    if figure == Figure.BREACHED_AGREEMENTS:
        return _("Payment agreements breached in the last %(months)s months: %(count)s.") % {
            "count": value,
            "months": months,
        }
    if figure == Figure.ACCOUNT_OVERDUE:
        return _("Account %(account)s owes %(amount)s past due.") % {
            "account": account.number,
            "amount": money(value),
        }
    return _("The accounts on parcel %(parcel)s owe %(amount)s past due.") % {
        "parcel": parcel.cadastral_key,
        "amount": money(value),
    }


def credit_figures(*, customer=None, account=None, parcel=None, on: dt.date) -> dict:
    """The figures of the situation (money as Decimal, counts and days as int); windowed
    counts are added by :func:`credit_check` per rule window."""
    customer_ids = (
        list(ServiceAccount.objects.filter(customer=customer).values_list("pk", "status"))
        if customer is not None
        else []
    )
    parcel_ids = (
        list(ServiceAccount.objects.filter(parcel=parcel).values_list("pk", flat=True))
        if parcel is not None
        else []
    )
    wanted = {pk for pk, _status in customer_ids} | set(parcel_ids)
    if account is not None:
        wanted.add(account.pk)
    overdue = accounts_overdue(account_ids=sorted(wanted), on=on)
    mine = [overdue[pk] for pk, _status in customer_ids]
    oldest = [o.oldest_due for o in mine if o.oldest_due is not None]
    return {
        Figure.OVERDUE_AMOUNT: sum((o.amount for o in mine), ZERO),
        Figure.DAYS_OVERDUE: (on - min(oldest)).days if oldest else 0,
        Figure.OVERDUE_ACCOUNTS: sum(1 for o in mine if o.amount > 0),
        Figure.SUSPENDED_ACCOUNTS: sum(
            1
            for _pk, status in customer_ids
            if status in (AccountStatus.SUSPENDED, AccountStatus.CUT)
        ),
        Figure.ACCOUNT_OVERDUE: overdue[account.pk].amount if account is not None else ZERO,
        Figure.PARCEL_OVERDUE: sum((overdue[pk].amount for pk in parcel_ids), ZERO),
    }


def _subject(*, point, customer, account, parcel):
    if point not in Point.values:
        raise CreditError(
            "point_unknown",
            _("Unknown point of service: %(point)s.") % {"point": point},
            field="point",
        )
    if account is not None:
        # The account's holder unless another customer is given; its parcel unless another
        # is given. At a change of holder the customer is the *new* holder: none given means
        # a new customer without history, never the outgoing holder.
        if point != Point.OWNERSHIP_TRANSFER:
            customer = customer or account.customer
        parcel = parcel or account.parcel
    if customer is None and parcel is None:
        raise CreditError(
            "subject_required",
            _("Give the customer, the account or the parcel to check."),
            field="customer",
        )
    return customer, account, parcel


def credit_check(
    *,
    point: str,
    customer=None,
    account=None,
    parcel=None,
    user=None,
    on: dt.date | None = None,
    level: str | None = None,
) -> CreditDecision:
    """The credit decision at ``point`` for the subject, logged as a ``CreditCheck`` row.

    ``account`` brings its holder and parcel unless ``customer``/``parcel`` are given (at
    ``ownership_transfer``, ``customer`` is the new holder and is not taken from the account).
    ``level`` defaults to ``settings.CAUDAL_CREDIT["level"]`` (standard); ``on`` to today in
    the utility's zone. Reasons are sentences in the active language, most severe first, one
    per figure (the most severe rule it meets). Writes one ``CreditCheck``. Raises
    CreditError ``point_unknown``, ``subject_required``.
    """
    customer, account, parcel = _subject(
        point=point, customer=customer, account=account, parcel=parcel
    )
    on = on or timezone.localdate()
    level = level if level in Level.values else configured_level()
    rules = list(CreditPolicy.objects.filter(point=point, level=level, active=True))
    figures = credit_figures(customer=customer, account=account, parcel=parcel, on=on)
    windows = {r.months for r in rules if r.figure in WINDOWED}
    windowed = (
        _windowed_counts(customer=customer, on=on, months=windows)
        if customer is not None and windows
        else {}
    )
    # The most severe rule met of each figure (ties: the higher threshold, it says more).
    met: dict[str, tuple] = {}
    for rule in rules:
        value = (
            windowed.get((rule.figure, rule.months), 0)
            if rule.figure in WINDOWED
            else figures[rule.figure]
        )
        if Decimal(value) < rule.threshold:
            continue
        key = (SEVERITY[rule.decision], rule.threshold)
        if rule.figure not in met or key > met[rule.figure][0]:
            met[rule.figure] = (key, rule, value)
    chosen = sorted(met.values(), key=lambda m: (-m[0][0], Figure.values.index(m[1].figure)))
    decision = chosen[0][1].decision if chosen else Decision.INFORM
    reasons = [
        _sentence(rule.figure, value, months=rule.months, account=account, parcel=parcel)
        for _key, rule, value in chosen
    ] or [_("No past-due debt or history that calls for attention at this point of service.")]
    shown = {str(k): str(v) if isinstance(v, Decimal) else v for k, v in figures.items()} | {
        f"{figure}_{months}m": count for (figure, months), count in windowed.items()
    }
    applied = [
        {
            "figure": rule.figure,
            "value": str(value),
            "threshold": str(rule.threshold),
            "months": rule.months if rule.figure in WINDOWED else None,
            "decision": rule.decision,
        }
        for _key, rule, value in chosen
    ]
    check = CreditCheck.objects.create(
        point=point,
        level=level,
        customer=customer,
        account=account,
        parcel=parcel,
        decision=decision,
        reasons=reasons,
        figures=shown | {"on": on.isoformat(), "rules": applied},
        checked_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return CreditDecision(
        decision=decision,
        reasons=reasons,
        figures=shown,
        rules=applied,
        check_id=check.pk,
        level=level,
        point=point,
    )


def credit_authorize(*, check_id: int, user, note: str) -> CreditCheck:
    """Authorize a check whose decision was *authorize*: records who, when and why.

    Raises CreditError ``not_allowed`` (403: the user lacks ``credit.authorize_creditcheck``),
    ``note_required``, ``own_check`` (the clerk who ran the check cannot authorize it),
    ``not_authorizable`` / ``already_authorized`` (409), and 404 ``not_found``.
    """
    if not user.has_perm("credit.authorize_creditcheck"):
        raise CreditError("not_allowed", _("You may not authorize credit decisions."), status=403)
    note = (note or "").strip()
    if not note:
        raise CreditError("note_required", _("Say why you authorize it."), field="note")
    with transaction.atomic():
        check = CreditCheck.objects.select_for_update().filter(pk=check_id).first()
        if check is None:
            raise CreditError(
                "not_found", _("Credit check %(id)s does not exist.") % {"id": check_id}, status=404
            )
        if check.decision != Decision.AUTHORIZE:
            raise CreditError(
                "not_authorizable",
                _("Only a decision that asks for authorization can be authorized."),
            )
        if check.authorized_by_id is not None:
            raise CreditError("already_authorized", _("This check was already authorized."))
        if check.checked_by_id == user.pk:
            raise CreditError(
                "own_check",
                _("Another person must authorize the credit check you ran."),
            )
        check.authorized_by = user
        check.authorized_at = timezone.now()
        check.authorization_note = note[:500]
        check.save(update_fields=["authorized_by", "authorized_at", "authorization_note"])
    return check


def credit_enforce(
    *,
    point: str,
    user,
    customer=None,
    account=None,
    parcel=None,
    authorization: int | None = None,
) -> CreditDecision:
    """Check and stop the operation when the decision says so: raises CreditError
    ``credit_refused`` for *refuse*, ``authorization_required`` for *authorize* unless
    ``authorization`` is the id of an authorized check of the same point and subject made in
    the last ``AUTHORIZATION_VALID``. *warn* and *inform* return the decision (show the
    reasons). The check is logged either way — unless the caller's transaction rolls back."""
    decision = credit_check(
        point=point, customer=customer, account=account, parcel=parcel, user=user
    )
    if decision.decision == Decision.REFUSE:
        raise CreditError(
            "credit_refused",
            _("Refused by credit control: %(reasons)s") % {"reasons": " ".join(decision.reasons)},
            status=409,
        )
    if decision.decision == Decision.AUTHORIZE:
        current = CreditCheck.objects.get(pk=decision.check_id)
        granted = (
            authorization is not None
            and CreditCheck.objects.filter(
                pk=authorization,
                point=point,
                customer_id=current.customer_id,
                account_id=current.account_id,
                parcel_id=current.parcel_id,
                authorized_by__isnull=False,
                checked_at__gte=timezone.now() - AUTHORIZATION_VALID,
            ).exists()
        )
        if not granted:
            raise CreditError(
                "authorization_required",
                _(
                    "Credit control asks for authorization (check %(id)s): %(reasons)s "
                    "Ask a manager to authorize it, then try again with that check."
                )
                % {"id": decision.check_id, "reasons": " ".join(decision.reasons)},
                field="authorization",
                status=409,
            )
    return decision
