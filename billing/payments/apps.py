from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Payments from every channel (cashier windows, bank files, online API, kiosk) and their
    allocation to the ledger's open items."""

    name = "billing.payments"
    label = "payments"
    verbose_name = _("Payments")
