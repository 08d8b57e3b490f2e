"""Sectorization: where each service account belongs, by the place of its service point.

Layers (all polygons in the installation's CRS, ``settings.CAUDAL_SRID``, metres):

- **commercial hierarchy** (:class:`CommercialArea`): zone > sector > reading book (the route a
  reader walks). One table, a ``level`` per row; a sector's parent is a zone, a book's parent a
  sector. The database enforces it: ``parent_level`` repeats the parent's level and a composite
  foreign key ``(parent_id, parent_level) → (id, level)`` (migration 0002) makes it true, and a
  check ties ``level`` to ``parent_level``. Codes are unique per level.
- **hydraulic districts** (:class:`Dma`, district metered areas) and **tariff zones**
  (:class:`TariffZone`, which billing uses to pick a tariff by location): flat layers.

Rules the services keep (``sectors.services``): siblings (same level and parent; every DMA;
every tariff zone) do not overlap by more than the tolerance; a child lies inside its parent.

:class:`AccountSectors` holds each account's zone, sector, book, DMA and tariff zone, written
only by the assignment engine (``sectors.assignment``) in set-based SQL. A book gives its
account the book's sector and that sector's zone, so an account's three levels always form
one chain; accounts in no book take the sector (and its zone) their point lies in, and so on.
A NULL means "in no polygon of that layer"; an account without a row was never assigned.

:class:`AreaPiece` is derived data: every area cut by ``ST_Subdivide`` into pieces of at most
``PIECE_MAX_VERTICES`` vertices, kept in step with the area tables by database triggers
(migration 0002). The engine joins service points against the pieces, not the areas: a tariff
zone of 500 scattered colonias has a bounding box as large as the city, and testing a point
against it costs as much as its 20,000 vertices; a piece costs at most a hundred.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.history import track_history

SRID = settings.CAUDAL_SRID

# Vertices per piece of AreaPiece (ST_Subdivide's max_vertices). Smaller pieces have tighter
# bounding boxes (fewer candidates per point) but make a deeper index; 64-256 are all close.
PIECE_MAX_VERTICES = 96


class AreaKind(models.TextChoices):
    ZONE = "zone", _("Zone")
    SECTOR = "sector", _("Sector")
    BOOK = "book", _("Reading book")
    DMA = "dma", _("District metered area (DMA)")
    TARIFF_ZONE = "tariff_zone", _("Tariff zone")


class Level(models.TextChoices):
    """The levels of the commercial hierarchy (a subset of :class:`AreaKind`)."""

    ZONE = "zone", _("Zone")
    SECTOR = "sector", _("Sector")
    BOOK = "book", _("Reading book")


# The level a parent must have; None: the level has no parent.
PARENT_LEVEL = {Level.ZONE: None, Level.SECTOR: Level.ZONE, Level.BOOK: Level.SECTOR}
CHILD_LEVEL = {Level.ZONE: Level.SECTOR, Level.SECTOR: Level.BOOK, Level.BOOK: None}
HIERARCHY = (Level.ZONE, Level.SECTOR, Level.BOOK)
KINDS = tuple(AreaKind.values)


class Area(models.Model):
    """What every sectorization polygon has: a code people use, a name, a boundary."""

    code = models.CharField(
        _("code"), max_length=20, help_text=_("Short code used on routes, bills and reports.")
    )
    name = models.CharField(_("name"), max_length=120)
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


@track_history()
class CommercialArea(Area):
    level = models.CharField(_("level"), max_length=6, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    # The parent's level, repeated so the composite foreign key (migration 0002) can hold the
    # database to "a sector's parent is a zone, a book's parent a sector". Set by the services.
    parent_level = models.CharField(
        _("parent level"), max_length=6, choices=Level.choices, null=True, blank=True
    )

    class Meta(Area.Meta):
        verbose_name = _("commercial area")
        verbose_name_plural = _("commercial areas")
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["level", "code"], name="commercialarea_code_unique"),
            # Target of the composite foreign key (parent_id, parent_level).
            models.UniqueConstraint(fields=["id", "level"], name="commercialarea_id_level"),
            models.CheckConstraint(
                condition=Q(level=Level.ZONE, parent__isnull=True, parent_level__isnull=True)
                | Q(level=Level.SECTOR, parent__isnull=False, parent_level=Level.ZONE)
                | Q(level=Level.BOOK, parent__isnull=False, parent_level=Level.SECTOR),
                name="commercialarea_level_matches_parent",
            ),
            models.CheckConstraint(
                condition=Q(geom__isvalid=True), name="commercialarea_geom_valid"
            ),
            models.CheckConstraint(condition=Q(code__regex=r"^\S+$"), name="commercialarea_code"),
        ]
        indexes = [models.Index(fields=["parent", "level"], name="commercialarea_parent")]


@track_history()
class Dma(Area):
    """A district metered area (distrito hidrométrico): a part of the network fed through
    metered inlets, the unit of the water balance (non-revenue water)."""

    class Meta(Area.Meta):
        verbose_name = _("district metered area")
        verbose_name_plural = _("district metered areas")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="dma_code_unique"),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="dma_geom_valid"),
            models.CheckConstraint(condition=Q(code__regex=r"^\S+$"), name="dma_code"),
        ]


@track_history()
class TariffZone(Area):
    """A zone of the tariff (zona tarifaria): billing picks the tariff of an account by it."""

    class Meta(Area.Meta):
        verbose_name = _("tariff zone")
        verbose_name_plural = _("tariff zones")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="tariffzone_code_unique"),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="tariffzone_geom_valid"),
            models.CheckConstraint(condition=Q(code__regex=r"^\S+$"), name="tariffzone_code"),
        ]


@track_history()
class AccountSectors(models.Model):
    """The areas an account's service point falls in, one row per account (see the module
    docstring). Written by ``sectors.assignment`` only; history records every change."""

    account = models.OneToOneField(
        "cadastre.ServiceAccount",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sectors",
        verbose_name=_("service account"),
    )
    # PROTECT: an area is deleted by the services only after its accounts were reassigned.
    zone = models.ForeignKey(
        CommercialArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="zone_accounts",
        limit_choices_to={"level": Level.ZONE},
        verbose_name=_("zone"),
    )
    sector = models.ForeignKey(
        CommercialArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sector_accounts",
        limit_choices_to={"level": Level.SECTOR},
        verbose_name=_("sector"),
    )
    book = models.ForeignKey(
        CommercialArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="book_accounts",
        limit_choices_to={"level": Level.BOOK},
        verbose_name=_("reading book"),
    )
    dma = models.ForeignKey(
        Dma,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("district metered area"),
    )
    tariff_zone = models.ForeignKey(
        TariffZone,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("tariff zone"),
    )
    assigned_at = models.DateTimeField(_("assigned at"))
    # Position of the account in its book's reading order, written only when a route plan is
    # published (``routing.services.plan_publish``); NULL reads after the sequenced accounts,
    # by account number (``metering.selectors.assignment_meters``).
    reading_sequence = models.IntegerField(_("reading sequence"), null=True, blank=True)

    class Meta:
        verbose_name = _("account sectors")
        verbose_name_plural = _("account sectors")

    def __str__(self):
        return str(self.account_id)


# The AccountSectors column of each kind.
ASSIGNMENT_COLUMN = {
    AreaKind.ZONE: "zone_id",
    AreaKind.SECTOR: "sector_id",
    AreaKind.BOOK: "book_id",
    AreaKind.DMA: "dma_id",
    AreaKind.TARIFF_ZONE: "tariff_zone_id",
}


@track_history()
class AreaPiece(models.Model):
    """An area cut into small pieces for the point-in-polygon join (see the module docstring).

    Written only by the triggers of migration 0002: on every insert, delete or change of
    ``geom`` of a CommercialArea, Dma or TariffZone. ``area_id`` is the id in the table of its
    ``kind`` (no foreign key: three tables; the triggers delete pieces with their area).
    Tracked like every model of the app; its events are the area's, cut in pieces.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=AreaKind.choices)
    area_id = models.BigIntegerField(_("area"))
    # One partial GiST index per kind (``areapiece_<kind>_geom``, migration 0006) rather than
    # one for all: the engine probes the books first and the sectors and zones only for points
    # in no book, and a probe of one kind then walks only that kind's pieces. They are SQL in
    # the migration because Django's PostGIS schema editor drops the condition of an index
    # on a geometry column (it would build five full indexes).
    geom = models.PolygonField(_("piece"), srid=SRID, spatial_index=False)

    class Meta:
        verbose_name = _("area piece")
        verbose_name_plural = _("area pieces")
        indexes = [models.Index(fields=["kind", "area_id"], name="areapiece_area")]


class SectorsError(DomainError):
    """A rejected sectorization edit or request. Nothing was written when it is raised.

    ``code`` is stable for programs (``"overlap"``, ``"outside_parent"``, ``"invalid_geometry"``,
    ``"stale_preview"``, …); ``message`` is translated for people; ``where`` is the offending
    area or point in the storage SRID, or None. (Kept here, beside the models, because the
    services, the engine and the selectors all raise it.)
    """
