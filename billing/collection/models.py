"""Collections (control de rezago): the policy as data, the overdue episodes of an account,
and the actions taken in each, with their documents and work orders.

- **Policy** (:class:`CollectionPolicy`): one row per step of a ladder. A ladder belongs to a
  segment (normal accounts or large consumers), a collection type (normal, judicial,
  special) and optionally a use type (blank: every use type without a ladder of its own).
  A step fires when the account has at least ``min_periods`` periods and ``min_days`` days
  overdue and owes at least ``min_debt``.
- **Episodes** (:class:`CollectionEpisode`): an account's overdue spell, from the night it
  was first found overdue to the night it was paid up. A step is taken at most once per
  episode (a unique constraint), so paying up and falling behind again starts the ladder
  over, while evaluating the same night twice adds nothing.
- **Actions** (:class:`CollectionAction`): planned → issued → done, or cancelled /
  superseded. Orders go through :func:`orders.services.work_order_create`.
- Who collects: :class:`CollectorAssignment` (an account, or every account of a commercial
  sector, to a collector), :class:`LargeConsumer` (macroconsumidores with their executive),
  :class:`AccountCollectionType` (judicial or special collection; absent: normal).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadastre.models import UseType
from core.history import track_history

MONEY = {"max_digits": 14, "decimal_places": 2}


class Segment(models.TextChoices):
    NORMAL = "normal", _("Normal accounts")
    LARGE = "large", _("Large consumers")


class CollectionType(models.TextChoices):
    NORMAL = "normal", _("Normal collection")
    JUDICIAL = "judicial", _("Judicial collection")
    SPECIAL = "special", _("Special collection")


class ActionKind(models.TextChoices):
    REMINDER = "reminder", _("Payment reminder")
    FORMAL_NOTICE = "formal_notice", _("Formal notice")
    SUSPENSION = "suspension", _("Suspension order")
    LIMITATION = "limitation", _("Limitation order")
    JUDICIAL = "judicial", _("Judicial referral")
    RECONNECTION = "reconnection", _("Reconnection order")
    INSPECTION = "inspection", _("Self-reconnection inspection")


# Steps of the policy ladder (the rest are consequences: reconnection, inspection).
POLICY_KINDS = (
    ActionKind.REMINDER,
    ActionKind.FORMAL_NOTICE,
    ActionKind.SUSPENSION,
    ActionKind.LIMITATION,
    ActionKind.JUDICIAL,
)
# Kinds that cut or restrict the service and so need a work order.
CUT_KINDS = (ActionKind.SUSPENSION, ActionKind.LIMITATION)


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ISSUED = "issued", _("Issued")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    SUPERSEDED = "superseded", _("Superseded by a later step")


OPEN_ACTION_STATUSES = (ActionStatus.PLANNED, ActionStatus.ISSUED)


@track_history()
class CollectionPolicy(models.Model):
    """One step of a collection ladder (see the module docstring)."""

    segment = models.CharField(
        _("segment"), max_length=8, choices=Segment.choices, default=Segment.NORMAL
    )
    collection_type = models.CharField(
        _("collection type"),
        max_length=10,
        choices=CollectionType.choices,
        default=CollectionType.NORMAL,
    )
    use_type = models.CharField(
        _("use type"),
        max_length=12,
        choices=UseType.choices,
        blank=True,
        help_text=_("Empty: every use type that has no ladder of its own."),
    )
    step = models.PositiveSmallIntegerField(_("step"))
    action = models.CharField(_("action"), max_length=14, choices=ActionKind.choices)
    min_periods = models.PositiveSmallIntegerField(_("periods overdue at least"), default=1)
    min_days = models.PositiveSmallIntegerField(
        _("days overdue at least"),
        default=1,
        help_text=_("Days since the oldest unpaid due date; use it as the grace period."),
    )
    min_debt = models.DecimalField(_("overdue debt at least"), **MONEY, default=0)
    deadline_days = models.PositiveSmallIntegerField(
        _("days to comply"),
        null=True,
        blank=True,
        help_text=_("Formal notices: the deadline printed on the notice; no later step before."),
    )
    to_executive = models.BooleanField(
        _("addressed to the account's executive"),
        default=False,
        help_text=_("Large consumers: the action is assigned to their account executive."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("collection policy step")
        verbose_name_plural = _("collection policy")
        ordering = ["segment", "collection_type", "use_type", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "collection_type", "use_type", "step"],
                name="collectionpolicy_one_step",
            ),
            models.CheckConstraint(
                condition=Q(action__in=[k.value for k in POLICY_KINDS]),
                name="collectionpolicy_action_kind",
            ),
            models.CheckConstraint(
                condition=Q(step__gte=1, min_debt__gte=0), name="collectionpolicy_positive"
            ),
            models.CheckConstraint(
                condition=Q(deadline_days__isnull=True) | Q(deadline_days__gte=1),
                name="collectionpolicy_deadline",
            ),
        ]

    def __str__(self):
        return f"{self.segment}/{self.collection_type}/{self.use_type or '*'} {self.step}"


@track_history()
class AccountCollectionType(models.Model):
    """An account collected other than normally (judicial, special). Absent: normal."""

    account = models.OneToOneField(
        "cadastre.ServiceAccount",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="collection_type",
        verbose_name=_("service account"),
    )
    collection_type = models.CharField(
        _("collection type"), max_length=10, choices=CollectionType.choices
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("collection type of an account")
        verbose_name_plural = _("collection types of accounts")

    def __str__(self):
        return f"{self.account_id} {self.collection_type}"


@track_history()
class CollectorAssignment(models.Model):
    """A collector in charge of one account, or of every account of a commercial sector (an
    account's own assignment wins over its sector's)."""

    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="collection_assignments",
        verbose_name=_("collector"),
    )
    account = models.OneToOneField(
        "cadastre.ServiceAccount",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="collector_assignment",
        verbose_name=_("service account"),
    )
    sector = models.OneToOneField(
        "sectors.CommercialArea",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="collector_assignment",
        limit_choices_to={"level": "sector"},
        verbose_name=_("sector"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("collector assignment")
        verbose_name_plural = _("collector assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, sector__isnull=True)
                | Q(account__isnull=True, sector__isnull=False),
                name="collectorassignment_account_or_sector",
            ),
        ]

    def __str__(self):
        return f"{self.collector_id} → {self.account_id or self.sector_id}"


class LargeConsumerBasis(models.TextChoices):
    CONSUMPTION = "consumption", _("Top by consumption")
    DEBT = "debt", _("Top by debt")
    MANUAL = "manual", _("Designated by hand")


@track_history()
class LargeConsumer(models.Model):
    """A large consumer (macroconsumidor): collected on its own ladder, by its executive."""

    account = models.OneToOneField(
        "cadastre.ServiceAccount",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="large_consumer",
        verbose_name=_("service account"),
    )
    executive = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="large_consumers",
        verbose_name=_("account executive"),
    )
    basis = models.CharField(
        _("basis"),
        max_length=12,
        choices=LargeConsumerBasis.choices,
        default=LargeConsumerBasis.MANUAL,
    )
    since = models.DateField(_("since"))

    class Meta:
        verbose_name = _("large consumer")
        verbose_name_plural = _("large consumers")

    def __str__(self):
        return str(self.account_id)


@track_history(inserts=False)
class CollectionEpisode(models.Model):
    """An overdue spell of an account (see the module docstring)."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="collection_episodes",
        verbose_name=_("service account"),
    )
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("overdue episode")
        verbose_name_plural = _("overdue episodes")
        constraints = [
            # One open episode per account: the nightly INSERT … ON CONFLICT relies on it.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(closed_on__isnull=True),
                name="collectionepisode_one_open",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="collectionepisode_dates",
            ),
        ]

    def __str__(self):
        return f"{self.account_id} {self.opened_on}-{self.closed_on or ''}"


