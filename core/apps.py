from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Cross-cutting pieces no domain owns: roles, history context, health, landing, demo steps."""

    name = "core"
    verbose_name = _("Caudal core")
