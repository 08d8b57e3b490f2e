"""The water network: pipes, valves, hydrants, tanks, pumps, sources, service connections, and
a basic sewer network; its noded graph; outage events traced from a pipe break.

Every geometry is in the installation's projected CRS (``settings.CAUDAL_SRID``, metres), so
``Pipe.length_m`` is a plain ``ST_Length`` (a generated column: it always matches the line).

**The graph** (:class:`NetworkVertex`, :class:`NetworkEdge`) is derived data, rebuilt set-based
by :func:`network.topology.topology_build`. Valves *split* pipes: a pipe is cut at its own ends
and at every valve lying on it, each piece becomes an edge, and every cut point becomes a vertex
(snapped to a grid of ``SNAP_M``), so **a valve always sits on a vertex** and the isolation
trace stops or passes at vertices only. Macrometers live in ``metering.Macrometer`` and are
not duplicated here: the network reads them by location.

An :class:`Outage` is written from a trace in one transaction: the affected accounts
(:class:`OutageAccount`), a pending notification per account (:class:`OutageNotice`, a narrow
outbox: the sending interface arrives with the collections issue) and a repair work order.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.history import track_history

SRID = settings.CAUDAL_SRID


class NetworkError(DomainError):
    """A network operation was refused; ``code`` is stable, ``message`` is translated."""


class StLengthRounded(Func):
    """ST_Length rounded to cm, in the projected CRS's metres."""

    template = "ROUND(ST_Length(%(expressions)s)::numeric, 2)"
    output_field = models.DecimalField(max_digits=12, decimal_places=2)


class Material(models.TextChoices):
    PVC = "pvc", _("PVC")
    PE = "pe", _("Polyethylene (HDPE)")
    DUCTILE_IRON = "ductile_iron", _("Ductile iron")
    CAST_IRON = "cast_iron", _("Cast iron")
    STEEL = "steel", _("Steel")
    ASBESTOS_CEMENT = "asbestos_cement", _("Asbestos cement")
    CONCRETE = "concrete", _("Concrete")
    UNKNOWN = "unknown", _("Unknown")


class AssetStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    PLANNED = "planned", _("Planned")
    ABANDONED = "abandoned", _("Abandoned")


class ValveState(models.TextChoices):
    OPEN = "open", _("Valve open")
    CLOSED = "closed", _("Valve closed")


class SourceKind(models.TextChoices):
    WELL = "well", _("Well")
    SURFACE = "surface", _("Surface water intake")
    SPRING = "spring", _("Spring")
    RESERVOIR = "reservoir", _("Reservoir (fixed head)")


def _valid(name):
    return models.CheckConstraint(condition=Q(geom__isvalid=True), name=f"{name}_geom_valid")


