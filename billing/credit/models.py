"""Credit control (control de crédito) at the points of service, and the collection log
(gestiones de cobranza).

- :class:`CreditPolicy`: the decision table. A row says "at this point of service, at this
  configured level, when this figure of the customer's situation reaches this threshold, the
  decision is at least this". The decision of a check is the most severe of the rows met
  (none met: *inform*). Seeded by a data migration with three levels (lenient, standard,
  strict); the level in force is ``settings.CAUDAL_CREDIT["level"]`` (default standard).
- :class:`CreditCheck`: the log of every check (who, when, the subject, the decision, the
  figures and reasons shown to the clerk) and, for an *authorize* decision, who authorized it.
- :class:`CollectionContact`: a call, visit, letter or WhatsApp message of a collector, with
  its result and the next contact date; a promise of payment (:class:`PaymentPromise`) is
  kept when payments reach it by its date, else broken, and a broken promise raises one
  :class:`Escalation` for managers.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from core.history import track_history

MONEY = {"max_digits": 14, "decimal_places": 2}


class CreditError(BillingError):
    """A refused credit-control or collection request; nothing was written. Codes:
    ``point_unknown`` (point of service), ``subject_required``, ``not_allowed`` (403),
    ``note_required``, ``not_found`` (404), ``not_authorizable`` (409),
    ``already_authorized`` (409), ``own_check``, ``credit_refused``,
    ``authorization_required``, ``promise_incomplete``, ``promise_date``, ``promise_open``
    (409), ``kind_invalid``, ``result_invalid``, ``next_contact_past``,
    ``position_visit_only``, ``point_invalid``/``srid_missing``/``srid_invalid`` (GPS
    position)."""


class Point(models.TextChoices):
    NEW_CONTRACT = "new_contract", _("New contract")
    FEASIBILITY = "feasibility", _("Feasibility")
    OWNERSHIP_TRANSFER = "ownership_transfer", _("Change of account holder")
    AGREEMENT = "agreement", _("Payment agreement")


class Level(models.TextChoices):
    LENIENT = "lenient", _("Lenient")
    STANDARD = "standard", _("Standard")
    STRICT = "strict", _("Strict")


class Decision(models.TextChoices):
    # In order of severity: the check answers the most severe decision of the rules met.
    INFORM = "inform", _("Inform")
    WARN = "warn", _("Warn")
    AUTHORIZE = "authorize", _("Needs authorization")
    REFUSE = "refuse", _("Refuse")


SEVERITY = {d: rank for rank, d in enumerate(Decision.values)}


class Figure(models.TextChoices):
    OVERDUE_AMOUNT = "overdue_amount", _("Past-due amount of the customer")
    DAYS_OVERDUE = "days_overdue", _("Days past due (oldest debt)")
    OVERDUE_ACCOUNTS = "overdue_accounts", _("Accounts of the customer with past-due debt")
    SUSPENDED_ACCOUNTS = "suspended_accounts", _("Suspended or cut-off accounts")
    BROKEN_PROMISES = "broken_promises", _("Broken promises of payment")
    BREACHED_AGREEMENTS = "breached_agreements", _("Breached payment agreements")
    ACCOUNT_OVERDUE = "account_overdue", _("Past-due amount of the account")
    PARCEL_OVERDUE = "parcel_overdue", _("Past-due amount on the parcel")


# Figures counted over the last ``months`` of the rule.
WINDOWED = (Figure.BROKEN_PROMISES, Figure.BREACHED_AGREEMENTS)


@track_history()
class CreditPolicy(models.Model):
    """One row of the decision table (see the module docstring)."""

    point = models.CharField(_("point of service"), max_length=20, choices=Point.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    figure = models.CharField(_("figure"), max_length=20, choices=Figure.choices)
    threshold = models.DecimalField(
        _("threshold"),
        **MONEY,
        help_text=_("The rule applies when the figure is at least this (pesos, days or count)."),
    )
    months = models.PositiveSmallIntegerField(
        _("months looked back"),
        default=12,
        help_text=_("For broken promises and breached agreements only."),
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("credit policy rule")
        verbose_name_plural = _("credit policy rules")
        ordering = ["point", "level", "figure", "threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["point", "level", "figure", "threshold"], name="creditpolicy_unique"
            ),
            models.CheckConstraint(condition=Q(threshold__gt=0), name="creditpolicy_threshold"),
            models.CheckConstraint(
                condition=Q(point__in=Point.values)
                & Q(level__in=Level.values)
                & Q(figure__in=Figure.values)
                & Q(decision__in=Decision.values),
                name="creditpolicy_choices",
            ),
            models.CheckConstraint(
                condition=Q(months__gte=1, months__lte=120), name="creditpolicy_months"
            ),
        ]

    def __str__(self):
        return f"{self.point}/{self.level}: {self.figure} ≥ {self.threshold} → {self.decision}"


@track_history()
class CreditCheck(models.Model):
    """A credit check as the clerk saw it, and its authorization when one was needed."""

    point = models.CharField(_("point of service"), max_length=20, choices=Point.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    customer = models.ForeignKey(
        "cadastre.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service account"),
    )
    parcel = models.ForeignKey(
        "cadastre.Parcel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("parcel"),
    )
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    authorized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("authorized by"),
    )
    authorized_at = models.DateTimeField(_("authorized at"), null=True, blank=True)
    authorization_note = models.CharField(_("authorization note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("credit check")
        verbose_name_plural = _("credit checks")
        ordering = ["-checked_at", "-pk"]
        permissions = [
            ("run_creditcheck", _("Can run credit checks")),
            ("authorize_creditcheck", _("Can authorize a credit decision")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False)
                | Q(account__isnull=False)
                | Q(parcel__isnull=False),
                name="creditcheck_has_subject",
            ),
            models.CheckConstraint(
                condition=Q(point__in=Point.values)
                & Q(level__in=Level.values)
                & Q(decision__in=Decision.values),
                name="creditcheck_choices",
            ),
            models.CheckConstraint(
                condition=Q(authorized_by__isnull=True, authorized_at__isnull=True)
                | Q(authorized_by__isnull=False, authorized_at__isnull=False, decision="authorize"),
                name="creditcheck_authorized_when_asked",
            ),
            # The second pair of eyes: nobody authorizes their own check.
            models.CheckConstraint(
                condition=Q(authorized_by__isnull=True)
                | Q(checked_by__isnull=True)
                | ~Q(authorized_by=F("checked_by")),
                name="creditcheck_other_user",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "checked_at"], name="creditcheck_customer"),
            models.Index(fields=["account", "checked_at"], name="creditcheck_account"),
        ]

    def __str__(self):
        return f"{self.point} #{self.pk}: {self.decision}"


class ContactKind(models.TextChoices):
    CALL = "call", _("Phone call")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")
    WHATSAPP = "whatsapp", _("WhatsApp message")


class ContactResult(models.TextChoices):
    PROMISE = "promise", _("Promise of payment")
    PAID = "paid", _("Says they already paid")
    NO_ANSWER = "no_answer", _("No answer")
    REFUSED = "refused", _("Refuses to pay")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    NOT_FOUND = "not_found", _("Nobody found at the address")
    LEFT_MESSAGE = "left_message", _("Message left")
    DISPUTE = "dispute", _("Disputes the debt")
    MOVED = "moved", _("Customer moved away")


@track_history()
class CollectionContact(models.Model):
    """One collection action (gestión) on an account by a collector."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="collection_contacts",
        verbose_name=_("service account"),
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="collection_contacts",
        verbose_name=_("collector"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ContactKind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    result = models.CharField(_("result"), max_length=15, choices=ContactResult.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    next_contact = models.DateField(_("next contact"), null=True, blank=True)
    position = models.PointField(
        _("GPS position"), srid=settings.CAUDAL_SRID, null=True, blank=True
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("collection contact")
        verbose_name_plural = _("collection contacts")
        ordering = ["-at", "-pk"]
        permissions = [("view_worklist", _("Can see collection worklists and visit routes"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(position__isnull=True) | Q(kind="visit"),
                name="collectioncontact_position_on_visits",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ContactKind.values) & Q(result__in=ContactResult.values),
                name="collectioncontact_choices",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "at"], name="collectioncontact_account"),
            models.Index(fields=["collector", "next_contact"], name="collectioncontact_next"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.kind} {self.result}"


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")


@track_history()
class PaymentPromise(models.Model):
    """What the customer promised to pay, by when (recorded with a contact)."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="payment_promises",
        verbose_name=_("service account"),
    )
    contact = models.OneToOneField(
        CollectionContact,
        on_delete=models.PROTECT,
        related_name="promise",
        verbose_name=_("contact"),
    )
    promised_date = models.DateField(_("promised date"))
    amount = models.DecimalField(_("amount promised"), **MONEY)
    status = models.CharField(
        _("status"), max_length=6, choices=PromiseStatus.choices, default=PromiseStatus.OPEN
    )
    paid = models.DecimalField(_("paid by the date"), **MONEY, default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("promise of payment")
        verbose_name_plural = _("promises of payment")
        ordering = ["promised_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="paymentpromise_amount"),
            models.CheckConstraint(
                condition=Q(status__in=PromiseStatus.values), name="paymentpromise_status"
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="open"),
                name="paymentpromise_one_open_per_account",
            ),
            models.CheckConstraint(
                condition=Q(status="open", decided_at__isnull=True)
                | (~Q(status="open") & Q(decided_at__isnull=False)),
                name="paymentpromise_decided_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "promised_date"], name="paymentpromise_due")]

    def __str__(self):
        return f"{self.account_id} {self.amount} by {self.promised_date} ({self.status})"


@track_history()
class Escalation(models.Model):
    """A broken promise brought to finance and managers; one per promise."""

    promise = models.OneToOneField(
        PaymentPromise,
        on_delete=models.PROTECT,
        related_name="escalation",
        verbose_name=_("promise of payment"),
    )
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("service account"),
    )
    reason = models.CharField(_("reason"), max_length=500)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    notified_at = models.DateTimeField(_("managers notified at"), null=True, blank=True)
    notified = models.PositiveSmallIntegerField(_("managers e-mailed"), default=0)
    notify_error = models.CharField(_("notification error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.account_id}: {self.reason}"
