"""The base cadastre: localities (colonias), streets, blocks (manzanas) and parcels (predios).

All geometries are stored in the installation's projected CRS (``settings.CAUDAL_SRID``), so
areas are square metres and tolerances are metres.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Func, Q
from django.utils.translation import gettext_lazy as _

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


@track_history()
class Parcel(models.Model):
    block = models.ForeignKey(
        Block, on_delete=models.PROTECT, related_name="parcels", verbose_name=_("block")
    )
    cadastral_key = models.CharField(_("cadastral key"), max_length=32, unique=True)
    land_use = models.CharField(
        _("land use"),
        max_length=12,
        choices=LandUse.choices,
        default=LandUse.RESIDENTIAL,
        db_index=True,
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
        constraints = [
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="parcel_geom_valid"),
        ]

    def __str__(self):
        return self.cadastral_key
