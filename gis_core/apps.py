from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GisCoreConfig(AppConfig):
    """Spatial machinery every app uses: SRID policy, geometry validation, layer registry, GDAL import/export, the map shell."""

    name = "gis_core"
    verbose_name = _("Spatial core")
