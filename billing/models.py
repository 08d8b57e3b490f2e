"""Billing: tariffs as versioned data, the billing calendar, billing runs, bills and the ledger.

- **Tariffs** (:class:`TariffSet` → :class:`Tariff` per use type x tariff zone →
  :class:`TariffBlock`; :class:`TariffDiscount` programmes): data, versioned by validity dates.
  Adopted sets never overlap in time (an exclusion constraint); drafts are for simulation. The
  rules of a bill are those of :mod:`billing.pricing`.
- **Calendar**: a :class:`BillingCycle` (``ServiceAccount.billing_cycle`` is its code, tied to
  sectors/books) and per reading period a :class:`BillingCalendar` entry with the reading
  window, billing, due and cut-off dates.
- **Runs** (:class:`BillingRun`): one per period of a cycle (a partial unique constraint; a
  reversed run makes room for a new one), chunked, progress on the row.
- **Bills** (:class:`Bill`, :class:`BillLine`): one live bill (issued or held) per account
  and period, a partial unique constraint. Lines are immutable (a trigger refuses UPDATE and
  DELETE).
- **Ledger** (:class:`LedgerEntry`): every peso. Immutable: a trigger refuses UPDATE and
  DELETE; a correction is a reversal entry (``reversal_of``, at most one per entry). Balances
  are sums over it.

History: bills, runs, tariffs and the calendar are tracked (pghistory). Bills are written by
the million, so their insert is not snapshotted (the row is its own record; see
``core.history.track_history(inserts=False)``), their status changes are. Bill lines and
ledger entries can only be inserted: their update/delete history triggers exist for the
history test but never fire, and insert snapshots would only duplicate immutable rows.
"""

import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models as gis
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError  # noqa: F401  (re-exported: billing's one error type)
from cadastre.models import UseType
from core.history import track_history
from metering.models import DateRange

MONEY = {"max_digits": 14, "decimal_places": 2}
RATE = {"max_digits": 14, "decimal_places": 4}
VOLUME = {"max_digits": 12, "decimal_places": 3}

_append_only = pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


# --- tariffs ------------------------------------------------------------------------------------


class TariffSetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ADOPTED = "adopted", _("Adopted")


class BlockMethod(models.TextChoices):
    INCREMENTAL = "incremental", _("Incremental blocks")
    WHOLE_VOLUME = "whole_volume", _("Whole volume at the block reached")


