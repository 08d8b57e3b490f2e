"""Messages to customers and the record of every notice sent.

- :class:`MessageTemplate`: the wording of each kind of message per channel and language, with
  ``{placeholders}`` filled from a context (a missing key stays visible as ``{key}`` instead of
  failing a whole batch). The Spanish templates are seeded by a data migration; staff edit them.
- :class:`Notice`: one message to one address through one channel, rendered when queued (what
  the customer received is what is stored, even if the template changes later). ``source`` says
  what asked for it (``"collection:action:123"``, ``"network:outage:7:42"``); a source reaches an
  address through a channel once (a unique constraint), so a job that runs twice sends nothing
  twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.history import track_history


class NotifyError(DomainError):
    """A notice could not be queued; nothing was written. Codes: ``template_unknown``,
    ``no_address``, ``channel_unknown``, ``source_required``."""


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    # Claimed by a sender (committed before the provider is called, so a second sender skips
    # it): the sender records sent or failed right after.
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent to the customer")
    FAILED = "failed", _("Could not be sent")


class TemplateCode(models.TextChoices):
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
    FORMAL_NOTICE = "formal_notice", _("Formal notice of debt")
    SUSPENSION_NOTICE = "suspension_notice", _("Suspension notice")
    RECONNECTION_DONE = "reconnection_done", _("Service reconnected")
    OUTAGE_NOTICE = "outage_notice", _("Supply interruption")
    PROMISE_REMINDER = "promise_reminder", _("Promise of payment reminder")
    TICKET_STATUS = "ticket_status", _("Request status update")


@track_history()
class MessageTemplate(models.Model):
    """The wording of one kind of message for one channel and language. ``subject`` is used by
    e-mail only; ``body`` of SMS should stay short (one or two segments)."""

    code = models.CharField(_("code"), max_length=30)
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelKind.choices)
    language = models.CharField(_("language"), max_length=10, default="es")
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel", "language"], name="messagetemplate_unique"
            ),
            models.CheckConstraint(condition=~Q(body=""), name="messagetemplate_body"),
            models.CheckConstraint(
                condition=Q(channel__in=ChannelKind.values), name="messagetemplate_channel"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.channel} {self.language}"


@track_history(inserts=False)
class Notice(models.Model):
    """One message to one address; the record that it was sent (or why it was not)."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("service account"),
    )
    customer = models.ForeignKey(
        "cadastre.Customer",
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ChannelKind.choices)
    address = models.CharField(_("sent to"), max_length=254)
    template_code = models.CharField(_("template"), max_length=30)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    status = models.CharField(
        _("status"), max_length=8, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_id = models.CharField(_("provider's message id"), max_length=120, blank=True)
    error = models.TextField(_("error"), blank=True)
    source = models.CharField(_("source"), max_length=120)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "channel", "address"], name="notice_once_per_source"
            ),
            models.CheckConstraint(condition=~Q(address=""), name="notice_address"),
            models.CheckConstraint(
                condition=Q(channel__in=ChannelKind.values, status__in=NoticeStatus.values),
                name="notice_choices",
            ),
            models.CheckConstraint(condition=~Q(source=""), name="notice_source"),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notice_sent_at"
            ),
            models.CheckConstraint(
                condition=~Q(status="sending") | Q(claimed_at__isnull=False),
                name="notice_claimed_at",
            ),
        ]
        indexes = [
            # The sender's scan: pending rows oldest first.
            models.Index(
                fields=["status", "id"],
                name="notice_pending",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["account", "created_at"], name="notice_account"),
        ]

    def __str__(self):
        return f"{self.channel}:{self.address} {self.template_code} ({self.status})"
