"""The map shell's API under /api/map/: layer catalogue and info panel."""

from django.urls import path

from gis_core import map_api

app_name = "map-api"
urlpatterns = [
    path("layers/", map_api.MapLayersApi.as_view(), name="layers"),
    path("info/", map_api.MapInfoApi.as_view(), name="info"),
]