@track_history()
class TariffSet(models.Model):
    """A version of the tariffs: every use type and zone, valid from one date to another."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=TariffSetStatus.choices, default=TariffSetStatus.DRAFT
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default="0.16")
    rounding_unit = models.DecimalField(
        _("rounding unit"),
        max_digits=6,
        decimal_places=2,
        default="0.01",
        help_text=_("Bill totals are rounded to a multiple of it (0.01, 0.50, 1.00)."),
    )
    late_fee_pct = models.DecimalField(
        _("late-payment surcharge (% a month)"), max_digits=6, decimal_places=3, default=0
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("tariff set")
        verbose_name_plural = _("tariff sets")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="tariffset_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(rounding_unit__gt=0), name="tariffset_rounding"),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=1), name="tariffset_vat_rate"
            ),
            ExclusionConstraint(
                name="tariffset_adopted_no_overlap",
                expressions=[
                    (
                        DateRange("valid_from", "valid_to", models.Value("[]")),
                        RangeOperators.OVERLAPS,
                    )
                ],
                condition=Q(status="adopted"),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


@track_history()
class Tariff(models.Model):
    """The tariff of one use type in one tariff zone (``zone`` null: every other zone)."""

    tariff_set = models.ForeignKey(
        TariffSet, on_delete=models.CASCADE, related_name="tariffs", verbose_name=_("tariff set")
    )
    use_type = models.CharField(_("use type"), max_length=12, choices=UseType.choices)
    zone = models.ForeignKey(
        "sectors.TariffZone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tariffs",
        verbose_name=_("tariff zone"),
    )
    fixed_charge = models.DecimalField(_("fixed charge (a month)"), **MONEY, default=0)
    block_method = models.CharField(
        _("block method"),
        max_length=12,
        choices=BlockMethod.choices,
        default=BlockMethod.INCREMENTAL,
    )
    minimum_m3 = models.DecimalField(_("minimum billable m³ (a month)"), **VOLUME, default=0)
    sewer_pct = models.DecimalField(_("sewer (% of water)"), **RATE, default=0)
    sanitation_pct = models.DecimalField(_("sanitation (% of water)"), **RATE, default=0)
    vat = models.BooleanField(_("pays VAT"), default=False)
    flat_rate = models.DecimalField(
        _("flat rate (a month)"),
        **MONEY,
        null=True,
        blank=True,
        help_text=_("Cuota fija of accounts without a meter; empty: they cannot be billed."),
    )

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.UniqueConstraint(
                fields=["tariff_set", "use_type", "zone"],
                name="tariff_one_per_use_zone",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(minimum_m3__gte=0, sewer_pct__gte=0, sanitation_pct__gte=0)
                & (Q(flat_rate__isnull=True) | Q(flat_rate__gte=0)),
                name="tariff_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.tariff_set_id} {self.use_type} {self.zone_id or '*'}"


@track_history()
class TariffBlock(models.Model):
    tariff = models.ForeignKey(
        Tariff, on_delete=models.CASCADE, related_name="blocks", verbose_name=_("tariff")
    )
    number = models.PositiveSmallIntegerField(_("block"))
    from_m3 = models.DecimalField(_("from m³"), **VOLUME)
    to_m3 = models.DecimalField(_("up to m³"), **VOLUME, null=True, blank=True)
    price = models.DecimalField(_("price per m³"), **RATE)

    class Meta:
        verbose_name = _("tariff block")
        verbose_name_plural = _("tariff blocks")
        ordering = ["tariff", "number"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "number"], name="tariffblock_number"),
            models.CheckConstraint(
                condition=Q(to_m3__isnull=True) | Q(to_m3__gt=F("from_m3")),
                name="tariffblock_limits_ordered",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=0, from_m3__gte=0), name="tariffblock_positive"
            ),
        ]

    def __str__(self):
        return f"{self.number}: {self.from_m3}-{self.to_m3 or ''} @ {self.price}"


@track_history()
class TariffDiscount(models.Model):
    """A discount programme of a tariff set: ``pct`` % of the block charge of the first
    ``cap_m3`` m³ a month (see :mod:`billing.pricing`)."""

    tariff_set = models.ForeignKey(
        TariffSet, on_delete=models.CASCADE, related_name="discounts", verbose_name=_("tariff set")
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=80)
    pct = models.DecimalField(_("discount (%)"), max_digits=6, decimal_places=3)
    cap_m3 = models.DecimalField(_("up to m³ a month"), **VOLUME)

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        constraints = [
            models.UniqueConstraint(fields=["tariff_set", "code"], name="tariffdiscount_code"),
            models.CheckConstraint(
                condition=Q(pct__gte=0, pct__lte=100, cap_m3__gte=0), name="tariffdiscount_range"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.pct} %"


@track_history()
class AccountDiscount(models.Model):
    """An account entitled to a discount programme (by its code) over a span of dates."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="discounts",
        verbose_name=_("service account"),
    )
    code = models.CharField(_("discount"), max_length=20)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("account discount")
        verbose_name_plural = _("account discounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="accountdiscount_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["account", "valid_from"], name="accountdiscount_account")]

    def __str__(self):
        return f"{self.account_id} {self.code}"


# --- calendar -----------------------------------------------------------------------------------


