"""CFDI 4.0 documents issued by the utility, as stamped.

- :class:`Cfdi`: one stamped document — an ingreso (I) for a bill, for a payment or the global
  invoice to the general public, or a pago (P) with the Pagos 2.0 complement. ``xml`` is the
  stamped XML exactly as the PAC returned it; the other columns repeat what was issued, for
  queries. Folios are unique per serie and come from :class:`CfdiSerie`, a counter row bumped
  with ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (the row lock serializes concurrent
  issuers; never ``max() + 1``).
- :class:`CfdiRelatedDocument`: a DoctoRelacionado of a pago: which PPD invoice it paid, the
  installment number and balances.
- :class:`CfdiGlobalPayment`: the payments a global invoice covers, with the amount of each
  (what it paid of bills not invoiced individually).
- :class:`UnrecordedStamp`: a CFDI the PAC stamped that the database then refused to record
  (``not_recorded``): its stamped XML, kept with its serie and folio so the folio is never
  issued again, until an administrator records or cancels it at SAT.

History: every CFDI row is tracked (pghistory): its status changes (cancellation) are recorded.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import track_history

MONEY = {"max_digits": 14, "decimal_places": 2}


class CfdiKind(models.TextChoices):
    BILL = "bill", _("Invoice of a bill")
    PAYMENT_INVOICE = "payment_invoice", _("Invoice of a payment")
    GLOBAL = "global", _("Global invoice to the general public")
    PAYMENT = "payment", _("Payment complement")


class CfdiStatus(models.TextChoices):
    STAMPED = "stamped", _("Stamped")
    CANCEL_REQUESTED = "cancel_requested", _("Cancellation requested")
    CANCELLED = "cancelled", _("Cancelled")


class CancelReason(models.TextChoices):
    """SAT's c_MotivoCancelacion."""

    ERRORS_WITH_REPLACEMENT = "01", _("01 Issued with errors, replaced by another CFDI")
    ERRORS_WITHOUT_REPLACEMENT = "02", _("02 Issued with errors, not replaced")
    NOT_CARRIED_OUT = "03", _("03 The operation did not take place")
    IN_GLOBAL_INVOICE = "04", _("04 Nominative operation included in a global invoice")


class PaymentMethod(models.TextChoices):
    """SAT's c_MetodoPago."""

    PUE = "PUE", _("PUE Paid in full when issued")
    PPD = "PPD", _("PPD Paid in installments or later")


class Periodicity(models.TextChoices):
    """SAT's c_Periodicidad, the ones a utility uses for its global invoice."""

    DAILY = "01", _("Daily")
    MONTHLY = "04", _("Monthly")


@track_history()
class CfdiSerie(models.Model):
    """The last folio issued in a serie (one row per serie)."""

    serie = models.CharField(_("serie"), max_length=25, primary_key=True)
    last_folio = models.PositiveIntegerField(_("last folio"), default=0)

    class Meta:
        verbose_name = _("CFDI serie")
        verbose_name_plural = _("CFDI series")

    def __str__(self):
        return f"{self.serie} {self.last_folio}"


ACTIVE = ~Q(status=CfdiStatus.CANCELLED)


@track_history()
class Cfdi(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=CfdiKind.choices)
    serie = models.CharField(_("serie"), max_length=25)
    folio = models.PositiveIntegerField(_("folio"))
    status = models.CharField(
        _("status"), max_length=16, choices=CfdiStatus.choices, default=CfdiStatus.STAMPED
    )
    uuid = models.UUIDField(_("fiscal folio (UUID)"), unique=True, null=True, blank=True)
    issuer_rfc = models.CharField(_("issuer RFC"), max_length=13)
    receiver_rfc = models.CharField(_("receiver RFC"), max_length=13)
    receiver_name = models.CharField(_("receiver name"), max_length=254)
    receiver_tax_regime = models.CharField(_("receiver tax regime"), max_length=3)
    receiver_cfdi_use = models.CharField(_("CFDI use"), max_length=4)
    receiver_postal_code = models.CharField(_("receiver tax postal code"), max_length=5)
    payment_method = models.CharField(
        _("SAT payment method (PUE/PPD)"), max_length=3, choices=PaymentMethod.choices, blank=True
    )
    payment_form = models.CharField(_("payment form (SAT code)"), max_length=2, blank=True)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    discount = models.DecimalField(_("discount"), **MONEY, default=0)
    tax = models.DecimalField(_("VAT"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY)
    xml = models.TextField(_("stamped XML"))
    bill = models.ForeignKey(
        "billing.Bill",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cfdis",
        verbose_name=_("bill"),
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cfdis",
        verbose_name=_("payment"),
    )
    # Global invoice: the period it covers (InformacionGlobal: Periodicidad, Meses, Año).
    periodicity = models.CharField(
        _("periodicity"), max_length=2, choices=Periodicity.choices, blank=True
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    stamped_at = models.DateTimeField(_("stamped at"), null=True, blank=True)
    cancel_reason = models.CharField(
        _("cancellation reason"), max_length=2, choices=CancelReason.choices, blank=True
    )
    replacement = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
    )
    cancel_requested_at = models.DateTimeField(
        _("cancellation requested at"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )

    class Meta:
        verbose_name = _("CFDI")
        verbose_name_plural = _("CFDI")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("issue_cfdi", _("Can issue CFDI (invoices, payment complements, global invoices)")),
            ("cancel_cfdi", _("Can cancel CFDI")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["serie", "folio"], name="cfdi_folio_per_serie"),
            models.UniqueConstraint(
                fields=["bill"],
                condition=Q(kind="bill") & ACTIVE,
                name="cfdi_one_active_invoice_per_bill",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind__in=["payment", "payment_invoice"]) & ACTIVE,
                name="cfdi_one_active_per_payment",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["payment", "payment_invoice"]) | Q(payment__isnull=False),
                name="cfdi_payment_kinds_have_payment",
            ),
            models.UniqueConstraint(
                fields=["periodicity", "period_start"],
                condition=Q(kind="global") & ACTIVE,
                name="cfdi_one_active_global_per_period",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, discount__gte=0, tax__gte=0, total__gte=0),
                name="cfdi_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") - F("discount") + F("tax")),
                name="cfdi_total_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(kind="bill") | Q(bill__isnull=False), name="cfdi_bill_has_bill"
            ),
            models.CheckConstraint(
                condition=~Q(kind="global")
                | Q(periodicity__gt="", period_start__isnull=False, period_end__isnull=False),
                name="cfdi_global_has_period",
            ),
            models.CheckConstraint(
                condition=Q(status="stamped") | Q(cancel_reason__gt=""),
                name="cfdi_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(cancel_reason="01") | Q(replacement__isnull=False),
                name="cfdi_reason_01_has_replacement",
            ),
        ]
        indexes = [
            models.Index(fields=["receiver_rfc", "created_at"], name="cfdi_receiver"),
            models.Index(fields=["kind", "status"], name="cfdi_kind_status"),
        ]

    def __str__(self):
        return f"{self.serie}-{self.folio} {self.uuid or ''}"


