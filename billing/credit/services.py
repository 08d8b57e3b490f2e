"""Writes of the collection log: contacts, promises of payment and their nightly check, and
the escalation of broken promises to managers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.credit.control import money
from billing.credit.models import (
    CollectionContact,
    ContactKind,
    ContactResult,
    CreditError,
    Escalation,
    PaymentPromise,
    PromiseStatus,
)
from billing.models import LedgerEntry
from core import roles
from gis_core.srid import to_storage_point

PAYMENT_DOCUMENT = "payment"
PROMISE_REMINDER_SOURCE = "credit:promise:{id}:reminder"


def contact_log(
    *,
    account,
    collector,
    kind: str,
    result: str,
    at: dt.datetime | None = None,
    note: str = "",
    next_contact: dt.date | None = None,
    position=None,
    promise_date: dt.date | None = None,
    promise_amount: Decimal | None = None,
) -> CollectionContact:
    """Record a collection contact (call, visit, letter, WhatsApp) and, when its result is a
    promise, the promise of payment. ``position`` (a GPS point, any SRID; visits only) is
    stored in the storage SRID.

    Raises CreditError ``kind_invalid``, ``result_invalid``, ``position_visit_only``,
    ``point_invalid``/``srid_missing``/``srid_invalid``, ``next_contact_past``,
    ``promise_incomplete``, ``promise_date`` and ``promise_open`` (409: the account already
    has an open promise; wait for its date). Nothing is written when it raises.
    """
    if kind not in ContactKind.values:
        raise CreditError("kind_invalid", _("Unknown kind of contact."), field="kind")
    if result not in ContactResult.values:
        raise CreditError("result_invalid", _("Unknown contact result."), field="result")
    at = at or timezone.now()
    day = timezone.localdate(at)
    if position is not None:
        if kind != ContactKind.VISIT:
            raise CreditError(
                "position_visit_only",
                _("Only visits record a GPS position."),
                field="position",
            )
        position = to_storage_point(position, error=CreditError, field="position")
    if next_contact is not None and next_contact < day:
        raise CreditError(
            "next_contact_past",
            _("The next contact cannot be before the contact itself."),
            field="next_contact",
        )
    promised = result == ContactResult.PROMISE
    if promised:
        if promise_date is None or promise_amount is None or promise_amount <= 0:
            raise CreditError(
                "promise_incomplete",
                _("A promise of payment needs its date and an amount above zero."),
                field="promise_amount" if promise_date else "promise_date",
            )
        if promise_date < day:
            raise CreditError(
                "promise_date",
                _("The promised date cannot be before the contact."),
                field="promise_date",
            )
    with transaction.atomic():
        contact = CollectionContact.objects.create(
            account=account,
            collector=collector,
            kind=kind,
            result=result,
            at=at,
            note=(note or "").strip()[:500],
            next_contact=next_contact,
            position=position,
        )
        if promised:
            try:
                with transaction.atomic():
                    PaymentPromise.objects.create(
                        account=account,
                        contact=contact,
                        promised_date=promise_date,
                        amount=promise_amount,
                        created_at=at,
                    )
            except IntegrityError as exc:
                # The partial unique index (one open promise per account) decided it.
                raise CreditError(
                    "promise_open",
                    _("Account %(account)s already has an open promise of payment.")
                    % {"account": account.number},
                    field="promise_date",
                    status=409,
                ) from exc
    return contact


def _end_of(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` in the utility's zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def promise_paid(*, promise: PaymentPromise, until: dt.date) -> Decimal:
    """Payments (negative ledger entries of document type ``payment``, neither reversed nor
    reversals) posted on the promise's account from the promise until the end of ``until``."""
    total = LedgerEntry.objects.filter(
        account_id=promise.account_id,
        document_type=PAYMENT_DOCUMENT,
        amount__lt=0,
        reversal_of__isnull=True,
        reversed_by__isnull=True,
        posted_at__gte=promise.created_at,
        posted_at__lt=_end_of(until),
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or Decimal("0.00"))


