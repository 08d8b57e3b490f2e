from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdminErpConfig(AppConfig):
    """Warehouse, purchasing, fixed assets, accounting journal, treasury."""

    name = "admin_erp"
    verbose_name = _("Administration")
