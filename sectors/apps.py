from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SectorsConfig(AppConfig):
    """Commercial sectors, districts (DMAs), tariff zones and the sectorization engine."""

    name = "sectors"
    verbose_name = _("Sectorization")
