"""Work orders (órdenes de trabajo).

Issue 3 needs only what turns a finding into a field request: an inspection order with a place,
a reason and the key of the finding it came from. Issue 11 grows this app (crews, SLAs, closing
in the field); the interface other apps use is :mod:`orders.services`.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import track_history

SRID = settings.CAUDAL_SRID

# The database sequence behind readable order numbers (created by migration 0001).
NUMBER_SEQUENCE = "orders_workorder_number_seq"


class WorkOrderKind(models.TextChoices):
    INSPECTION = "inspection", _("Inspection")


class WorkOrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# An order is open until it is done, failed or cancelled: a finding has one open order at most.
OPEN_STATUSES = (WorkOrderStatus.CREATED, WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS)


class WorkOrderSource:
    """Where an order came from (free text in the table, so later issues add sources freely)."""

    MANUAL = ""
    CENSUS_RECONCILIATION = "census_reconciliation"


@track_history()
class WorkOrder(models.Model):
    number = models.CharField(_("order number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=WorkOrderKind.choices)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WorkOrderStatus.choices,
        default=WorkOrderStatus.CREATED,
        db_index=True,
    )
    reason = models.TextField(_("reason"))
    source = models.CharField(_("source"), max_length=40, blank=True)
    source_ref = models.CharField(
        _("source reference"),
        max_length=120,
        blank=True,
        help_text=_("Stable key of what the order came from, e.g. no_account:parcel:123."),
    )
    location = models.PointField(_("location"), srid=SRID)
    parcel = models.ForeignKey(
        "cadastre.Parcel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("parcel"),
    )
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("service account"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
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
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same finding turned into a request twice gives one open order.
            models.UniqueConstraint(
                fields=["source", "source_ref"],
                condition=Q(status__in=[s.value for s in OPEN_STATUSES]) & ~Q(source_ref=""),
                name="workorder_one_open_per_source_ref",
            ),
            models.CheckConstraint(
                condition=Q(source_ref="") | ~Q(source=""),
                name="workorder_source_ref_needs_source",
            ),
            models.CheckConstraint(
                condition=Q(status__in=WorkOrderStatus.values), name="workorder_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="workorder_cancelled_at_iff_cancelled",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
