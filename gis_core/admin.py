from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from gis_core.models import Orthophoto


class MapAdmin(LeafletGeoAdmin):
    """Admin with a map widget that zooms to street level on the edited geometry.

    django-leaflet fits the geometry with ``maxZoom: map.maxZoom || 15`` and Leaflet maps have
    no ``maxZoom`` attribute, so parcels would always open at zoom 15 (a speck). The script
    sets it before the widget loads the geometry.
    """

    class Media:
        js = ["js/admin-map.js"]


# Orthophotos arrive through the upload service (POST /tiles/ortho/), which validates and converts
# them; the admin only lists them and switches them on or off.


@admin.register(Orthophoto)
class OrthophotoAdmin(MapAdmin):
    list_display = ("name", "resolution_m", "min_zoom", "max_zoom", "active", "created_at")
    list_filter = ("active",)
    fields = ("name", "active", "bounds", "resolution_m", "min_zoom", "max_zoom", "file")
    readonly_fields = ("bounds", "resolution_m", "min_zoom", "max_zoom", "file")

    def has_add_permission(self, request):
        return False