@track_history()
class BillingCycle(models.Model):
    """A billing cycle: the accounts whose ``billing_cycle`` is its code, read in its books."""

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=80)
    months = models.PositiveSmallIntegerField(_("months a bill covers"), default=1)
    areas = models.ManyToManyField(
        "sectors.CommercialArea",
        blank=True,
        related_name="billing_cycles",
        verbose_name=_("sectors and books"),
    )

    class Meta:
        verbose_name = _("billing cycle")
        verbose_name_plural = _("billing cycles")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(months__gte=1, months__lte=12), name="billingcycle_months"
            )
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


@track_history()
class BillingCalendar(models.Model):
    """The dates of one period of a cycle."""

    cycle = models.ForeignKey(
        BillingCycle, on_delete=models.PROTECT, related_name="calendar", verbose_name=_("cycle")
    )
    period = models.OneToOneField(
        "metering.ReadingPeriod",
        on_delete=models.PROTECT,
        related_name="billing_calendar",
        verbose_name=_("reading period"),
    )
    reading_from = models.DateField(_("reading from"))
    reading_to = models.DateField(_("reading to"))
    billing_date = models.DateField(_("billing date"))
    due_date = models.DateField(_("due date"))
    cutoff_date = models.DateField(_("cut-off date"))

    class Meta:
        verbose_name = _("calendar entry")
        verbose_name_plural = _("billing calendar")
        ordering = ["cycle", "billing_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reading_from__lte=F("reading_to"))
                & Q(reading_to__lte=F("billing_date"))
                & Q(billing_date__lte=F("due_date"))
                & Q(due_date__lte=F("cutoff_date")),
                name="billingcalendar_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.cycle_id} {self.period_id} {self.billing_date}"


# --- holds --------------------------------------------------------------------------------------


class HoldReason(models.TextChoices):
    NO_TARIFF = "no_tariff", _("No tariff applies")
    NEGATIVE = "negative", _("Negative bill")
    AMOUNT_CAP = "amount_cap", _("Above the amount cap of its use type")
    HIGH = "high_consumption", _("Far above the account's history")
    ESTIMATED = "estimated_in_row", _("Estimated several periods in a row")


@track_history()
class HoldPolicy(models.Model):
    """When a bill of a use type is held for review instead of issued."""

    use_type = models.CharField(_("use type"), max_length=12, choices=UseType.choices, unique=True)
    amount_cap = models.DecimalField(_("amount cap"), **MONEY, null=True, blank=True)
    history_factor = models.DecimalField(
        _("times the history average"), max_digits=6, decimal_places=2, default=3
    )
    history_min_m3 = models.DecimalField(_("and at least m³ above it"), **VOLUME, default=10)
    estimated_in_row = models.PositiveSmallIntegerField(_("estimated periods in a row"), default=3)

    class Meta:
        verbose_name = _("hold policy")
        verbose_name_plural = _("hold policies")

    def __str__(self):
        return self.use_type


# --- runs and bills -----------------------------------------------------------------------------


class RunStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")
    REVERSED = "reversed", _("Reversed")


@track_history()
class BillingRun(models.Model):
    cycle = models.ForeignKey(
        BillingCycle, on_delete=models.PROTECT, related_name="runs", verbose_name=_("cycle")
    )
    period = models.ForeignKey(
        "metering.ReadingPeriod",
        on_delete=models.PROTECT,
        related_name="billing_runs",
        verbose_name=_("reading period"),
    )
    tariff_set = models.ForeignKey(
        TariffSet, on_delete=models.PROTECT, related_name="runs", verbose_name=_("tariff set")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    chunk_size = models.PositiveIntegerField(_("accounts per chunk"), default=5000)
    # Resumption point: every account of the cycle with id <= cursor is done.
    cursor = models.BigIntegerField(_("last account done"), default=0)
    total_accounts = models.PositiveIntegerField(_("accounts"), default=0)
    done_accounts = models.PositiveIntegerField(_("accounts done"), default=0)
    bills_issued = models.PositiveIntegerField(_("bills issued"), default=0)
    bills_held = models.PositiveIntegerField(_("bills held"), default=0)
    amount_issued = models.DecimalField(_("amount issued"), **MONEY, default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reversed by"),
    )
    reverse_reason = models.CharField(_("reason of the reversal"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["period"], condition=~Q(status="reversed"), name="billingrun_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(done_accounts__lte=F("total_accounts")), name="billingrun_progress"
            ),
        ]

    def __str__(self):
        return f"{self.cycle_id}/{self.period_id} #{self.pk}"

    @property
    def progress(self) -> float:
        return 1.0 if not self.total_accounts else self.done_accounts / self.total_accounts


class BillStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    HELD = "held", _("Held for review")
    REVERSED = "reversed", _("Reversed")
    CORRECTED = "corrected", _("Replaced by a correction")


class BillMethod(models.TextChoices):
    MEASURED = "measured", _("Measured")
    ESTIMATED = "estimated", _("Estimated")
    FLAT = "flat", _("Flat rate")


LIVE_BILL = Q(status__in=["issued", "held"])


@track_history(inserts=False)
class Bill(models.Model):
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, related_name="bills", verbose_name=_("billing run")
    )
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("service account"),
        db_index=False,  # the (account, period) index serves it
    )
    period = models.ForeignKey(
        "metering.ReadingPeriod",
        on_delete=models.PROTECT,
        related_name="bills",
        verbose_name=_("reading period"),
        db_index=False,
    )
    tariff = models.ForeignKey(
        Tariff,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tariff"),
        db_index=False,
    )
    use_type = models.CharField(_("use type"), max_length=12, choices=UseType.choices)
    tariff_zone = models.ForeignKey(
        "sectors.TariffZone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tariff zone"),
        db_index=False,
    )
    method = models.CharField(_("method"), max_length=10, choices=BillMethod.choices)
    consumption_m3 = models.DecimalField(_("consumption (m³)"), **VOLUME, null=True, blank=True)
    months = models.PositiveSmallIntegerField(_("months"), default=1)
    previous_balance = models.DecimalField(_("previous balance"), **MONEY, default=0)
    charges = models.DecimalField(_("charges"), **MONEY, default=0)
    tax = models.DecimalField(_("VAT"), **MONEY, default=0)
    total = models.DecimalField(_("total of the period"), **MONEY, default=0)
    due_date = models.DateField(_("due date"))
    payment_reference = models.CharField(_("payment reference"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=BillStatus.choices)
    hold_reason = models.CharField(
        _("hold reason"), max_length=20, choices=HoldReason.choices, blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.CharField(_("reason"), max_length=200, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("corrects"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period"],
                condition=LIVE_BILL,
                name="bill_one_per_account_period",
            ),
            models.CheckConstraint(
                condition=Q(total=F("charges") + F("tax")), name="bill_total_is_charges_plus_tax"
            ),
            models.CheckConstraint(
                condition=Q(status="held", hold_reason__gt="") | ~Q(status="held"),
                name="bill_held_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "period"], name="bill_account_period"),
            models.Index(fields=["run", "status"], name="bill_run"),
            # The clerks' queue: few rows among millions.
            models.Index(fields=["run"], condition=Q(status="held"), name="bill_held"),
        ]

    def __str__(self):
        return f"{self.account_id}/{self.period_id} {self.total}"


@track_history(inserts=False)
class BillLine(models.Model):
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="lines", verbose_name=_("bill"), db_index=False
    )
    seq = models.PositiveSmallIntegerField(_("order"))
    concept = models.CharField(_("concept"), max_length=12)
    block = models.PositiveSmallIntegerField(_("block"), null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), **RATE)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=6)
    amount = models.DecimalField(_("amount"), **MONEY)
    tax = models.DecimalField(_("VAT"), **MONEY, default=0)

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ["bill", "seq"]
        constraints = [models.UniqueConstraint(fields=["bill", "seq"], name="billline_seq")]
        triggers = [_append_only]

    def __str__(self):
        return f"{self.bill_id} {self.seq} {self.concept} {self.amount}"


