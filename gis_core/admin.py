from leaflet.admin import LeafletGeoAdmin


class MapAdmin(LeafletGeoAdmin):
    """Admin with a map widget that zooms to street level on the edited geometry.

    django-leaflet fits the geometry with ``maxZoom: map.maxZoom || 15`` and Leaflet maps have
    no ``maxZoom`` attribute, so parcels would always open at zoom 15 (a speck). The script
    sets it before the widget loads the geometry.
    """

    class Media:
        js = ["js/admin-map.js"]
