"""Work orders (órdenes de trabajo), their catalogue of types, crews and field completion.

An order has a type from the catalogue (:class:`WorkOrderType`: required completion data,
photos, materials, priority, SLA, the skill a crew needs), a place (a point, linked to an
account, a parcel or a network asset), and moves through a state machine (see
:mod:`orders.services`): created → assigned → en route → in progress → done / failed, or
cancelled while open. Every move is a :class:`WorkOrderStep` row (when, who, where, from which
device), and the order keeps the time of each milestone for the performance figures. Other apps
create and cancel orders only through :mod:`orders.services`.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import track_history

SRID = settings.CAUDAL_SRID

# The database sequence behind readable order numbers (created by migration 0001).
NUMBER_SEQUENCE = "orders_workorder_number_seq"


class WorkOrderKind(models.TextChoices):
    """The types the catalogue ships with (migration 0005), with translated labels. A utility
    adds its own types in the admin; those show the label typed there."""

    INSPECTION = "inspection", _("Inspection")
    METER_INSTALL = "meter_install", _("Meter installation")
    METER_REPLACE = "meter_replace", _("Meter replacement")
    SUSPENSION = "suspension", _("Service suspension")
    RECONNECTION = "reconnection", _("Reconnection")
    LEAK_REPAIR = "leak_repair", _("Leak repair")
    NEW_CONNECTION = "new_connection", _("New connection")
    SEWER_UNBLOCKING = "sewer_unblock", _("Sewer unblocking")
    READING_CHECK = "reading_check", _("Reading check")


class WorkOrderStatus(models.TextChoices):
    CREATED = "created", _("Created")
    ASSIGNED = "assigned", _("Assigned")
    EN_ROUTE = "en_route", _("En route")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# An order is open until it is done, failed or cancelled: a finding has one open order at most.
OPEN_STATUSES = (
    WorkOrderStatus.CREATED,
    WorkOrderStatus.ASSIGNED,
    WorkOrderStatus.EN_ROUTE,
    WorkOrderStatus.IN_PROGRESS,
)
FINISHED_STATUSES = (WorkOrderStatus.DONE, WorkOrderStatus.FAILED)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Completion data a type may require (``WorkOrderType.required_fields``), beyond the result.
COMPLETION_FIELDS = {
    "signature": _("customer signature"),
    "materials": _("materials used"),
    "meter_serial": _("meter serial number"),
    "meter_reading": _("meter reading"),
    "note": _("note"),
}


@track_history()
class Material(models.Model):
    """A material crews use (pipe, fittings, a meter…), counted in ``unit``."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=10, default="pza")
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