# --- ledger -------------------------------------------------------------------------------------


class LedgerConcept(models.TextChoices):
    FIXED = "fixed", _("Fixed charge")
    WATER = "water", _("Water")
    FLAT = "flat", _("Flat rate")
    DISCOUNT = "discount", _("Discount")
    SEWER = "sewer", _("Sewer")
    SANITATION = "sanitation", _("Sanitation")
    SURCHARGE = "surcharge", _("Late-payment surcharge")
    ROUNDING = "rounding", _("Rounding")
    VAT = "vat", _("VAT")
    PAYMENT = "payment", _("Payment")
    ADJUSTMENT = "adjustment", _("Adjustment")
    # A payment agreement moves the debt it covers (a credit, "agreement") into installments
    # (debits, "installment"), with their financing interest apart.
    AGREEMENT = "agreement", _("Moved to a payment agreement")
    INSTALLMENT = "installment", _("Agreement installment")
    INTEREST = "interest", _("Financing interest")
    CONNECTION = "connection", _("Connection and contract fees")


@track_history(inserts=False)
class LedgerEntry(models.Model):
    """One posted amount of an account: positive is owed by the customer, negative is paid
    or credited. Never updated or deleted (a trigger refuses it): reverse and re-post."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="ledger",
        verbose_name=_("service account"),
        db_index=False,  # the (account, posted_at) index serves it
    )
    document_type = models.CharField(_("document type"), max_length=12)
    document_id = models.BigIntegerField(_("document"))
    concept = models.CharField(_("concept"), max_length=12, choices=LedgerConcept.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    # Receivables fall due (a bill's entries on its due date; an installment on its own);
    # credits and amounts owed at once have none. Aging and collections read it.
    due_date = models.DateField(_("due date"), null=True, blank=True)
    reversal_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledgerentry_not_zero"),
        ]
        indexes = [
            models.Index(fields=["account", "posted_at"], name="ledgerentry_account"),
            models.Index(fields=["document_type", "document_id"], name="ledgerentry_document"),
        ]
        triggers = [
            _append_only,
            # A reversal mirrors its entry exactly: same account, opposite amount, and it is
            # not itself a reversal (the unique reversal_of makes it once per entry).
            pgtrigger.Trigger(
                name="reversal_mirrors",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                condition=pgtrigger.Condition("NEW.reversal_of_id IS NOT NULL"),
                declare=[("original", "billing_ledgerentry%ROWTYPE")],
                func="""
                    SELECT * INTO original FROM billing_ledgerentry
                     WHERE id = NEW.reversal_of_id;
                    IF original.account_id IS DISTINCT FROM NEW.account_id
                       OR original.amount <> -NEW.amount
                       OR original.reversal_of_id IS NOT NULL THEN
                        RAISE EXCEPTION 'ledger entry %: a reversal must mirror entry %',
                            NEW.id, NEW.reversal_of_id;
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self):
        return f"{self.account_id} {self.concept} {self.amount}"


