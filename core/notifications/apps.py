from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Messages to customers (e-mail, SMS, WhatsApp) through one interface; every notice sent
    is recorded."""

    name = "core.notifications"
    label = "notifications"
    verbose_name = _("Notifications")
