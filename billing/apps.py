from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Tariffs, billing runs, bills, ledger, payments, agreements, collections, CFDI."""

    name = "billing"
    verbose_name = _("Billing")
