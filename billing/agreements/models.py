"""Adjustments (ajustes: credit and debit notes approved by a second person) and payment
agreements (convenios: a debt moved into a down payment and monthly installments).

- :class:`AdjustmentReason`: the catalogue of reason codes; each says whether it may be used
  for credit notes, debit notes or both.
- :class:`ApprovalRule`: which role may approve adjustments up to which amount (see
  :func:`billing.agreements.services.adjustment_approve`).
- :class:`Adjustment`: one request, who asked, who decided, and the ledger entry it posted.
  Money is never edited: an approved adjustment is undone by reversing its entry.
- :class:`Agreement` + :class:`AgreementInstallment`: the agreement, its schedule and the
  ledger entries of each installment (see :mod:`billing.agreements.services` for the ledger
  scheme).

History (pghistory) on every table: who asked, who approved, who signed is on the rows, and
every change of a row (a decision, a breach) is recorded with the request's user.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core import roles
from core.history import track_history

MONEY = {"max_digits": 14, "decimal_places": 2}


class AdjustmentKind(models.TextChoices):
    CREDIT = "credit_note", _("Credit note")
    DEBIT = "debit_note", _("Debit note")


class ReasonKind(models.TextChoices):
    CREDIT = "credit_note", _("Credit notes only")
    DEBIT = "debit_note", _("Debit notes only")
    BOTH = "both", _("Credit and debit notes")


@track_history()
class AdjustmentReason(models.Model):
    """A reason code of adjustments. ``label`` is an English message id shown translated
    (the seeded catalogue is in the translation files); reasons added later show as typed."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("description"), max_length=120)
    kind = models.CharField(_("used for"), max_length=12, choices=ReasonKind.choices)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("adjustment reason")
        verbose_name_plural = _("adjustment reasons")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[a-z0-9_]+$"), name="adjreason_code")
        ]

    def __str__(self):
        return f"{self.code} {self.display_label}"

    @property
    def display_label(self) -> str:
        return gettext(self.label)

    def allows(self, kind: str) -> bool:
        return self.kind in (ReasonKind.BOTH, kind)


ROLE_CHOICES = [(code, label) for code, label in roles.ROLE_LABELS.items()]


@track_history()
class ApprovalRule(models.Model):
    """Role ``role`` may approve adjustments of ``kind`` (empty: both kinds) of at most
    ``amount_up_to`` (empty: any amount). A user may approve when any of their roles has a
    rule that covers the amount; never their own request."""

    kind = models.CharField(
        _("kind"), max_length=12, choices=AdjustmentKind.choices, blank=True, default=""
    )
    amount_up_to = models.DecimalField(_("up to amount"), **MONEY, null=True, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=ROLE_CHOICES)

    class Meta:
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")
        ordering = ["kind", "amount_up_to"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_up_to__isnull=True) | Q(amount_up_to__gt=0),
                name="approvalrule_amount_positive",
            ),
            models.UniqueConstraint(fields=["kind", "role"], name="approvalrule_one_per_role"),
        ]

    def __str__(self):
        return f"{self.role} {self.kind or '*'} ≤ {self.amount_up_to or '∞'}"


class AdjustmentStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    # Approval posts the entry in the same transaction: approved always means posted.
    APPROVED = "approved", _("Approved and posted")
    REJECTED = "rejected", _("Not approved")
    CANCELLED = "cancelled", _("Reversed after approval")


