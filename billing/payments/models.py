"""Payments from every window and what they paid.

- :class:`Payment`: one amount received for one account through one channel (cashier window,
  bank collection file, online API, kiosk). It is posted as ONE negative ledger entry
  (document type ``"payment"``, document id = the payment's own id, concept ``"payment"``),
  then :func:`billing.settlement.settle_account` allocates it to the open items. A bounced
  cheque or a chargeback reverses that entry (``status`` reversed): its settlements stop
  counting, so exactly what it paid re-opens.
- :class:`CashSession`: a cashier's shift at a window, with its opening float and, at the close,
  the counted denominations and the reconciliation per payment method.
- :class:`BankFile` / :class:`BankFileLine`: the collection files banks send (layout in
  :mod:`billing.payments.bank_files`), each file once (SHA-256 unique), each bank authorization
  once (unique per bank).
- :class:`PaymentClient` / :class:`IdempotencyRecord`: the online API's HMAC clients and the
  stored answers of its ``Idempotency-Key`` requests (:mod:`billing.payments.api`).

The database holds the invariants: positive amounts, one open session per cashier, a payment's
ledger entry is ``-amount`` of the payment's own account and document (a trigger: a CHECK cannot
read another table).
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import MONEY
from core.history import track_history

PAYMENT_DOCUMENT = "payment"


class Channel(models.TextChoices):
    CASHIER = "cashier", _("Cashier window")
    BANK = "bank", _("Bank")
    ONLINE = "online", _("Online")
    KIOSK = "kiosk", _("Kiosk")


class Method(models.TextChoices):
    """SAT *forma de pago* codes (catálogo c_FormaPago) of the methods a utility accepts."""

    CASH = "01", _("Cash")
    CHEQUE = "02", _("Cheque")
    TRANSFER = "03", _("Electronic transfer")
    CREDIT_CARD = "04", _("Credit card")
    DEBIT_CARD = "28", _("Debit card")


class PaymentStatus(models.TextChoices):
    POSTED = "posted", _("Posted")
    REVERSED = "reversed", _("Reversed")


class SessionStatus(models.TextChoices):
    OPEN = "open", _("Session open")
    CLOSED = "closed", _("Session closed")


@track_history()
class CashSession(models.Model):
    """A cashier's shift at a window: opened with a float, closed with a count.

    ``counted`` holds the denominations counted at the close (``{"500": 3, "0.50": 4}``: face
    value → pieces); ``reconciliation`` the expected and counted totals per method written by
    :func:`billing.payments.services.cash_session_close` (money as strings)."""

    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cash_sessions",
        verbose_name=_("cashier"),
    )
    window = models.CharField(_("window"), max_length=60)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    opening_float = models.DecimalField(_("opening float"), **MONEY, default=0)
    status = models.CharField(
        _("status"), max_length=6, choices=SessionStatus.choices, default=SessionStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    counted = models.JSONField(_("counted denominations"), default=dict, blank=True)
    counted_cash = models.DecimalField(_("counted cash"), **MONEY, null=True, blank=True)
    expected_cash = models.DecimalField(_("expected cash"), **MONEY, null=True, blank=True)
    difference = models.DecimalField(_("difference"), **MONEY, null=True, blank=True)
    reconciliation = models.JSONField(_("reconciliation"), default=dict, blank=True)
    closing_note = models.CharField(_("closing note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("cash session")
        verbose_name_plural = _("cash sessions")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(status="open"), name="cashsession_one_open"
            ),
            models.CheckConstraint(
                condition=Q(opening_float__gte=0), name="cashsession_float_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="cashsession_closed_has_time",
            ),
        ]
        permissions = [("manage_cash_session", _("Can open and close own cash sessions"))]

    def __str__(self):
        return f"{self.window} {self.cashier_id} {self.opened_at:%Y-%m-%d %H:%M}"


@track_history()
class Payment(models.Model):
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("service account"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    method = models.CharField(_("payment method"), max_length=2, choices=Method.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        related_name="payment",
        verbose_name=_("ledger entry"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=PaymentStatus.choices, default=PaymentStatus.POSTED
    )
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reverse_reason = models.CharField(_("reversal reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    cash_session = models.ForeignKey(
        CashSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("cash session"),
    )
    # Where the reversal was counted: a cash refund leaves the drawer of the session open when
    # the cheque bounced, not of the (maybe closed) session that took it.
    reversed_in_session = models.ForeignKey(
        CashSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("reversed in session"),
    )
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reversed by"),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="posted", reversed_at__isnull=True)
                | Q(status="reversed", reversed_at__isnull=False),
                name="payment_reversed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(channel="cashier") | Q(cash_session__isnull=False),
                name="payment_cashier_has_session",
            ),
            # A gateway's reference (prefixed with the client's key id) posts once, whatever
            # Idempotency-Key a retry carries.
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(channel="online", reference__gt=""),
                name="payment_online_reference_once",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "received_at"], name="payment_account"),
            models.Index(fields=["received_at"], name="payment_received"),
        ]
        permissions = [
            ("take_payment", _("Can take payments")),
            ("reverse_payment", _("Can reverse payments")),
        ]
        triggers = [
            # The ledger entry IS the payment: same account, -amount, its own document.
            pgtrigger.Trigger(
                name="payment_entry_mirrors",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                declare=[("e", "billing_ledgerentry%ROWTYPE")],
                func="""
                    SELECT * INTO e FROM billing_ledgerentry WHERE id = NEW.ledger_entry_id;
                    IF e.account_id IS DISTINCT FROM NEW.account_id
                       OR e.amount <> -NEW.amount
                       OR e.document_type <> 'payment'
                       OR e.document_id <> NEW.id
                       OR e.concept <> 'payment'
                       OR e.reversal_of_id IS NOT NULL THEN
                        RAISE EXCEPTION 'payment %: its ledger entry % must be -amount of '
                            'document payment %', NEW.id, NEW.ledger_entry_id, NEW.id;
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self):
        return f"{self.id} {self.account_id} {self.amount}"