@track_history(inserts=False)
class CollectionAction(models.Model):
    """One action of collections on an account (see the module docstring)."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="collection_actions",
        verbose_name=_("service account"),
    )
    episode = models.ForeignKey(
        CollectionEpisode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("overdue episode"),
    )
    kind = models.CharField(_("kind"), max_length=14, choices=ActionKind.choices)
    # Policy steps: the step of the ladder; consequences (reconnection, inspection): null.
    step = models.PositiveSmallIntegerField(_("step"), null=True, blank=True)
    rule = models.ForeignKey(
        CollectionPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name=_("policy step"),
    )
    # A reconnection or an inspection follows from a suspension.
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consequences",
        verbose_name=_("follows from"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    day = models.DateField(_("day evaluated"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    amount_owed = models.DecimalField(_("overdue debt when created"), **MONEY, default=0)
    periods_overdue = models.PositiveSmallIntegerField(_("periods overdue"), default=0)
    days_overdue = models.PositiveIntegerField(_("days overdue"), default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    work_order = models.ForeignKey(
        "orders.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work order"),
    )
    ref = models.CharField(_("reference"), max_length=60, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("collection action")
        verbose_name_plural = _("collection actions")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("evaluate_collection", _("Can run the collection evaluation")),
            ("view_aging", _("Can see the aging report")),
        ]
        constraints = [
            # Never the same step twice in one overdue episode (also: the same night twice).
            models.UniqueConstraint(
                fields=["episode", "step"],
                condition=Q(step__isnull=False),
                name="collectionaction_step_once",
            ),
            # One reconnection, and one self-reconnection inspection, per suspension.
            models.UniqueConstraint(
                fields=["parent", "kind"],
                condition=Q(parent__isnull=False),
                name="collectionaction_consequence_once",
            ),
            models.CheckConstraint(
                condition=Q(step__isnull=True, kind__in=["reconnection", "inspection"])
                | Q(step__isnull=False, episode__isnull=False)
                & ~Q(kind__in=["reconnection", "inspection"]),
                name="collectionaction_step_kind",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "cancelled"]) | Q(issued_at__isnull=False),
                name="collectionaction_issued_at",
            ),
            models.CheckConstraint(condition=Q(amount_owed__gte=0), name="collectionaction_owed"),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"], name="collectionaction_account"),
            models.Index(fields=["day", "kind"], name="collectionaction_day"),
            models.Index(
                fields=["kind", "status"],
                condition=Q(status__in=["planned", "issued"]),
                name="collectionaction_open",
            ),
        ]

    def __str__(self):
        return f"{self.account_id} {self.kind} {self.status}"


@track_history(inserts=False)
class CollectionTypeChange(models.Model):
    """The log of an account's collection type: who moved it to judicial or special collection
    (or back to normal), when and why, and the "turned to legal" action it opened."""

    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        related_name="collection_type_changes",
        verbose_name=_("service account"),
    )
    episode = models.ForeignKey(
        CollectionEpisode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overdue episode"),
    )
    from_type = models.CharField(
        _("previous collection type"), max_length=10, choices=CollectionType.choices
    )
    to_type = models.CharField(
        _("new collection type"), max_length=10, choices=CollectionType.choices
    )
    reason = models.CharField(_("reason"), max_length=200)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    action = models.ForeignKey(
        CollectionAction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("action opened"),
    )

    class Meta:
        verbose_name = _("change of collection type")
        verbose_name_plural = _("changes of collection type")
        ordering = ["-decided_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_type=models.F("to_type")), name="collectiontypechange_changes"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="collectiontypechange_reason"),
        ]
        indexes = [
            models.Index(fields=["account", "decided_at"], name="collectiontypechange_account")
        ]

    def __str__(self):
        return f"{self.account_id} {self.from_type}→{self.to_type}"
