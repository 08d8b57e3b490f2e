"""Metering: meters, meter changes, reading periods and assignments, readings, validation
rules, per-account consumption.

How consumption is kept right (the *chain*): each meter's readings, ordered by ``captured_at``
(device time, not arrival), form a chain. A reading's ``consumption`` is its value minus the
value of the previous reading *in the chain* of the same meter; when the dials wrapped
(``value < previous`` and ``value + 10^dials - previous`` is small, see
:mod:`metering.validation`) it is that wrapped difference and ``rollover`` is set. An
``installation`` reading starts a chain (consumption 0), a ``removal`` reading ends one, so a
meter swap inside a period gives the period ``(removal - previous) + (reading - installation)``.
Readings in the chain: those with a value whose status is valid, flagged or accepted; a
rejected reading or one sent back for re-reading leaves the chain, and its successor's
consumption is recomputed (so is a successor's when an earlier reading arrives late).

Per-account consumption of a period (:class:`AccountConsumption`) is computed set-based by
:func:`metering.estimation.consumption_compute`: measured (sum of the chain's consumption of
the account's valid/accepted readings in the period) or estimated
(:mod:`metering.estimation` documents the method).

References of the big tables (readings: meter, account, period, file, observation code,
reader, reviewer, work order; consumption: account, period) are checked once per statement,
not per row: a foreign-key constraint checks each inserted row on its own and takes a
key-share lock on the meter and the account it points to, which for a million-row file costs
more than all the rest of the load; even a column left NULL queues a check per row that runs
at commit (1.5 s for a million readings' four such columns). The triggers of migrations 0006
and 0015 (:data:`REFERENCE_CHECKS`) refuse, with one anti-join per statement, any insert or
update that points at a missing row, and any delete of a referenced row still referred to; an
advisory lock (shared by writers of readings, exclusive for those deletes) keeps a delete from
slipping between a load's check and its commit.

History: every model is tracked. Readings and ingest rejections are write-once facts that say
themselves who and when (reader, device, received_at, batch), and per-account consumption is
derived from them, so these three record updates and deletes only: an insert snapshot of each
of a million rows would double the write and tell nothing the row does not (see
:func:`core.history.track_history` with ``inserts=False``).
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateRangeField, RangeOperators
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import track_history

SRID = settings.CAUDAL_SRID


# Statement-level reference checks (migrations 0006 and 0015):
# table → {column: (referenced table, referenced key)}.
REFERENCE_CHECKS = {
    "metering_reading": {
        "meter_id": ("metering_meter", "id"),
        "account_id": ("cadastre_serviceaccount", "id"),
        "period_id": ("metering_readingperiod", "id"),
        "batch_id": ("metering_ingestbatch", "id"),
        "observation_id": ("metering_observationcode", "code"),
        "reader_id": ("auth_user", "id"),
        "reviewed_by_id": ("auth_user", "id"),
        "work_order_id": ("orders_workorder", "id"),
    },
    "metering_accountconsumption": {
        "account_id": ("cadastre_serviceaccount", "id"),
        "period_id": ("metering_readingperiod", "id"),
    },
}
# The advisory lock key that orders those checks against deletes of referenced rows.
REFERENCE_LOCK = 746_2031


# --- Meters ------------------------------------------------------------------------------


class MeterStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    INSTALLED = "installed", _("Installed")
    REMOVED = "removed", _("Removed")


class MeterTechnology(models.TextChoices):
    SINGLE_JET = "single_jet", _("Single-jet")
    MULTI_JET = "multi_jet", _("Multi-jet")
    VOLUMETRIC = "volumetric", _("Volumetric (piston)")
    WOLTMANN = "woltmann", _("Woltmann")
    ELECTROMAGNETIC = "electromagnetic", _("Electromagnetic")
    ULTRASONIC = "ultrasonic", _("Ultrasonic")


@track_history()
class Meter(models.Model):
    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    brand = models.CharField(_("brand"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    diameter_mm = models.PositiveSmallIntegerField(_("diameter (mm)"), default=13)
    technology = models.CharField(
        _("technology"),
        max_length=16,
        choices=MeterTechnology.choices,
        default=MeterTechnology.SINGLE_JET,
    )
    # Integer dials (whole cubic metres): the register wraps to zero at 10^dials.
    dials = models.PositiveSmallIntegerField(_("number of dials"), default=6)
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meters",
        verbose_name=_("service account"),
    )
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    # Where the meter box is; usually beside the account's service point. Readers' GPS
    # positions are checked against it (rule gps_far).
    location = models.PointField(_("location"), srid=SRID, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MeterStatus.choices, default=MeterStatus.IN_STOCK
    )

    class Meta:
        verbose_name = _("meter")
        verbose_name_plural = _("meters")
        constraints = [
            # One installed meter per account at a time.
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="installed"),
                name="meter_one_installed_per_account",
            ),
            models.CheckConstraint(
                condition=Q(dials__gte=3, dials__lte=9), name="meter_dials_range"
            ),
            models.CheckConstraint(
                condition=~Q(status="installed") | Q(account__isnull=False),
                name="meter_installed_has_account",
            ),
            models.CheckConstraint(
                condition=Q(removed_on__isnull=True)
                | Q(installed_on__isnull=True)
                | Q(removed_on__gte=F("installed_on")),
                name="meter_removed_after_installed",
            ),
        ]

    def __str__(self):
        return self.serial


# --- Periods and assignments -------------------------------------------------------------


class PeriodStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


@track_history()
class ReadingPeriod(models.Model):
    """A reading period of one billing cycle (``ServiceAccount.billing_cycle``): the dates a
    reading must be captured in (local dates, both inclusive) to count for that period."""

    cycle = models.CharField(_("billing cycle"), max_length=10)
    code = models.CharField(_("code"), max_length=20, help_text=_("For example 2026-03."))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(
        _("status"), max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN
    )

    class Meta:
        verbose_name = _("reading period")
        verbose_name_plural = _("reading periods")
        ordering = ["cycle", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "code"], name="readingperiod_code_unique"),
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")), name="readingperiod_dates_ordered"
            ),
            # A reading date falls in one period of its cycle at most.
            ExclusionConstraint(
                name="readingperiod_no_overlap",
                expressions=[
                    ("cycle", RangeOperators.EQUAL),
                    (
                        DateRange("starts_on", "ends_on", models.Value("[]")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
            ),
        ]

    def __str__(self):
        return f"{self.cycle}/{self.code}"


@track_history()
class ReadingAssignment(models.Model):
    """Who reads which book (``sectors.CommercialArea`` of level ``book``) in a period, and on
    what day. The book's accounts are those of ``sectors.AccountSectors.book``."""

    period = models.ForeignKey(
        ReadingPeriod,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("reading period"),
    )
    book = models.ForeignKey(
        "sectors.CommercialArea",
        on_delete=models.PROTECT,
        related_name="reading_assignments",
        limit_choices_to={"level": "book"},
        verbose_name=_("reading book"),
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reading_assignments",
        verbose_name=_("meter reader"),
    )
    scheduled_on = models.DateField(_("scheduled on"))

    class Meta:
        verbose_name = _("reading assignment")
        verbose_name_plural = _("reading assignments")
        ordering = ["period", "scheduled_on", "book"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "book"], name="readingassignment_one_per_book"
            )
        ]
        indexes = [models.Index(fields=["reader", "scheduled_on"], name="readingassign_reader")]

    def __str__(self):
        return f"{self.period} {self.book_id} → {self.reader_id}"


