from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TilesConfig(AppConfig):
    """Vector, heat-map and raster tiles for every registered layer, with cache invalidation."""

    name = "tiles"
    verbose_name = _("Map tiles")