@track_history()
class Adjustment(models.Model):
    """A credit note (lowers what the customer owes) or debit note (raises it), requested by
    one person and decided by another under an :class:`ApprovalRule`."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="adjustments",
        verbose_name=_("service account"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=AdjustmentKind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    reason = models.ForeignKey(
        AdjustmentReason,
        on_delete=models.PROTECT,
        related_name="adjustments",
        verbose_name=_("reason"),
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    bill = models.ForeignKey(
        "billing.Bill",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bill corrected"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AdjustmentStatus.choices,
        default=AdjustmentStatus.REQUESTED,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)
    # The rule (and the approver's role) under which it was approved: the audit trail.
    approval_rule = models.ForeignKey(
        ApprovalRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approval rule"),
    )
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ledger entry"),
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reversed by"),
    )
    cancelled_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason of the reversal"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["-requested_at"]
        permissions = [
            ("approve_adjustment", _("Can approve or reject adjustments (within the rules)")),
            ("cancel_adjustment", _("Can reverse an approved adjustment")),
            ("report_adjustment", _("Can see the adjustments report")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_amount_positive"),
            # Four eyes: nobody decides their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="adjustment_not_self_decided",
            ),
            models.CheckConstraint(
                condition=Q(status="requested", decided_by__isnull=True, ledger_entry__isnull=True)
                | Q(status="rejected", decided_by__isnull=False, ledger_entry__isnull=True)
                | Q(
                    status__in=["approved", "cancelled"],
                    decided_by__isnull=False,
                    approval_rule__isnull=False,
                    ledger_entry__isnull=False,
                ),
                name="adjustment_status_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_by__isnull=False),
                name="adjustment_cancel_attributed",
            ),
        ]
        indexes = [
            models.Index(fields=["requested_at"], name="adjustment_requested_at"),
            models.Index(
                fields=["requested_at"],
                condition=Q(status="requested"),
                name="adjustment_pending",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.account_id} {self.amount}"

    @property
    def signed_amount(self):
        """What it does to the balance: a credit note lowers it."""
        return -self.amount if self.kind == AdjustmentKind.CREDIT else self.amount


class AgreementStatus(models.TextChoices):
    CURRENT = "current", _("In force")
    COMPLETED = "completed", _("Paid off")
    BREACHED = "breached", _("Breached (debt restored)")
    CANCELLED = "cancelled", _("Cancelled on request (debt restored)")


@track_history()
class Agreement(models.Model):
    """A payment agreement of one account: ``debt`` (what was open when it was signed) is
    paid as ``down_payment`` (installment 0, due at signing) plus ``installments`` monthly
    installments from ``first_due_date``, with interest at ``monthly_rate`` on the balance
    still financed. An installment unpaid ``grace_days`` after it fell due breaks it."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="agreements",
        verbose_name=_("service account"),
    )
    debt = models.DecimalField(_("debt covered"), **MONEY)
    due_before = models.DateField(
        _("covers debts due before"),
        null=True,
        blank=True,
        help_text=_("Empty: every debt open when it was signed."),
    )
    down_payment = models.DecimalField(_("down payment"), **MONEY)
    installments = models.PositiveSmallIntegerField(_("installments"))
    monthly_rate = models.DecimalField(
        _("monthly interest rate"),
        max_digits=7,
        decimal_places=6,
        default=0,
        help_text=_("A fraction: 0.015 is 1.5 % a month."),
    )
    first_due_date = models.DateField(_("first installment due"))
    grace_days = models.PositiveSmallIntegerField(_("days of grace before a breach"))
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.CURRENT
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    # The credit that moved the covered debts into the agreement (set in the signing
    # transaction, right after the agreement's id exists to be its document id).
    transfer_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfer entry"),
    )
    closed_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    close_reason = models.CharField(_("reason it ended"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("payment agreement")
        verbose_name_plural = _("payment agreements")
        ordering = ["-signed_at"]
        permissions = [
            ("cancel_agreement", _("Can cancel a payment agreement")),
            ("check_agreement", _("Can run the breach check of payment agreements")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="current"),
                name="agreement_one_current_per_account",
            ),
            models.CheckConstraint(
                condition=Q(debt__gt=0, down_payment__gte=0, down_payment__lt=F("debt")),
                name="agreement_amounts",
            ),
            models.CheckConstraint(
                condition=Q(installments__gte=1, installments__lte=120),
                name="agreement_installments_range",
            ),
            models.CheckConstraint(
                condition=Q(monthly_rate__gte=0, monthly_rate__lt=1), name="agreement_rate_range"
            ),
            models.CheckConstraint(
                condition=Q(status="current") | Q(closed_at__isnull=False),
                name="agreement_closed_when_ended",
            ),
        ]
        indexes = [models.Index(fields=["status", "account"], name="agreement_status")]

    def __str__(self):
        return f"{self.account_id} #{self.pk} {self.debt}"


@track_history()
class AgreementInstallment(models.Model):
    """One line of the schedule (0: the down payment) and its ledger entries."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="schedule", verbose_name=_("agreement")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    principal = models.DecimalField(_("principal"), **MONEY)
    interest = models.DecimalField(_("interest"), **MONEY, default=0)
    principal_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("principal entry"),
    )
    interest_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("interest entry"),
    )

    class Meta:
        verbose_name = _("agreement installment")
        verbose_name_plural = _("agreement installments")
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="installment_number"),
            models.CheckConstraint(
                condition=Q(principal__gt=0, interest__gte=0), name="installment_amounts"
            ),
            models.CheckConstraint(
                condition=Q(interest=0, interest_entry__isnull=True)
                | Q(interest__gt=0, interest_entry__isnull=False),
                name="installment_interest_entry",
            ),
        ]

    def __str__(self):
        return f"{self.agreement_id}/{self.number} {self.due_date}"

    @property
    def amount(self):
        return self.principal + self.interest
