from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    """Pipes, valves, hydrants, tanks; topology graph; valve-isolation trace."""

    name = "network"
    verbose_name = _("Water network")

    def ready(self):
        # The network's layers join the cadastre's GIS-file import and export tables.
        from network.imports import register

        register()