@track_history()
class CfdiRelatedDocument(models.Model):
    """A DoctoRelacionado of a payment complement: a PPD invoice and what this payment paid."""

    cfdi = models.ForeignKey(
        Cfdi, on_delete=models.PROTECT, related_name="related_documents", verbose_name=_("CFDI")
    )
    invoice = models.ForeignKey(
        Cfdi, on_delete=models.PROTECT, related_name="payments_received", verbose_name=_("invoice")
    )
    installment = models.PositiveSmallIntegerField(_("installment number"))
    previous_balance = models.DecimalField(_("previous balance"), **MONEY)
    amount_paid = models.DecimalField(_("amount paid"), **MONEY)
    balance_after = models.DecimalField(_("outstanding balance"), **MONEY)

    class Meta:
        verbose_name = _("related document")
        verbose_name_plural = _("related documents")
        constraints = [
            models.UniqueConstraint(fields=["cfdi", "invoice"], name="cfdirelated_once"),
            models.CheckConstraint(
                condition=Q(installment__gte=1, amount_paid__gt=0, balance_after__gte=0)
                & Q(balance_after=F("previous_balance") - F("amount_paid")),
                name="cfdirelated_balances",
            ),
        ]

    def __str__(self):
        return f"{self.cfdi_id} → {self.invoice_id} #{self.installment}"


@track_history()
class CfdiGlobalPayment(models.Model):
    """A payment included in a global invoice (a concepto with NoIdentificacion = its id)."""

    cfdi = models.ForeignKey(
        Cfdi, on_delete=models.PROTECT, related_name="global_payments", verbose_name=_("CFDI")
    )
    payment = models.ForeignKey(
        "payments.Payment",
        on_delete=models.PROTECT,
        related_name="global_cfdis",
        verbose_name=_("payment"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("payment in a global invoice")
        verbose_name_plural = _("payments in global invoices")
        constraints = [
            models.UniqueConstraint(fields=["cfdi", "payment"], name="cfdiglobalpayment_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="cfdiglobalpayment_positive"),
        ]

    def __str__(self):
        return f"{self.cfdi_id} ← {self.payment_id}"


@track_history()
class UnrecordedStamp(models.Model):
    """A CFDI that SAT holds and :class:`Cfdi` does not: the PAC stamped it, then the database
    refused the CFDI's rows. Written in the issuing transaction, which then commits (only this
    row and the serie's counter), so the folio stays taken: the next CFDI of the serie gets the
    next folio, not this one. Nothing here is a fiscal document of ours yet: an administrator
    records it (as a :class:`Cfdi`) or cancels it at SAT, and notes what was done."""

    uuid = models.UUIDField(_("fiscal folio (UUID)"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CfdiKind.choices)
    serie = models.CharField(_("serie"), max_length=25)
    folio = models.PositiveIntegerField(_("folio"))
    issuer_rfc = models.CharField(_("issuer RFC"), max_length=13)
    total = models.DecimalField(_("total"), **MONEY)
    xml = models.TextField(_("stamped XML"))
    error = models.TextField(_("database error"))
    stamped_at = models.DateTimeField(_("stamped at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("stamped CFDI not recorded")
        verbose_name_plural = _("stamped CFDI not recorded")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["serie", "folio"], name="cfdi_unrecorded_folio"),
        ]

    def __str__(self):
        return f"{self.serie}-{self.folio} {self.uuid}"
