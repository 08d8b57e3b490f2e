"""Spatial data that belongs to no domain app: orthophotos (aerial imagery under the map).

An orthophoto's pixels live in a Cloud-Optimized GeoTIFF under ``MEDIA_ROOT/orthophotos/``
(EPSG:3857, internal overviews), written by :mod:`gis_core.orthophotos`; this table records
where it lies and how far one may zoom into it. A row points at one file for ever: a new
survey is a new orthophoto, so tiles can be cached as immutable per id.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import track_history

SRID = settings.CAUDAL_SRID


@track_history()
class Orthophoto(models.Model):
    name = models.CharField(_("name"), max_length=200)
    file = models.CharField(
        _("file"),
        max_length=255,
        unique=True,
        help_text=_("Path of the Cloud-Optimized GeoTIFF, relative to the media directory."),
    )
    # The image's footprint (its extent in its own CRS, densified), in the storage CRS.
    bounds = models.PolygonField(_("bounds"), srid=SRID)
    resolution_m = models.FloatField(_("resolution (m/pixel)"))
    min_zoom = models.PositiveSmallIntegerField(_("minimum zoom"))
    max_zoom = models.PositiveSmallIntegerField(_("maximum zoom"))
    width = models.PositiveIntegerField(_("width (pixels)"))
    height = models.PositiveIntegerField(_("height (pixels)"))
    size_bytes = models.BigIntegerField(_("size (bytes)"))
    source_name = models.CharField(_("uploaded file name"), max_length=255, blank=True)
    source_crs = models.CharField(_("CRS of the uploaded file"), max_length=120, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive orthophotos are neither listed nor served."),
    )

    class Meta:
        verbose_name = _("orthophoto")
        verbose_name_plural = _("orthophotos")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_zoom__lte=F("max_zoom")) & Q(max_zoom__lte=24),
                name="orthophoto_zoom_range",
            ),
            models.CheckConstraint(condition=Q(resolution_m__gt=0), name="orthophoto_resolution"),
            models.CheckConstraint(
                condition=Q(bounds__isvalid=True), name="orthophoto_bounds_valid"
            ),
        ]

    def __str__(self):
        return self.name
