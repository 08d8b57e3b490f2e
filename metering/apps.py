from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeteringConfig(AppConfig):
    """Meters, macrometers, readings, anomalies, reading routes, water balance."""

    name = "metering"
    verbose_name = _("Metering")
