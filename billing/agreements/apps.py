from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgreementsConfig(AppConfig):
    """Adjustments (credit and debit notes with approval) and payment agreements (convenios)."""

    name = "billing.agreements"
    label = "agreements"
    verbose_name = _("Adjustments and agreements")
