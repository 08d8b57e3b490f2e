"""The project's URLs with metering's API mounted at /api/metering/ (until config/urls.py
mounts it; then this adds nothing)."""

from django.urls import include, path

from config.urls import urlpatterns as project

mounted = any(getattr(p, "namespace", None) == "metering" for p in project)
urlpatterns = project if mounted else [*project, path("api/metering/", include("metering.urls"))]
