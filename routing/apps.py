from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    """Routing graph, cost matrices and the route optimizer (reading, collection, crews)."""

    name = "routing"
    verbose_name = _("Route optimization")