def promises_check(*, day: dt.date) -> dict:
    """Decide the open promises as of ``day``: a promise is *kept* once payments since it
    reach its amount by its date (checked with the payments up to ``day``); it is *broken*
    when its date is before ``day`` and they did not. Each broken promise raises one
    :class:`Escalation` (the one-to-one makes a second run add nothing). Promises falling due
    tomorrow get a reminder notice (template ``promise_reminder``) when the customer has an
    e-mail or phone. Rows are locked in primary-key order. Returns the counts."""
    from core.notifications.models import NotifyError
    from core.notifications.services import notice_queue

    counts = {"kept": 0, "broken": 0, "escalated": 0, "reminded": 0}
    now = timezone.now()
    with transaction.atomic():
        promises = list(
            PaymentPromise.objects.filter(status=PromiseStatus.OPEN, created_at__lt=_end_of(day))
            .select_related("account__customer")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        for promise in promises:
            paid = promise_paid(promise=promise, until=min(day, promise.promised_date))
            if paid >= promise.amount:
                promise.status = PromiseStatus.KEPT
            elif promise.promised_date < day:
                promise.status = PromiseStatus.BROKEN
            else:
                if promise.promised_date == day + dt.timedelta(days=1):
                    try:
                        notice_queue(
                            account=promise.account,
                            template="promise_reminder",
                            context={
                                "amount": f"{promise.amount:,.2f}",
                                "date": promise.promised_date.strftime("%d/%m/%Y"),
                            },
                            source=PROMISE_REMINDER_SOURCE.format(id=promise.pk),
                        )
                        counts["reminded"] += 1
                    except NotifyError:
                        pass  # no e-mail or phone: the collector's worklist still shows it
                continue
            promise.paid, promise.decided_at = paid, now
            promise.save(update_fields=["status", "paid", "decided_at"])
            counts[promise.status] += 1
            if promise.status == PromiseStatus.BROKEN:
                _escalation, created = Escalation.objects.get_or_create(
                    promise=promise,
                    defaults={"account": promise.account, "reason": _broken_reason(promise, paid)},
                )
                counts["escalated"] += int(created)
    return counts


def _broken_reason(promise: PaymentPromise, paid: Decimal) -> str:
    # Stored, and read by managers later: in the utility's language, not the job's.
    with translation.override(settings.LANGUAGE_CODE):
        return _(
            "Account %(account)s (%(customer)s) broke a promise to pay %(amount)s by %(date)s: "
            "%(paid)s paid."
        ) % {
            "account": promise.account.number,
            "customer": promise.account.customer.full_name,
            "amount": money(promise.amount),
            "date": promise.promised_date.strftime("%d/%m/%Y"),
            "paid": money(paid),
        }


def escalation_recipients() -> list[str]:
    """E-mail addresses of the active users of the manager role."""
    users = (
        get_user_model()
        .objects.filter(groups__name=roles.MANAGER, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


def escalations_notify(*, limit: int = 200) -> dict:
    """E-mail the escalations not yet notified to the managers (through the notifications
    e-mail channel). The rows are claimed (``notified_at`` set, ``SKIP LOCKED``) and committed
    before anything is sent, so two runs never e-mail one twice; the count of managers reached
    and any error are recorded after. Returns ``{"escalations": n, "emails": n}``."""
    from core.notifications.channels import channel_for

    with transaction.atomic():
        rows = list(
            Escalation.objects.filter(notified_at__isnull=True)
            .select_related("account")
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        if rows:
            Escalation.objects.filter(pk__in=[r.pk for r in rows]).update(
                notified_at=timezone.now()
            )
    recipients = escalation_recipients()
    channel = channel_for("email")
    emails = 0
    for row in rows:
        reached, errors = 0, []
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Broken promise of payment: account %(account)s") % {
                "account": row.account.number
            }
        for address in recipients:
            result = channel.send(address, subject, row.reason)
            if result.ok:
                reached += 1
            else:
                errors.append(f"{address}: {result.error}")
        Escalation.objects.filter(pk=row.pk).update(
            notified=reached, notify_error="; ".join(errors)[:500]
        )
        emails += reached
    return {"escalations": len(rows), "emails": emails}