# --- Catalogs and rules ------------------------------------------------------------------


@track_history()
class ObservationCode(models.Model):
    """What a reader can report about a visit (sin acceso, perro, medidor dañado…).

    ``value_allowed``: a reading value may come with it (a leak: yes; house closed: no).
    ``requires_photo``: the reading is flagged ``photo_missing`` without a photo.
    ``needs_review``: the reading goes to the review queue (flag ``observation``).
    """

    code = models.SlugField(_("code"), max_length=20, primary_key=True)
    label = models.CharField(_("label"), max_length=80)
    value_allowed = models.BooleanField(_("value allowed"), default=False)
    requires_photo = models.BooleanField(_("requires a photo"), default=False)
    needs_review = models.BooleanField(_("needs review"), default=False)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("observation code")
        verbose_name_plural = _("observation codes")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.label


class RuleCode(models.TextChoices):
    BELOW_PREVIOUS = "below_previous", _("Reading below the previous one")
    ZERO_CONSUMPTION = "zero_consumption", _("Zero consumption for several periods")
    HIGH_CONSUMPTION = "high_consumption", _("Consumption far above the account's history")
    GPS_FAR = "gps_far", _("Reader's position far from the meter")
    PHOTO_MISSING = "photo_missing", _("Required photo missing")
    CONFLICT = "conflict", _("Meter read more than once in the period")
    OBSERVATION = "observation", _("Observation that needs review")