@track_history(inserts=False)
class Settlement(models.Model):
    """What a credit (a payment, a credit note, an agreement's transfer) paid of a debit (a
    bill's concept, a debit note, an installment), written when the credit is applied.

    A settlement counts while neither of its entries is reversed: reversing a bounced payment
    re-opens exactly what it paid, and reversing a bill frees the credit that had paid it.
    Never updated or deleted. Same account on both sides, debit positive, credit negative:
    checked by a trigger (a CHECK cannot read other rows)."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="settlements",
        verbose_name=_("service account"),
    )
    debit = models.ForeignKey(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="settled_by",
        verbose_name=_("debit entry"),
    )
    credit = models.ForeignKey(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="settles",
        verbose_name=_("credit entry"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The debit's due date (its posting day when it has none), copied by the trigger below
    # whatever the writer passed: the aging report sums settlements by due-date bucket without
    # joining every one back to its debit (billing.collection.aging, summary mode).
    debit_due = models.DateField(_("debit due date"), editable=False, null=True)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        constraints = [
            # No unique (debit, credit): a credit freed by a reversal may go back to a debit
            # it already partly paid; open amounts are sums over the rows.
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_positive"),
            # Set by the trigger (a CHECK runs after BEFORE triggers).
            models.CheckConstraint(
                condition=Q(debit_due__isnull=False), name="settlement_debit_due_set"
            ),
        ]
        triggers = [
            _append_only,
            pgtrigger.Trigger(
                name="settlement_sides",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                declare=[
                    ("d", "billing_ledgerentry%ROWTYPE"),
                    ("c", "billing_ledgerentry%ROWTYPE"),
                ],
                func="""
                    SELECT * INTO d FROM billing_ledgerentry WHERE id = NEW.debit_id;
                    SELECT * INTO c FROM billing_ledgerentry WHERE id = NEW.credit_id;
                    IF d.amount <= 0 OR c.amount >= 0
                       OR d.account_id <> NEW.account_id OR c.account_id <> NEW.account_id
                       OR d.reversal_of_id IS NOT NULL OR c.reversal_of_id IS NOT NULL THEN
                        RAISE EXCEPTION 'settlement: entry % must be a debit and % a credit '
                            'of account %', NEW.debit_id, NEW.credit_id, NEW.account_id;
                    END IF;
                    NEW.debit_due := coalesce(d.due_date, (d.posted_at AT TIME ZONE 'UTC')::date);
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self):
        return f"{self.credit_id} → {self.debit_id}: {self.amount}"


