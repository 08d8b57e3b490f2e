"""Meters. Issue 3 needs their serials (search, census); issue 6 adds the rest of metering."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from core.history import track_history


class MeterStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    INSTALLED = "installed", _("Installed")
    REMOVED = "removed", _("Removed")


@track_history()
class Meter(models.Model):
    serial = models.CharField(_("serial number"), max_length=40, unique=True)
    brand = models.CharField(_("brand"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    diameter_mm = models.PositiveSmallIntegerField(_("diameter (mm)"), default=13)
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
        ]

    def __str__(self):
        return self.serial
