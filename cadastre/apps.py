from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CadastreConfig(AppConfig):
    """Parcels, blocks, streets, localities; owners, customers and service accounts."""

    name = "cadastre"
    verbose_name = _("Cadastre")