@track_history()
class ValidationRule(models.Model):
    """One validation rule applied to every reading on arrival (sync and bulk file alike).

    ``params`` holds the rule's thresholds; :data:`metering.validation.RULE_PARAMS` documents
    every key and its default, and the admin refuses unknown keys or bad values. A disabled
    rule flags nothing.
    """

    code = models.CharField(_("code"), max_length=20, choices=RuleCode.choices, primary_key=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")
        ordering = ["code"]

    def __str__(self):
        return RuleCode(self.code).label


# --- Readings ------------------------------------------------------------------------------


class ReadingKind(models.TextChoices):
    REGULAR = "regular", _("Regular reading")
    INSTALLATION = "installation", _("Installation reading")
    REMOVAL = "removal", _("Removal reading")
    BASELINE = "baseline", _("Reading carried over from the previous system")


class ReadingSource(models.TextChoices):
    FIELD = "field", _("Field app")
    FILE = "file", _("Bulk file")
    OFFICE = "office", _("Office")
    DEMO = "demo", _("Demo data")


class ReadingStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    FLAGGED = "flagged", _("Flagged for review")
    ACCEPTED = "accepted", _("Accepted on review")
    REJECTED = "rejected", _("Rejected on review")
    REREAD = "reread", _("Re-read requested")


# Statuses whose readings (with a value) are links of the meter's chain.
CHAIN_STATUSES = (ReadingStatus.VALID, ReadingStatus.FLAGGED, ReadingStatus.ACCEPTED)
# Statuses whose consumption counts as measured.
COUNTED_STATUSES = (ReadingStatus.VALID, ReadingStatus.ACCEPTED)


@track_history()
class IngestBatch(models.Model):
    """One bulk file of readings of one period. ``sha256`` makes a replayed file a no-op."""

    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    file_name = models.CharField(_("file name"), max_length=255)
    # The period code (e.g. 2026-03): each row goes to that period of its account's cycle.
    period_code = models.CharField(_("period"), max_length=20)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    flagged = models.PositiveIntegerField(_("flagged"), default=0)

    class Meta:
        verbose_name = _("readings file")
        verbose_name_plural = _("readings files")
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name


@track_history(inserts=False)
class IngestRejection(models.Model):
    """A row of a bulk file that was not stored, and why (the per-row rejection report)."""

    batch = models.ForeignKey(
        IngestBatch, on_delete=models.CASCADE, related_name="rejections", verbose_name=_("file")
    )
    row_no = models.PositiveIntegerField(_("row"))
    meter_ref = models.CharField(_("meter"), max_length=60, blank=True)
    code = models.CharField(_("code"), max_length=30)
    message = models.TextField(_("message"))

    class Meta:
        verbose_name = _("rejected file row")
        verbose_name_plural = _("rejected file rows")
        ordering = ["batch", "row_no"]
        indexes = [models.Index(fields=["batch", "row_no"], name="ingestrejection_batch")]


@track_history(inserts=False)
class Reading(models.Model):
    """One visit to a meter: a value and/or an observation (see the module docstring).

    Write-once facts (value, position, device, times) are never edited; what changes after
    arrival is derived (consumption, flags, when the chain changes) or the review decision.
    """

    # Made by the device (or derived from the file row for bulk files): a replayed sync or
    # file finds it and applies nothing twice.
    client_id = models.UUIDField(_("client id"), unique=True)
    # Foreign keys get no index of their own (db_index=False): the composite indexes in Meta
    # serve every lookup, and each further index slows loading a million readings.
    meter = models.ForeignKey(
        Meter,
        on_delete=models.PROTECT,
        related_name="readings",
        verbose_name=_("meter"),
        db_index=False,
        db_constraint=False,  # checked per statement, see REFERENCE_CHECKS
    )
    # The meter's account when read (a meter may later serve another account).
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="readings",
        verbose_name=_("service account"),
        db_index=False,
        db_constraint=False,
    )
    period = models.ForeignKey(
        ReadingPeriod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings",
        verbose_name=_("reading period"),
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ReadingKind.choices, default=ReadingKind.REGULAR
    )
    source = models.CharField(_("source"), max_length=8, choices=ReadingSource.choices)
    value = models.DecimalField(
        _("value (m³)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    observation = models.ForeignKey(
        ObservationCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("observation"),
        db_index=False,
        db_constraint=False,  # checked per statement, see REFERENCE_CHECKS
    )
    captured_at = models.DateTimeField(_("captured at"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    device_id = models.CharField(_("device"), max_length=64, blank=True)
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("meter reader"),
        db_index=False,
        db_constraint=False,  # checked per statement, see REFERENCE_CHECKS
    )
    batch = models.ForeignKey(
        IngestBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings",
        verbose_name=_("file"),
        db_index=False,
        db_constraint=False,
    )
    # No spatial index: nothing searches readings by the reader's position (maps draw meters),
    # and a GiST insert costs ten times a b-tree one on a million-row file.
    position = models.PointField(
        _("reader's position"), srid=SRID, null=True, blank=True, spatial_index=False
    )
    position_accuracy_m = models.FloatField(_("position accuracy (m)"), null=True, blank=True)
    # The device took a photo and uploads it separately (see metering.services).
    photo_expected = models.BooleanField(_("photo taken"), default=False)
    photo = models.ImageField(_("photo"), upload_to="readings/%Y/%m/", blank=True)

    # Derived from the chain (recomputed when it changes).
    consumption = models.DecimalField(
        _("consumption (m³)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    rollover = models.BooleanField(_("dials wrapped"), default=False)
    flags = ArrayField(
        models.CharField(max_length=20), verbose_name=_("flags"), default=list, blank=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ReadingStatus.choices, default=ReadingStatus.VALID
    )

    # Review decision.
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
        db_index=False,
        db_constraint=False,  # checked per statement, see REFERENCE_CHECKS
    )
    review_note = models.TextField(_("review note"), blank=True)
    work_order = models.ForeignKey(
        "orders.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspection order"),
        db_index=False,
        db_constraint=False,  # checked per statement, see REFERENCE_CHECKS
    )

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="reading_value_not_negative"),
            models.CheckConstraint(
                condition=Q(value__isnull=False) | Q(observation__isnull=False),
                name="reading_value_or_observation",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["installation", "removal", "baseline"])
                | Q(value__isnull=False),
                name="reading_swap_has_value",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReadingStatus.values), name="reading_status_valid"
            ),
            # Unreviewed readings: flagged exactly when a rule raised a flag.
            models.CheckConstraint(
                condition=~Q(status__in=["valid", "flagged"])
                | Q(status="flagged", flags__len__gt=0)
                | Q(status="valid", flags__len=0),
                name="reading_flagged_iff_flags",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "flagged"]) | Q(reviewed_at__isnull=False),
                name="reading_review_has_date",
            ),
            models.CheckConstraint(
                condition=Q(position_accuracy_m__isnull=True) | Q(position_accuracy_m__gte=0),
                name="reading_accuracy_not_negative",
            ),
        ]
        indexes = [
            # The chain: previous/next reading of a meter in time (id breaks ties, so the
            # probes of metering.validation read it in order without sorting). It carries
            # what the chain and the rules read, so those probes never visit the table: a
            # meter's readings lie in as many table pages as it has months, and a file of a
            # million readings probed seven of them per meter (migration 0014).
            models.Index(
                fields=["meter", "captured_at", "id"],
                include=["value", "status", "kind", "consumption", "period"],
                name="reading_meter_time",
            ),
            # A period's readings per account (consumption, estimation, conflicts).
            models.Index(fields=["period", "account"], name="reading_period_account"),
            # The review queue is small: index only what is in it.
            models.Index(
                fields=["period", "received_at"],
                condition=Q(status="flagged"),
                name="reading_review_queue",
            ),
        ]

    def __str__(self):
        return f"{self.meter_id} {self.captured_at:%Y-%m-%d} {self.value}"