@track_history()
class BankFile(models.Model):
    """A collection file a bank sent (layout: :mod:`billing.payments.bank_files`). Imported
    once: the SHA-256 of its bytes is unique, so the same file uploaded again posts nothing."""

    bank = models.CharField(_("bank"), max_length=10)
    file_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    lines_total = models.PositiveIntegerField(_("lines"), default=0)
    lines_posted = models.PositiveIntegerField(_("lines posted"), default=0)
    lines_duplicate = models.PositiveIntegerField(_("duplicate lines"), default=0)
    amount_total = models.DecimalField(_("total of the file"), **MONEY, default=0)
    amount_posted = models.DecimalField(_("total posted"), **MONEY, default=0)

    class Meta:
        verbose_name = _("bank file")
        verbose_name_plural = _("bank files")
        ordering = ["-uploaded_at"]
        permissions = [("import_bank_file", _("Can import bank collection files"))]

    def __str__(self):
        return f"{self.bank} {self.file_name}"


@track_history(inserts=False)
class BankFileLine(models.Model):
    """A line of a bank file that was posted. A line whose (bank, authorization) was posted
    from another file is not stored again (the unique constraint): it is a duplicate."""

    file = models.ForeignKey(
        BankFile, on_delete=models.PROTECT, related_name="lines", verbose_name=_("bank file")
    )
    line_number = models.PositiveIntegerField(_("line"))
    bank = models.CharField(_("bank"), max_length=10)
    reference = models.CharField(_("payment reference"), max_length=20)
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_at = models.DateTimeField(_("paid at"))
    branch = models.CharField(_("branch"), max_length=20, blank=True)
    authorization = models.CharField(_("bank authorization"), max_length=40)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        related_name="bank_line",
        verbose_name=_("payment"),
    )

    class Meta:
        verbose_name = _("bank file line")
        verbose_name_plural = _("bank file lines")
        ordering = ["file", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "authorization"], name="bankline_once"),
            models.UniqueConstraint(fields=["file", "line_number"], name="bankline_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bankline_amount_positive"),
        ]

    def __str__(self):
        return f"{self.bank} {self.authorization} {self.amount}"


@track_history()
class PaymentClient(models.Model):
    """A program allowed to post online payments (the web portal, the app, a gateway's
    webhook): it signs each request with HMAC-SHA256 of ``secret`` (kept in clear: the server
    must compute the same signature)."""

    name = models.CharField(_("name"), max_length=100)
    key_id = models.CharField(_("key id"), max_length=40, unique=True)
    secret = models.CharField(_("secret"), max_length=128)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment client")
        verbose_name_plural = _("payment clients")

    def __str__(self):
        return self.name


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one client: the SHA-256 of the body first sent with it and,
    once answered, the stored answer (status and body) every retry gets back."""

    client = models.ForeignKey(
        PaymentClient, on_delete=models.PROTECT, related_name="+", verbose_name=_("client")
    )
    key = models.CharField(_("idempotency key"), max_length=100)
    request_sha256 = models.CharField(_("request SHA-256"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_once"),
        ]

    def __str__(self):
        return f"{self.client_id} {self.key}"