class Asset(models.Model):
    """What every point asset has: a code people use and a place."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    geom = models.PointField(_("location"), srid=SRID)
    status = models.CharField(
        _("status"), max_length=10, choices=AssetStatus.choices, default=AssetStatus.ACTIVE
    )

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return self.code


class LineAsset(models.Model):
    """What every pipe has, water or sewer: a code people use, what it is made of, its size and
    age, its status and its route (the length follows from the route)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    material = models.CharField(
        _("material"), max_length=16, choices=Material.choices, default=Material.UNKNOWN
    )
    diameter_mm = models.PositiveSmallIntegerField(_("diameter (mm)"))
    install_year = models.PositiveSmallIntegerField(_("install year"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=AssetStatus.choices, default=AssetStatus.ACTIVE
    )
    geom = models.LineStringField(_("pipe route"), srid=SRID)
    length_m = models.GeneratedField(
        expression=StLengthRounded(F("geom")),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
        verbose_name=_("length (m)"),
    )

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return self.code


def _line_asset_checks(name: str, *, max_diameter_mm: int) -> list:
    return [
        _valid(name),
        models.CheckConstraint(
            condition=Q(diameter_mm__gt=0, diameter_mm__lte=max_diameter_mm),
            name=f"{name}_diameter",
        ),
        models.CheckConstraint(
            condition=Q(install_year__isnull=True)
            | Q(install_year__gte=1850, install_year__lte=2100),
            name=f"{name}_install_year",
        ),
    ]


PIPE_MAX_DIAMETER_MM = 5000
SEWER_MAX_DIAMETER_MM = 10000


@track_history()
class Pipe(LineAsset):
    roughness = models.DecimalField(
        _("roughness (Hazen-Williams C)"), max_digits=7, decimal_places=2, default=130
    )

    class Meta(LineAsset.Meta):
        verbose_name = _("pipe")
        verbose_name_plural = _("pipes")
        constraints = [
            *_line_asset_checks("pipe", max_diameter_mm=PIPE_MAX_DIAMETER_MM),
            models.CheckConstraint(condition=Q(roughness__gt=0), name="pipe_roughness"),
        ]


@track_history()
class Junction(Asset):
    """A hydraulic node of a model (EPANET junction): elevation and base demand. The graph does
    not need junctions (it nodes pipes by their ends); they carry what hydraulics needs."""

    elevation_m = models.DecimalField(_("elevation (m)"), max_digits=9, decimal_places=2, default=0)
    demand_lps = models.DecimalField(
        _("base demand (l/s)"), max_digits=10, decimal_places=4, default=0
    )

    class Meta(Asset.Meta):
        verbose_name = _("junction")
        verbose_name_plural = _("junctions")
        constraints = [_valid("junction")]


@track_history()
class Valve(Asset):
    diameter_mm = models.PositiveSmallIntegerField(_("diameter (mm)"), default=100)
    normal_status = models.CharField(
        _("normal status"), max_length=6, choices=ValveState.choices, default=ValveState.OPEN
    )
    current_status = models.CharField(
        _("current status"), max_length=6, choices=ValveState.choices, default=ValveState.OPEN
    )
    operable = models.BooleanField(
        _("operable"), default=True, help_text=_("False when the valve is seized or buried.")
    )
    # EPANET valves are links: kept with their end nodes so an export writes the same link.
    epanet_type = models.CharField(_("EPANET type"), max_length=4, blank=True)
    epanet_setting = models.CharField(_("EPANET setting"), max_length=20, blank=True)
    epanet_node1 = models.CharField(_("EPANET start node"), max_length=40, blank=True)
    epanet_node2 = models.CharField(_("EPANET end node"), max_length=40, blank=True)

    class Meta(Asset.Meta):
        verbose_name = _("valve")
        verbose_name_plural = _("valves")
        constraints = [
            _valid("valve"),
            models.CheckConstraint(condition=Q(diameter_mm__gt=0), name="valve_diameter"),
            models.CheckConstraint(
                condition=Q(epanet_node1="", epanet_node2="")
                | (~Q(epanet_node1="") & ~Q(epanet_node2="")),
                name="valve_epanet_nodes_paired",
            ),
        ]


@track_history()
class Hydrant(Asset):
    diameter_mm = models.PositiveSmallIntegerField(_("diameter (mm)"), default=100)

    class Meta(Asset.Meta):
        verbose_name = _("hydrant")
        verbose_name_plural = _("hydrants")
        constraints = [
            _valid("hydrant"),
            models.CheckConstraint(condition=Q(diameter_mm__gt=0), name="hydrant_diameter"),
        ]


@track_history()
class Tank(Asset):
    name = models.CharField(_("name"), max_length=120, blank=True)
    elevation_m = models.DecimalField(_("bottom elevation (m)"), max_digits=9, decimal_places=2)
    init_level_m = models.DecimalField(_("initial level (m)"), max_digits=7, decimal_places=2)
    min_level_m = models.DecimalField(_("minimum level (m)"), max_digits=7, decimal_places=2)
    max_level_m = models.DecimalField(_("maximum level (m)"), max_digits=7, decimal_places=2)
    diameter_m = models.DecimalField(_("diameter (m)"), max_digits=7, decimal_places=2)

    class Meta(Asset.Meta):
        verbose_name = _("tank")
        verbose_name_plural = _("tanks")
        constraints = [
            _valid("tank"),
            models.CheckConstraint(
                condition=Q(min_level_m__gte=0)
                & Q(min_level_m__lte=F("init_level_m"))
                & Q(init_level_m__lte=F("max_level_m")),
                name="tank_levels_ordered",
            ),
            models.CheckConstraint(condition=Q(diameter_m__gt=0), name="tank_diameter"),
        ]


@track_history()
class Pump(Asset):
    name = models.CharField(_("name"), max_length=120, blank=True)
    power_kw = models.DecimalField(
        _("power (kW)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    # EPANET pumps are links: the rest of the line after the nodes (HEAD curve, POWER …).
    epanet_params = models.CharField(_("EPANET parameters"), max_length=200, blank=True)
    epanet_node1 = models.CharField(_("EPANET start node"), max_length=40, blank=True)
    epanet_node2 = models.CharField(_("EPANET end node"), max_length=40, blank=True)

    class Meta(Asset.Meta):
        verbose_name = _("pump")
        verbose_name_plural = _("pumps")
        constraints = [
            _valid("pump"),
            models.CheckConstraint(
                condition=Q(power_kw__isnull=True) | Q(power_kw__gt=0), name="pump_power"
            ),
        ]


@track_history()
class Source(Asset):
    name = models.CharField(_("name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=SourceKind.choices)
    head_m = models.DecimalField(
        _("total head (m)"), max_digits=9, decimal_places=2, null=True, blank=True
    )

    class Meta(Asset.Meta):
        verbose_name = _("water source")
        verbose_name_plural = _("water sources")
        constraints = [_valid("source")]


@track_history()
class ServiceConnection(models.Model):
    """The toma: where an account's service line leaves its pipe (``geom`` lies on the pipe)."""

    account = models.OneToOneField(
        "cadastre.ServiceAccount",
        on_delete=models.CASCADE,
        related_name="connection",
        verbose_name=_("service account"),
    )
    pipe = models.ForeignKey(
        Pipe, on_delete=models.PROTECT, related_name="connections", verbose_name=_("pipe")
    )
    geom = models.PointField(_("tap on the pipe"), srid=SRID)

    class Meta:
        verbose_name = _("service connection")
        verbose_name_plural = _("service connections")
        constraints = [_valid("serviceconnection")]
        indexes = [models.Index(fields=["pipe"], name="serviceconnection_pipe")]

    def __str__(self):
        return f"{self.account_id} → {self.pipe_id}"


@track_history()
class SewerPipe(LineAsset):
    class Meta(LineAsset.Meta):
        verbose_name = _("sewer pipe")
        verbose_name_plural = _("sewer pipes")
        constraints = _line_asset_checks("sewerpipe", max_diameter_mm=SEWER_MAX_DIAMETER_MM)


@track_history()
class Manhole(Asset):
    depth_m = models.DecimalField(
        _("depth (m)"), max_digits=6, decimal_places=2, null=True, blank=True
    )

    class Meta(Asset.Meta):
        verbose_name = _("manhole")
        verbose_name_plural = _("manholes")
        constraints = [
            _valid("manhole"),
            models.CheckConstraint(
                condition=Q(depth_m__isnull=True) | Q(depth_m__gt=0), name="manhole_depth"
            ),
        ]


# --- the graph (derived; rebuilt by network.topology.topology_build) ------------------------


@track_history(inserts=False)
class NetworkVertex(models.Model):
    id = models.BigIntegerField(primary_key=True)
    geom = models.PointField(srid=SRID)
    # The valve at this vertex (at most one: the nearest within VALVE_ON_PIPE_M).
    valve = models.ForeignKey(
        Valve, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("network vertex")
        verbose_name_plural = _("network vertices")


@track_history(inserts=False)
class NetworkEdge(models.Model):
    """A piece of a pipe between two cut points (the pipe's ends and the valves on it);
    ``frac_from``/``frac_to`` locate it along the pipe (ST_LineLocatePoint fractions)."""

    id = models.BigAutoField(primary_key=True)
    pipe = models.ForeignKey(Pipe, on_delete=models.DO_NOTHING, db_constraint=False)
    source = models.BigIntegerField()
    target = models.BigIntegerField()
    frac_from = models.FloatField()
    frac_to = models.FloatField()
    length_m = models.FloatField()
    geom = models.LineStringField(srid=SRID)

    class Meta:
        verbose_name = _("network edge")
        verbose_name_plural = _("network edges")
        constraints = [
            models.CheckConstraint(
                condition=Q(frac_from__gte=0, frac_to__lte=1, frac_from__lt=F("frac_to")),
                name="networkedge_fractions",
            ),
        ]
        indexes = [
            models.Index(fields=["source"], name="networkedge_source"),
            models.Index(fields=["target"], name="networkedge_target"),
            models.Index(fields=["pipe"], name="networkedge_pipe"),
        ]


# --- outages -----------------------------------------------------------------------------------


class OutageStatus(models.TextChoices):
    ACTIVE = "active", _("Ongoing")
    CLOSED = "closed", _("Service restored")


@track_history()
class Outage(models.Model):
    """A supply interruption traced from a pipe break (see :func:`network.services.outage_create`)."""

    pipe = models.ForeignKey(
        Pipe, on_delete=models.PROTECT, related_name="outages", verbose_name=_("broken pipe")
    )
    break_point = models.PointField(_("break point"), srid=SRID)
    valves = ArrayField(models.BigIntegerField(), verbose_name=_("valves to close"))
    pipes = ArrayField(models.BigIntegerField(), verbose_name=_("isolated pipes"))
    geom = models.MultiLineStringField(_("isolated section"), srid=SRID)
    status = models.CharField(
        _("status"), max_length=8, choices=OutageStatus.choices, default=OutageStatus.ACTIVE
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    expected_end = models.DateTimeField(_("expected end"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    work_order = models.ForeignKey(
        "orders.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("repair work order"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_end__gt=F("started_at")), name="outage_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status=OutageStatus.ACTIVE, ended_at__isnull=True)
                | Q(status=OutageStatus.CLOSED, ended_at__isnull=False),
                name="outage_ended_when_closed",
            ),
        ]

    def __str__(self):
        return f"{self.pk} {self.pipe_id}"


@track_history()
class OutageAccount(models.Model):
    """An account without water because of an outage: customer service and billing read it."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="accounts")
    account = models.ForeignKey(
        "cadastre.ServiceAccount", on_delete=models.PROTECT, related_name="outages"
    )

    class Meta:
        verbose_name = _("account in an outage")
        verbose_name_plural = _("accounts in an outage")
        constraints = [
            models.UniqueConstraint(fields=["outage", "account"], name="outageaccount_unique")
        ]


class NoticeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent to the customer")
    FAILED = "failed", _("Could not be sent")


@track_history()
class OutageNotice(models.Model):
    """Outbox row: one message to one affected account. Nothing here sends it; the sending
    interface (collections issue) claims pending rows with ``UPDATE … WHERE status='pending'``."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="notices")
    account = models.ForeignKey(
        "cadastre.ServiceAccount", on_delete=models.PROTECT, related_name="outage_notices"
    )
    message = models.TextField(_("message"))
    status = models.CharField(
        _("status"), max_length=8, choices=NoticeStatus.choices, default=NoticeStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outage notice")
        verbose_name_plural = _("outage notices")
        constraints = [
            models.UniqueConstraint(fields=["outage", "account"], name="outagenotice_unique"),
            models.CheckConstraint(condition=~Q(message=""), name="outagenotice_message"),
        ]
        indexes = [models.Index(fields=["status"], name="outagenotice_status")]