# --- Meter changes --------------------------------------------------------------------------


@track_history()
class MeterChange(models.Model):
    """A meter taken off an account and/or another put on, with the readings of both.

    The removal reading closes the old meter's chain and the installation reading opens the
    new one's, so the period's consumption is right across the swap.
    """

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="meter_changes",
        verbose_name=_("service account"),
    )
    removed_meter = models.ForeignKey(
        Meter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="removals",
        verbose_name=_("removed meter"),
    )
    installed_meter = models.ForeignKey(
        Meter,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="installations",
        verbose_name=_("installed meter"),
    )
    removal_reading = models.OneToOneField(
        Reading,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removal reading"),
    )
    installation_reading = models.OneToOneField(
        Reading,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("installation reading"),
    )
    changed_at = models.DateTimeField(_("changed at"))
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("meter change")
        verbose_name_plural = _("meter changes")
        ordering = ["-changed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_meter__isnull=False) | Q(installed_meter__isnull=False),
                name="meterchange_removes_or_installs",
            ),
            models.CheckConstraint(
                condition=Q(removed_meter__isnull=True) | Q(removal_reading__isnull=False),
                name="meterchange_removal_has_reading",
            ),
            models.CheckConstraint(
                condition=Q(installed_meter__isnull=True) | Q(installation_reading__isnull=False),
                name="meterchange_installation_has_reading",
            ),
        ]


