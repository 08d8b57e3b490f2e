"""Notifications; the project mounts them under /api/notifications/."""

from django.urls import path

from core.notifications import api

app_name = "notifications"
urlpatterns = [
    path("notices/", api.NoticeListApi.as_view(), name="notices"),
    path("notices/<int:pk>/retry/", api.NoticeRetryApi.as_view(), name="notice-retry"),
    path("templates/", api.TemplateListApi.as_view(), name="templates"),
]
