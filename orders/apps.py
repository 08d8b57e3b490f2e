from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    """Work orders, crews, SLAs and customer-service requests."""

    name = "orders"
    verbose_name = _("Work orders")