# --- Consumption ----------------------------------------------------------------------------


class ConsumptionMethod(models.TextChoices):
    MEASURED = "measured", _("Measured")
    ESTIMATED = "estimated", _("Estimated")


@track_history(inserts=False)
class AccountConsumption(models.Model):
    """An account's consumption in a reading period: measured or estimated (one row each).

    Written by :func:`metering.estimation.consumption_compute` only, set-based; billing and the
    water balance read it. Derived, a million rows a period: history records recomputations
    (updates) and deletes, not the first computation (see :func:`core.history.track_history` with ``inserts=False``).
    """

    # No single-column indexes: the unique (account, period) and the (period, method) index
    # serve both foreign keys, and a million rows a period are written at once.
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="consumptions",
        verbose_name=_("service account"),
        db_index=False,
        db_constraint=False,
    )
    period = models.ForeignKey(
        ReadingPeriod,
        on_delete=models.PROTECT,
        related_name="consumptions",
        verbose_name=_("reading period"),
        db_index=False,
        db_constraint=False,
    )
    volume_m3 = models.DecimalField(_("volume (m³)"), max_digits=12, decimal_places=3)
    method = models.CharField(_("method"), max_length=10, choices=ConsumptionMethod.choices)
    # Measured: the readings summed; estimated: the periods averaged (0 for a fallback).
    basis_count = models.PositiveSmallIntegerField(_("basis"), default=0)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("account consumption")
        verbose_name_plural = _("account consumptions")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period"], name="accountconsumption_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(volume_m3__gte=0), name="accountconsumption_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["period", "method"], name="accountconsumption_period")]


