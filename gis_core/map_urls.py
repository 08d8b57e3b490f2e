"""The map shell page under /map/."""

from django.urls import path

from gis_core import map_views

app_name = "map"
urlpatterns = [
    path("", map_views.map_page, name="index"),
]
