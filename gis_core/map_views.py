"""The map shell page: one full-screen map for every role, drawn from the registered layers."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import gettext as _

# Search needs at least this many characters (the cadastre's search has no trigram below it).
SEARCH_MIN_LENGTH = 3
# Where the map flies to for a search hit: close enough to see the parcel and its neighbours.
SEARCH_ZOOM = 19


def _url(viewname: str, fallback: str) -> str | None:
    """A route of another app by name; its documented path when that app names it otherwise."""
    try:
        return reverse(viewname)
    except NoReverseMatch:
        return get_script_prefix() + fallback if fallback else None


def _messages() -> dict[str, str]:
    """Every sentence the page's script shows, translated here (JavaScript has no catalog)."""
    return {
        "layersFailed": _("The map layers could not be loaded. Reload the page to try again."),
        "searching": _("Searching…"),
        "noResults": _("Nothing found."),
        "searchFailed": _("The search failed. Try again."),
        "searchTooShort": _("Type at least %(count)s characters."),
        "infoLoading": _("Loading…"),
        "infoFailed": _("The information could not be loaded. Try again."),
        "filters": _("Filters"),
        "colourBy": _("Colour by"),
        "singleColour": _("Single colour"),
        "anyValue": _("Any value (comma-separated values)"),
        "zoomIn": _("Zoom in to see this layer."),
        "zoomOut": _("Zoom out to see this layer."),
        "noLayer": _("No layer is shown."),
        "legendFailed": _("The legend could not be loaded."),
        "measureDistance": _("Measure a distance"),
        "measureArea": _("Measure an area"),
        "measureClear": _("Clear the measurement"),
        "measureHint": _("Click on the map to add points; double-click to finish."),
        "distance": _("Distance: %(value)s"),
        "area": _("Area: %(value)s"),
        "coordinates": _("Coordinates (latitude, longitude)"),
        "openPanels": _("Layers, legend and search"),
        "closePanels": _("Close the panel"),
        "overview": _("Zoomed out: blocks are shown instead of parcels."),
    }


@login_required
def map_page(request):
    """The map (any signed-in role): layers and their filters come from /api/map/layers/,
    what a user may see is decided there and by the tile service."""
    lat, lon = settings.LEAFLET_CONFIG["DEFAULT_CENTER"]
    config = {
        "urls": {
            "layers": reverse("map-api:layers"),
            "info": reverse("map-api:info"),
            "search": _url("cadastre:search", "")
            if request.user.has_perm("cadastre.view_parcel")
            else None,
        },
        "center": [lat, lon],
        "zoom": settings.LEAFLET_CONFIG.get("DEFAULT_ZOOM", 13),
        "maxZoom": 22,
        "searchMinLength": SEARCH_MIN_LENGTH,
        "searchZoom": SEARCH_ZOOM,
        "searchKinds": {
            "account": _("Service account"),
            "customer": _("Customer"),
            "owner": _("Owner"),
            "parcel": _("Parcel"),
            "meter": _("Meter"),
        },
        "messages": _messages(),
    }
    return render(request, "gis_core/map.html", {"map_config": config})