# --- Macrometers and the water balance -------------------------------------------------------


@track_history()
class Macrometer(models.Model):
    """A bulk meter on a district's boundary (macromedidor).

    Its *forward* flow enters ``dma_in`` and leaves ``dma_out``: an inlet from a source or tank
    has only ``dma_in``; an outlet to outside the system only ``dma_out``; a meter between two
    districts has both (what it counts is input to one and output of the other). Flow the other
    way is the reverse register of a bidirectional meter (``MacrometerReading.reverse_m3``).
    A replaced meter gets ``in_service_until`` and a new one is created ``in_service_from`` that
    instant: registers start again at the new meter's own value, so no reading of one meter is
    ever compared with another's, and each counts for the part of a month it was in service.
    """

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    location = models.PointField(_("location"), srid=SRID)
    dma_in = models.ForeignKey(
        "sectors.Dma",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inlet_macrometers",
        verbose_name=_("district fed (forward flow enters)"),
    )
    dma_out = models.ForeignKey(
        "sectors.Dma",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outlet_macrometers",
        verbose_name=_("district drained (forward flow leaves)"),
    )
    diameter_mm = models.PositiveSmallIntegerField(_("diameter (mm)"), default=200)
    bidirectional = models.BooleanField(_("bidirectional"), default=False)
    in_service_from = models.DateTimeField(_("in service from"), default=timezone.now)
    in_service_until = models.DateTimeField(_("in service until"), null=True, blank=True)

    class Meta:
        verbose_name = _("macrometer")
        verbose_name_plural = _("macrometers")
        constraints = [
            models.CheckConstraint(
                condition=Q(dma_in__isnull=False) | Q(dma_out__isnull=False),
                name="macrometer_on_a_district",
            ),
            models.CheckConstraint(
                condition=Q(dma_in__isnull=True)
                | Q(dma_out__isnull=True)
                | ~Q(dma_in=F("dma_out")),
                name="macrometer_two_districts",
            ),
            models.CheckConstraint(
                condition=Q(in_service_until__isnull=True)
                | Q(in_service_until__gt=F("in_service_from")),
                name="macrometer_service_dates",
            ),
        ]

    def __str__(self):
        return self.code


class MacrometerSource(models.TextChoices):
    MANUAL = "manual", _("Manual")
    FILE = "file", _("CSV file")
    TELEMETRY = "telemetry", _("Telemetry")


