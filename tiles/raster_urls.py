"""Orthophotos under /tiles/ortho/: list and upload, and their PNG tiles (see tiles.raster)."""

from django.urls import path

from tiles.raster_views import OrthophotoApi, orthophoto_tile

app_name = "ortho"

urlpatterns = [
    path("", OrthophotoApi.as_view(), name="list"),
    path("<int:pk>/<int:z>/<int:x>/<int:y>.png", orthophoto_tile, name="tile"),
]
