"""The project's URLs plus /api/sectors/ (mounted by the lead in config/urls.py)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *(p for p in project_urlpatterns if not str(p.pattern).startswith("api/sectors/")),
    path("api/sectors/", include("sectors.urls")),
]
