from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CfdiConfig(AppConfig):
    """CFDI 4.0 e-invoicing: invoices per bill or payment, the global invoice, the payment
    complement and cancellation, stamped through a PAC interface."""

    name = "billing.cfdi"
    label = "cfdi"
    verbose_name = _("CFDI e-invoicing")