@track_history(inserts=False)
class AccountDelinquency(models.Model):
    """Where the debt is, as of the last refresh: one row per account that owes anything past
    due, for the map (delinquent accounts layer, debt heat map) and the delinquency zones.

    A derived snapshot, not a balance: rebuilt whole from the ledger by
    :func:`billing.delinquency.delinquency_refresh` (nightly and on demand); ``computed_on``
    says as of when. Money decisions read the ledger, never this table."""

    account = models.OneToOneField(
        "cadastre.ServiceAccount",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="delinquency",
        verbose_name=_("service account"),
    )
    balance = models.DecimalField(_("balance"), **MONEY)
    overdue = models.DecimalField(_("overdue"), **MONEY)
    oldest_due = models.DateField(_("oldest unpaid due date"))
    days_overdue = models.PositiveIntegerField(_("days overdue"))
    periods_overdue = models.PositiveSmallIntegerField(_("documents overdue"))
    computed_on = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("delinquent account")
        verbose_name_plural = _("delinquent accounts")
        constraints = [
            models.CheckConstraint(condition=Q(overdue__gt=0), name="delinquency_overdue"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.overdue} ({self.days_overdue} d)"


@track_history(inserts=False)
class DelinquencyZone(models.Model):
    """A cluster of delinquent accounts (``ST_ClusterDBSCAN`` over their service points) as a
    polygon with its figures; rebuilt whole by :func:`billing.delinquency.zones_refresh`."""

    geom = gis.PolygonField(_("area"), srid=settings.CAUDAL_SRID)
    accounts = models.PositiveIntegerField(_("accounts"))
    overdue = models.DecimalField(_("overdue"), **MONEY)
    mean_days_overdue = models.PositiveIntegerField(_("mean days overdue"))
    computed_on = models.DateField(_("as of"))

    class Meta:
        verbose_name = _("delinquency zone")
        verbose_name_plural = _("delinquency zones")

    def __str__(self):
        return f"{self.accounts} / {self.overdue}"