@track_history()
class MacrometerImport(models.Model):
    """One file or telemetry batch of macrometer readings, keyed by its content: the same
    content sent again is recognised and adds nothing."""

    source = models.CharField(_("source"), max_length=10, choices=MacrometerSource.choices)
    name = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(_("content hash"), max_length=64, unique=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    added = models.PositiveIntegerField(_("readings added"), default=0)
    duplicates = models.PositiveIntegerField(_("readings already stored"), default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        verbose_name = _("macrometer reading import")
        verbose_name_plural = _("macrometer reading imports")

    def __str__(self):
        return self.name or f"{self.source} {self.imported_at:%Y-%m-%d %H:%M}"


@track_history(inserts=False)
class MacrometerReading(models.Model):
    """The registers (totalizers, m³) of a macrometer at an instant. Volumes between two
    instants are differences of registers interpolated linearly between the readings around
    each instant (see :mod:`metering.water_balance`).

    Telemetry sends one every few minutes (tens of thousands a year per meter), and each says
    who and when itself (batch, recorded_by, recorded_at): history records changes only."""

    macrometer = models.ForeignKey(
        Macrometer,
        on_delete=models.PROTECT,
        related_name="readings",
        verbose_name=_("macrometer"),
        db_index=False,  # the unique (macrometer, read_at) serves it
    )
    read_at = models.DateTimeField(_("read at"))
    forward_m3 = models.DecimalField(_("forward register (m³)"), max_digits=14, decimal_places=3)
    reverse_m3 = models.DecimalField(
        _("reverse register (m³)"), max_digits=14, decimal_places=3, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=10, choices=MacrometerSource.choices)
    batch = models.ForeignKey(
        MacrometerImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="readings",
        verbose_name=_("import"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("macrometer reading")
        verbose_name_plural = _("macrometer readings")
        constraints = [
            models.UniqueConstraint(
                fields=["macrometer", "read_at"], name="macrometerreading_one_per_instant"
            ),
            models.CheckConstraint(
                condition=Q(forward_m3__gte=0)
                & (Q(reverse_m3__isnull=True) | Q(reverse_m3__gte=0)),
                name="macrometerreading_registers_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.macrometer_id} @ {self.read_at:%Y-%m-%d %H:%M}"


class NrwClass(models.TextChoices):
    """How a district's non-revenue water is coloured on the map."""

    LOW = "lt20", _("Under 20%")
    MEDIUM = "20_30", _("20% to 30%")
    HIGH = "30_40", _("30% to 40%")
    VERY_HIGH = "ge40", _("40% or more")
    NEGATIVE = "negative", _("Billed above input (check the meters)")
    UNKNOWN = "unknown", _("Input not measured for the whole month")


@track_history()
class WaterBalance(models.Model):
    """The water balance of a district in a month, in IWA terms (see
    :mod:`metering.water_balance` for how each figure is computed). Recomputed as a whole
    month by :func:`metering.water_balance.water_balance_compute`; history keeps every
    recomputation."""

    dma = models.ForeignKey(
        "sectors.Dma",
        on_delete=models.CASCADE,
        related_name="water_balances",
        verbose_name=_("district metered area"),
        db_index=False,  # the unique (dma, month) serves it
    )
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    # System input volume: None when some macrometer's registers do not cover the month.
    system_input_m3 = models.DecimalField(
        _("system input volume (m³)"), max_digits=14, decimal_places=3, null=True
    )
    billed_metered_m3 = models.DecimalField(
        _("billed metered consumption (m³)"), max_digits=14, decimal_places=3
    )
    billed_unmetered_m3 = models.DecimalField(
        _("billed unmetered (estimated) consumption (m³)"), max_digits=14, decimal_places=3
    )
    non_revenue_m3 = models.DecimalField(
        _("non-revenue water (m³)"), max_digits=14, decimal_places=3, null=True
    )
    non_revenue_pct = models.DecimalField(
        _("non-revenue water (%)"), max_digits=7, decimal_places=2, null=True
    )
    nrw_class = models.CharField(_("class"), max_length=10, choices=NrwClass.choices)
    accounts = models.PositiveIntegerField(_("billed accounts"), default=0)
    macrometers = models.PositiveSmallIntegerField(_("macrometers"), default=0)
    missing_macrometers = ArrayField(
        models.CharField(max_length=30),
        default=list,
        blank=True,
        verbose_name=_("macrometers without readings around the month"),
    )
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("water balance")
        verbose_name_plural = _("water balances")
        constraints = [
            models.UniqueConstraint(fields=["dma", "month"], name="waterbalance_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="waterbalance_month_first_day"),
        ]
        indexes = [models.Index(fields=["month"], name="waterbalance_month")]

    def __str__(self):
        return f"{self.dma_id} {self.month:%Y-%m}"
