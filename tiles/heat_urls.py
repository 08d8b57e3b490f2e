"""Heat-map tiles under /tiles/heat/ (see tiles.heat)."""

from django.urls import path

from tiles.heat_views import heat_legend_view, heat_tile

app_name = "heat"

urlpatterns = [
    path("<str:layer>/<str:weight>/legend.json", heat_legend_view, name="legend"),
    path("<str:layer>/<str:weight>/<int:z>/<int:x>/<int:y>.mvt", heat_tile, name="tile"),
]
