"""The base cadastre: localities (colonias), streets, blocks (manzanas) and parcels (predios).

All geometries are stored in the installation's projected CRS (``settings.CAUDAL_SRID``), so
areas are square metres and tolerances are metres.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MinValueValidator, RegexValidator
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

from cadastre.validators import validate_rfc
from core.history import track_history

SRID = settings.CAUDAL_SRID


class LocalityKind(models.TextChoices):
    COLONIA = "colonia", _("Neighbourhood (colonia)")
    FRACCIONAMIENTO = "fraccionamiento", _("Housing development (fraccionamiento)")
    BARRIO = "barrio", _("Quarter (barrio)")
    INDUSTRIAL = "industrial", _("Industrial park")
    CENTRO = "centro", _("Historic centre")


class StreetClass(models.TextChoices):
    AVENUE = "avenue", _("Avenue")
    STREET = "street", _("Street")


class LandUse(models.TextChoices):
    RESIDENTIAL = "residential", _("Residential")
    COMMERCIAL = "commercial", _("Commercial")
    MIXED = "mixed", _("Mixed")
    INDUSTRIAL = "industrial", _("Industrial")
    PUBLIC = "public", _("Public facility")
    GREEN = "green", _("Park or green area")
    VACANT = "vacant", _("Vacant lot")


class StAreaRounded(Func):
    """ST_Area rounded to cm²: the stored area always matches the stored polygon."""

    template = "ROUND(ST_Area(%(expressions)s)::numeric, 2)"
    output_field = models.DecimalField(max_digits=14, decimal_places=2)


@track_history()
class Locality(models.Model):
    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=20, choices=LocalityKind.choices, default=LocalityKind.COLONIA
    )
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    geom = models.MultiPolygonField(_("boundary"), srid=SRID)

    class Meta:
        verbose_name = _("locality")
        verbose_name_plural = _("localities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="locality_geom_valid"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


@track_history()
class StreetSegment(models.Model):
    name = models.CharField(_("name"), max_length=120, db_index=True)
    street_class = models.CharField(
        _("class"), max_length=10, choices=StreetClass.choices, default=StreetClass.STREET
    )
    geom = models.LineStringField(_("centreline"), srid=SRID)

    class Meta:
        verbose_name = _("street segment")
        verbose_name_plural = _("street segments")
        constraints = [
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="street_geom_valid"),
        ]

    def __str__(self):
        return self.name


@track_history()
class Block(models.Model):
    locality = models.ForeignKey(
        Locality, on_delete=models.PROTECT, related_name="blocks", verbose_name=_("locality")
    )
    code = models.CharField(_("block number"), max_length=8)
    geom = models.PolygonField(_("outline"), srid=SRID)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        constraints = [
            models.UniqueConstraint(fields=["locality", "code"], name="block_code_unique"),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="block_geom_valid"),
        ]

    def __str__(self):
        # The key staff use: colonia code and block number, as in the parcel's cadastral key.
        return f"{self.locality.code}-{self.code}"


# Locality (4 digits) - block (3 digits) - parcel number (3 digits), e.g. 0012-045-007.
CADASTRAL_KEY_PATTERN = r"^[0-9]{4}-[0-9]{3}-[0-9]{3}$"


class ParcelStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired (split, merged or cancelled)")


@track_history()
class Parcel(models.Model):
    """A parcel (predio). Split and merge retire parcels instead of deleting them, so accounts,
    bills and history that point at a parent keep pointing at a real row; lineage links them."""

    block = models.ForeignKey(
        Block, on_delete=models.PROTECT, related_name="parcels", verbose_name=_("block")
    )
    # Unique through Meta.constraints, not unique=True: that would add a second, LIKE-only
    # index (varchar_pattern_ops) nobody queries; key search uses the normalised prefix and
    # trigram indexes (migration cadastre 0005).
    cadastral_key = models.CharField(
        _("cadastral key"),
        max_length=32,
        validators=[
            RegexValidator(
                CADASTRAL_KEY_PATTERN, _("Use the form LLLL-MMM-PPP (locality, block, parcel).")
            )
        ],
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ParcelStatus.choices,
        db_default=ParcelStatus.ACTIVE,
    )
    built_area_m2 = models.DecimalField(
        _("built area (m²)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    land_use = models.CharField(
        _("land use"),
        max_length=12,
        choices=LandUse.choices,
        default=LandUse.RESIDENTIAL,
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    geom = models.PolygonField(_("outline"), srid=SRID)
    land_area_m2 = models.GeneratedField(
        expression=StAreaRounded(F("geom")),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
        db_persist=True,
        verbose_name=_("land area (m²)"),
    )

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        # No index on status or land use: a handful of values over a million rows, read
        # together with a place (tiles, reports) where the spatial index decides.
        constraints = [
            models.UniqueConstraint(fields=["cadastral_key"], name="parcel_cadastral_key_unique"),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="parcel_geom_valid"),
            models.CheckConstraint(
                condition=Q(cadastral_key__regex=CADASTRAL_KEY_PATTERN),
                name="parcel_cadastral_key_format",
            ),
            models.CheckConstraint(
                condition=Q(built_area_m2__isnull=True) | Q(built_area_m2__gte=0),
                name="parcel_built_area_sign",
            ),
        ]

    def __str__(self):
        return self.cadastral_key


class LineageOperation(models.TextChoices):
    SPLIT = "split", _("Split")
    MERGE = "merge", _("Merge")


@track_history()
class ParcelLineage(models.Model):
    """parent → child for every split and merge (a merge has several parents, one child)."""

    parent = models.ForeignKey(
        Parcel,
        on_delete=models.PROTECT,
        related_name="child_links",
        verbose_name=_("parent parcel"),
    )
    child = models.ForeignKey(
        Parcel,
        on_delete=models.PROTECT,
        related_name="parent_links",
        verbose_name=_("child parcel"),
    )
    operation = models.CharField(_("operation"), max_length=10, choices=LineageOperation.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("parcel lineage")
        verbose_name_plural = _("parcel lineage")
        constraints = [
            models.UniqueConstraint(fields=["parent", "child"], name="lineage_unique"),
            models.CheckConstraint(condition=~Q(parent=F("child")), name="lineage_not_self"),
        ]


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Party(models.Model):
    """Shared fields of owners and customers: a person (names + surnames) or a company."""

    kind = models.CharField(
        _("kind"), max_length=10, choices=PartyKind.choices, default=PartyKind.PERSON
    )
    name = models.CharField(_("name or company name"), max_length=200)
    first_surname = models.CharField(_("first surname"), max_length=100, blank=True)
    second_surname = models.CharField(_("second surname"), max_length=100, blank=True)
    rfc = models.CharField(
        _("RFC"),
        max_length=13,
        blank=True,
        validators=[validate_rfc],
        help_text=_("Mexican taxpayer id: 13 characters for persons, 12 for companies."),
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        abstract = True

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.name, self.first_surname, self.second_surname) if p)

    def __str__(self):
        return self.full_name


@track_history()
class Owner(Party):
    """Who owns parcels (propietario), with a share of each."""

    class Meta:
        verbose_name = _("owner")
        verbose_name_plural = _("owners")
        indexes = [models.Index(fields=["rfc"], name="owner_rfc_idx")]


@track_history()
class Ownership(models.Model):
    owner = models.ForeignKey(
        Owner, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("owner")
    )
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, related_name="ownerships", verbose_name=_("parcel")
    )
    share_percent = models.DecimalField(_("share (%)"), max_digits=7, decimal_places=4)
    since = models.DateField(_("owner since"), null=True, blank=True)

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        constraints = [
            models.UniqueConstraint(fields=["owner", "parcel"], name="ownership_unique"),
            models.CheckConstraint(
                condition=Q(share_percent__gt=0, share_percent__lte=100),
                name="ownership_share_range",
            ),
        ]


@track_history()
class Customer(Party):
    """Who receives the bill (usuario); may differ from the owner (a tenant, an administrator).

    Tax data are the CFDI defaults the customer asked for (issue 9 uses them)."""

    tax_regime = models.CharField(_("tax regime (SAT code)"), max_length=3, blank=True)
    cfdi_use = models.CharField(_("CFDI use (SAT code)"), max_length=4, blank=True)
    tax_postal_code = models.CharField(_("tax postal code"), max_length=5, blank=True)
    mailing_address = models.CharField(_("mailing address"), max_length=250, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(fields=["rfc"], name="customer_rfc_idx")]


class UseType(models.TextChoices):
    DOMESTIC = "domestic", _("Domestic")
    COMMERCIAL = "commercial", _("Commercial")
    INDUSTRIAL = "industrial", _("Industrial")
    PUBLIC = "public", _("Public")
    MIXED = "mixed", _("Mixed")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CUT = "cut", _("Cut off")
    INACTIVE = "inactive", _("Inactive")


@track_history()
class ServiceAccount(models.Model):
    """A service contract (contrato / toma) of a customer on a parcel.

    The service point is where the connection is; it may lie on the street side of the parcel,
    outside its polygon. Several accounts may share a parcel (condominiums, mixed use)."""

    number = models.CharField(_("account number"), max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("customer")
    )
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("parcel")
    )
    service_point = models.PointField(_("service point"), srid=SRID)
    use_type = models.CharField(
        _("use type"),
        max_length=12,
        choices=UseType.choices,
        default=UseType.DOMESTIC,
        db_index=True,
    )
    water = models.BooleanField(_("water"), default=True)
    sewer = models.BooleanField(_("sewer"), default=True)
    sanitation = models.BooleanField(_("sanitation"), default=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AccountStatus.choices,
        default=AccountStatus.ACTIVE,
        db_index=True,
    )
    billing_cycle = models.CharField(
        _("billing cycle"),
        max_length=10,
        default="1",
        help_text=_("Cycle code; the billing calendar (issue 8) gives it dates."),
    )
    connected_on = models.DateField(_("connected on"), null=True, blank=True)

    class Meta:
        verbose_name = _("service account")
        verbose_name_plural = _("service accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(water=True) | Q(sewer=True), name="account_has_water_or_sewer"
            ),
        ]

    def __str__(self):
        return self.number


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("In progress")
    CLOSED = "closed", _("Closed")


@track_history()
class CensusCampaign(models.Model):
    name = models.CharField(_("name"), max_length=120)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    area = models.MultiPolygonField(_("area"), srid=SRID, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED
    )

    class Meta:
        verbose_name = _("census campaign")
        verbose_name_plural = _("census campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__lte=F("ends_on")), name="campaign_dates_ordered"
            ),
        ]

    def __str__(self):
        return self.name


@track_history()
class CensusVisit(models.Model):
    """What a census taker found at a parcel. ``client_uuid`` makes a replayed sync harmless."""

    campaign = models.ForeignKey(
        CensusCampaign, on_delete=models.PROTECT, related_name="visits", verbose_name=_("campaign")
    )
    parcel = models.ForeignKey(
        Parcel, on_delete=models.PROTECT, related_name="census_visits", verbose_name=_("parcel")
    )
    client_uuid = models.UUIDField(_("device record id"), unique=True)
    visited_at = models.DateTimeField(_("visited at"))
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("visited by"),
    )
    land_use_found = models.CharField(_("land use found"), max_length=12, choices=LandUse.choices)
    has_building = models.BooleanField(_("has a building"), default=True)
    occupants = models.PositiveSmallIntegerField(_("occupants"), null=True, blank=True)
    has_connection = models.BooleanField(_("has a water connection"))
    meter_serial_seen = models.CharField(_("meter serial seen"), max_length=40, blank=True)
    photo = models.ImageField(_("photo"), upload_to="census/%Y/%m/", blank=True)
    position = models.PointField(_("GPS position"), srid=SRID, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("census visit")
        verbose_name_plural = _("census visits")
        indexes = [models.Index(fields=["campaign", "parcel"], name="census_campaign_parcel")]