@track_history()
class WorkOrderType(models.Model):
    """A type of work order and what closing one requires."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=120)
    skill = models.CharField(
        _("skill"), max_length=30, help_text=_("What a crew must know to be sent (see crews).")
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    sla_hours = models.PositiveIntegerField(_("SLA (hours)"), default=48)
    sla_working_hours = models.BooleanField(
        _("SLA counts working hours only"),
        default=True,
        help_text=_("Otherwise every hour of the day counts (emergencies)."),
    )
    required_fields = ArrayField(
        models.CharField(max_length=20, choices=[(k, v) for k, v in COMPLETION_FIELDS.items()]),
        default=list,
        blank=True,
        verbose_name=_("required completion data"),
    )
    photos_required = models.PositiveSmallIntegerField(_("photos required"), default=0)
    # Time on site, for planning a crew's day (orders.planning).
    service_minutes = models.PositiveSmallIntegerField(_("minutes on site"), default=45)
    materials = models.ManyToManyField(
        Material, blank=True, related_name="+", verbose_name=_("material checklist")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("work order type")
        verbose_name_plural = _("work order types")
        ordering = ["code"]

    def __str__(self):
        return self.display_label

    @property
    def display_label(self) -> str:
        known = {value: label for value, label in WorkOrderKind.choices}
        return str(known.get(self.code, self.label))


@track_history()
class ResultCode(models.Model):
    """How a visit ended: ``success`` codes close an order as done, the others as failed."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=120)
    success = models.BooleanField(_("work done"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("result code")
        verbose_name_plural = _("result codes")
        ordering = ["-success", "code"]

    def __str__(self):
        return self.label


@track_history()
class Crew(models.Model):
    """A field crew: where it starts its day, what it knows how to do, and how many orders a
    day it takes (the automatic assignment fills crews up to it)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    base = models.PointField(_("base"), srid=SRID)
    skills = ArrayField(models.CharField(max_length=30), default=list, verbose_name=_("skills"))
    daily_capacity = models.PositiveSmallIntegerField(_("orders a day"), default=8)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("crew")
        verbose_name_plural = _("crews")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


@track_history()
class CrewMember(models.Model):
    crew = models.ForeignKey(
        Crew, on_delete=models.CASCADE, related_name="members", verbose_name=_("crew")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="crew_membership",
        verbose_name=_("user"),
    )
    leader = models.BooleanField(_("leader"), default=False)

    class Meta:
        verbose_name = _("crew member")
        verbose_name_plural = _("crew members")

    def __str__(self):
        return f"{self.user} @ {self.crew_id}"


@track_history()
class Holiday(models.Model):
    """A day nobody works: SLAs in working hours skip it."""

    day = models.DateField(_("day"), unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} {self.name}"


class WorkOrderSource:
    """Where an order came from (free text in the table, so later issues add sources freely)."""

    MANUAL = ""
    CENSUS_RECONCILIATION = "census_reconciliation"


@track_history()
class WorkOrder(models.Model):
    number = models.CharField(_("order number"), max_length=20, unique=True)
    # The type's code is the column (``kind``): readable in SQL, tiles and exports.
    kind = models.ForeignKey(
        WorkOrderType,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="kind",
        related_name="orders",
        verbose_name=_("kind"),
    )
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
    asset_ref = models.CharField(
        _("network asset"),
        max_length=60,
        blank=True,
        help_text=_("The pipe, valve or other asset the work is on, e.g. pipe:1234."),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    # When the order must be finished, from its type's SLA (orders.sla).
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    crew = models.ForeignKey(
        Crew,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("crew"),
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    en_route_at = models.DateTimeField(_("en route at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Check-ins on site: 1 for a job done on the first visit (first-time fix).
    visits = models.PositiveSmallIntegerField(_("visits"), default=0)
    result = models.ForeignKey(
        ResultCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("result"),
    )
    completion = models.JSONField(_("completion data"), default=dict, blank=True)
    # A second device sent a completion for an order already closed: both are kept, an office
    # clerk decides (the same rule as two readings of one meter).
    conflict = models.BooleanField(_("conflict to review"), default=False)
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
        permissions = [("dispatch_workorder", _("Can assign work orders to crews"))]
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
            models.CheckConstraint(
                condition=~Q(status__in=["assigned", "en_route", "in_progress", "done", "failed"])
                | Q(crew__isnull=False),
                name="workorder_assigned_has_crew",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["done", "failed"])
                | Q(finished_at__isnull=False, result__isnull=False),
                name="workorder_finished_has_result",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("created_at")),
                name="workorder_finished_after_created",
            ),
        ]
        indexes = [
            models.Index(fields=["crew", "status"], name="workorder_crew_status"),
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["created", "assigned", "en_route", "in_progress"]),
                name="workorder_open_due",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def kind_label(self) -> str:
        return self.kind.display_label

    @property
    def is_late(self) -> bool:
        if self.due_at is None:
            return False
        end = self.finished_at or timezone.now()
        return end > self.due_at


@track_history()
class WorkOrderStep(models.Model):
    """One move of an order through its states: who, when (device time for field steps), where,
    and from which device. Field steps carry the client-made id that makes a replayed sync land
    once; a step that arrived for an order already closed by another device is kept with
    ``conflict`` set and changes nothing."""

    order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="steps", verbose_name=_("work order")
    )
    from_status = models.CharField(_("from"), max_length=12, choices=WorkOrderStatus.choices)
    to_status = models.CharField(_("to"), max_length=12, choices=WorkOrderStatus.choices)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    position = models.PointField(_("position"), srid=SRID, null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    client_id = models.UUIDField(_("client id"), null=True, blank=True, unique=True)
    device_id = models.CharField(_("device"), max_length=64, blank=True)
    conflict = models.BooleanField(_("conflict"), default=False)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("work order step")
        verbose_name_plural = _("work order steps")
        ordering = ["order", "at", "id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status} → {self.to_status}"


@track_history()
class WorkOrderMaterial(models.Model):
    order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="materials", verbose_name=_("work order")
    )
    material = models.ForeignKey(
        Material, on_delete=models.PROTECT, related_name="+", verbose_name=_("material")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)

    class Meta:
        verbose_name = _("material used")
        verbose_name_plural = _("materials used")
        constraints = [
            models.UniqueConstraint(fields=["order", "material"], name="workordermaterial_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="workordermaterial_positive"),
        ]


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    SIGNATURE = "signature", _("Customer signature")


@track_history()
class WorkOrderAttachment(models.Model):
    """A photo or the customer's signature, uploaded from the phone before the completion that
    names it (by its client id), so a completion never waits for a picture."""

    order = models.ForeignKey(
        WorkOrder,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("work order"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices)
    client_id = models.UUIDField(_("client id"), unique=True)
    image = models.ImageField(_("image"), upload_to="orders/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


# --- Service desk (atención a usuarios) --------------------------------------------------------

TICKET_SEQUENCE = "orders_ticket_number_seq"


class TicketKind(models.TextChoices):
    CLARIFICATION = "clarification", _("Bill clarification")
    FEASIBILITY = "feasibility", _("Feasibility")
    NEW_CONTRACT = "new_contract", _("New contract")
    OWNERSHIP_CHANGE = "ownership_change", _("Change of account holder")
    AGREEMENT = "agreement", _("Payment agreement request")
    LEAK_REPORT = "leak_report", _("Leak report")
    COMPLAINT = "complaint", _("Complaint")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Received")
    IN_PROGRESS = "in_progress", _("Being attended")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Not granted")
    CANCELLED = "cancelled", _("Cancelled")


TICKET_OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS)


class TicketChannel(models.TextChoices):
    COUNTER = "counter", _("Counter")
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web")
    APP = "app", _("App")


@track_history()
class Ticket(models.Model):
    """A customer's request at the service desk: a number the customer quotes, an SLA, and the
    status messages the customer receives (:class:`TicketMessage`). Requests that need field
    work open a work order (``work_order``)."""

    number = models.CharField(_("ticket number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=TicketKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=TicketChannel.choices, default=TicketChannel.COUNTER
    )
    customer = models.ForeignKey(
        "cadastre.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("customer"),
    )
    account = models.ForeignKey(
        "cadastre.ServiceAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("service account"),
    )
    parcel = models.ForeignKey(
        "cadastre.Parcel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("parcel"),
    )
    location = models.PointField(_("location"), srid=SRID, null=True, blank=True)
    description = models.TextField(_("description"))
    # What the request asks for, by kind (the new holder's data, the disputed bill…).
    request = models.JSONField(_("request data"), default=dict, blank=True)
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("work order"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    due_at = models.DateTimeField(_("due at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "in_progress"], closed_at__isnull=True)
                | (
                    Q(status__in=["resolved", "rejected", "cancelled"]) & Q(closed_at__isnull=False)
                ),
                name="ticket_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("created_at")), name="ticket_due_after_created"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="ticket_status_due"),
            models.Index(fields=["account"], name="ticket_account"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_late(self) -> bool:
        return (self.closed_at or timezone.now()) > self.due_at


@track_history()
class TicketMessage(models.Model):
    """A status message to the customer (and the desk's notes, ``public`` False). Messages to
    the customer wait in ``sent_at`` = None until the notification service sends them."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    text = models.TextField(_("text"))
    public = models.BooleanField(_("sent to the customer"), default=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["ticket", "at", "id"]
