"""Writes of notifications: queue a notice, send the pending ones (other apps' outboxes
become notices through their declared sources, :mod:`core.notifications.sources`).

Sending is two short transactions around the provider call, never one long one:

1. *claim*: ``SELECT … FOR UPDATE SKIP LOCKED`` picks pending rows (another sender's rows are
   skipped, not waited for), marks them ``sending`` with ``claimed_at`` and commits;
2. the provider is called for each claimed row outside any transaction (an SMTP or HTTP call
   must not hold row locks);
3. each result is recorded (``sent`` with the provider id, or ``failed`` with the error).

A sender that dies between 1 and 3 leaves rows ``sending``; they are claimed again after
``STALE_CLAIM`` (at-least-once: such a message may reach the customer twice, which is better
than never for a suspension or an outage notice).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.notifications.channels import channel_for
from core.notifications.models import (
    ChannelKind,
    MessageTemplate,
    Notice,
    NoticeStatus,
    NotifyError,
)

STALE_CLAIM = timedelta(minutes=15)


class _SafeDict(dict):
    """A missing placeholder stays in the text as ``{name}``: a template edited with a typo
    must not stop a whole batch of notices."""

    def __missing__(self, key):
        return "{" + key + "}"


def render(text: str, context: dict) -> str:
    try:
        return text.format_map(_SafeDict({k: "" if v is None else v for k, v in context.items()}))
    except (ValueError, IndexError, AttributeError):
        # A stray brace or "{0}" in an edited template: send it as written rather than fail.
        return text


def template_get(*, code: str, channel: str, language: str | None = None) -> MessageTemplate:
    """The active template of ``code`` for ``channel`` in ``language`` (default: the utility's
    ``LANGUAGE_CODE``), falling back to its base language (``es-mx`` → ``es``). Raises
    NotifyError ``template_unknown``."""
    language = (language or settings.LANGUAGE_CODE).lower()
    wanted = [language, language.split("-")[0]]
    found = {
        t.language: t
        for t in MessageTemplate.objects.filter(
            code=code, channel=channel, language__in=wanted, active=True
        )
    }
    for lang in wanted:
        if lang in found:
            return found[lang]
    raise NotifyError(
        "template_unknown",
        _("There is no %(channel)s message template %(code)s: add it in the templates.")
        % {"channel": channel, "code": code},
        field="template",
    )


def preferred_contact(customer) -> tuple[str, str] | None:
    """The customer's channel and address: e-mail when they gave one, else SMS to their
    phone; None when they gave neither."""
    if customer.email.strip():
        return ChannelKind.EMAIL, customer.email.strip()
    phone = "".join(customer.phone.split())
    if phone:
        return ChannelKind.SMS, phone
    return None


def notice_queue(
    *,
    account,
    template: str,
    context: dict,
    source: str,
    channel: str | None = None,
    address: str | None = None,
    user=None,
) -> Notice:
    """Queue one message to the holder of ``account``, rendered now from ``template``.

    ``channel`` defaults to the customer's preferred contact (e-mail, else SMS); ``address``
    to the customer's e-mail or phone for that channel. ``context`` fills the template; the
    account number and the customer's name are always there (``{account}``, ``{customer}``).
    A ``source`` reaches an address through a channel once: queueing it again returns the
    existing notice and writes nothing. Raises NotifyError ``source_required``,
    ``channel_unknown``, ``no_address``, ``template_unknown``.
    """
    source = (source or "").strip()
    if not source:
        raise NotifyError("source_required", _("Say what the notice is for."), field="source")
    customer = account.customer
    if channel is None:
        contact = preferred_contact(customer)
        if contact is None:
            raise NotifyError(
                "no_address",
                _("Customer %(customer)s has no e-mail or phone: add one to notify them.")
                % {"customer": customer},
                field="channel",
            )
        channel, default_address = contact
    elif channel not in ChannelKind.values:
        raise NotifyError(
            "channel_unknown",
            _("Unknown channel: %(channel)s.") % {"channel": channel},
            field="channel",
        )
    else:
        default_address = (
            customer.email.strip()
            if channel == ChannelKind.EMAIL
            else "".join(customer.phone.split())
        )
    address = (address or default_address or "").strip()
    if not address:
        raise NotifyError(
            "no_address",
            _("Customer %(customer)s has no address for %(channel)s.")
            % {"customer": customer, "channel": ChannelKind(channel).label},
            field="address",
        )
    existing = Notice.objects.filter(source=source, channel=channel, address=address).first()
    if existing is not None:
        return existing
    chosen = template_get(code=template, channel=channel)
    full = {"account": account.number, "customer": customer.full_name, **context}
    try:
        # A savepoint: a concurrent queue of the same source wins the unique constraint and
        # this one returns its row instead of breaking the caller's transaction.
        with transaction.atomic():
            return Notice.objects.create(
                account=account,
                customer=customer,
                channel=channel,
                address=address,
                template_code=template,
                subject=render(chosen.subject, full),
                body=render(chosen.body, full),
                source=source,
                created_by=user,
            )
    except IntegrityError:
        return Notice.objects.get(source=source, channel=channel, address=address)


def _claim(limit: int) -> list[Notice]:
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Notice.objects.filter(
                Q(status=NoticeStatus.PENDING)
                | Q(status=NoticeStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
            )
            .order_by("pk")
            .select_for_update(skip_locked=True)[:limit]
        )
        ids = [n.pk for n in rows]
        if ids:
            Notice.objects.filter(pk__in=ids).update(status=NoticeStatus.SENDING, claimed_at=now)
        for n in rows:
            n.status, n.claimed_at = NoticeStatus.SENDING, now
    return rows


def notices_send(*, limit: int = 500) -> dict:
    """Send up to ``limit`` pending notices, oldest first, and record each result: ``sent``
    with ``sent_at`` and the provider's id, or ``failed`` with the provider's error (no
    automatic retry: a failed address usually needs a person to fix it). Rows another sender
    holds are skipped. Returns ``{"sent": n, "failed": n}``."""
    claimed = _claim(limit)
    channels: dict[str, object] = {}
    counts = {"sent": 0, "failed": 0}
    for notice in claimed:
        channel = channels.get(notice.channel)
        if channel is None:
            channel = channels[notice.channel] = channel_for(notice.channel)
        result = channel.send(notice.address, notice.subject, notice.body)
        fields = {"attempts": notice.attempts + 1, "claimed_at": None}
        if result.ok:
            fields |= {
                "status": NoticeStatus.SENT,
                "sent_at": timezone.now(),
                "provider_id": result.provider_id[:120],
                "error": "",
            }
        else:
            fields |= {"status": NoticeStatus.FAILED, "error": result.error or "?"}
        # Guarded by our claim: a row reclaimed as stale by another sender is not overwritten.
        Notice.objects.filter(
            pk=notice.pk, status=NoticeStatus.SENDING, claimed_at=notice.claimed_at
        ).update(**fields)
        counts["sent" if result.ok else "failed"] += 1
    return counts


def notice_retry(*, notice: Notice) -> Notice:
    """Put a failed notice back in the queue (after its address was corrected or the provider
    came back). Raises NotifyError ``not_failed`` for any other status."""
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if locked.status != NoticeStatus.FAILED:
            raise NotifyError(
                "not_failed", _("Only a notice that could not be sent can be sent again.")
            )
        locked.status = NoticeStatus.PENDING
        locked.save(update_fields=["status"])
    return locked
