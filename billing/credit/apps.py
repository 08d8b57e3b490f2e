from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    """Credit control at every point of service and the collection log (calls, visits,
    promises of payment)."""

    name = "billing.credit"
    label = "credit"
    verbose_name = _("Credit control and collection log")
