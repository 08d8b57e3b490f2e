"""Heat-map tiles and legends (thin views over tiles.heat)."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from tiles.heat import (
    HeatMapError,
    heat_layer_get,
    heat_legend,
    heat_tile_render,
    parse_bbox,
    parse_zoom,
)

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
# Heat maps follow live data: browsers may reuse a tile for a minute, shared caches never
# (the tile is only for users who may see the layer).
TILE_CACHE_CONTROL = "private, max-age=60"


def _error(exc: HeatMapError) -> JsonResponse:
    return JsonResponse({"error": exc.code, "detail": exc.message}, status=exc.status)


@require_GET
def heat_tile(request, layer: str, weight: str, z: int, x: int, y: int):
    """``/tiles/heat/<layer>/<weight>/<z>/<x>/<y>.mvt``: one MVT layer "heat" of hexagons
    with ``value`` and ``count``; an empty body when no point is near the tile."""
    try:
        found = heat_layer_get(name=layer, weight=weight, user=request.user)
        tile = heat_tile_render(layer=found, weight=weight, z=z, x=x, y=y)
    except HeatMapError as exc:
        return _error(exc)
    response = HttpResponse(tile, content_type=MVT_CONTENT_TYPE)
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response


@require_GET
def heat_legend_view(request, layer: str, weight: str):
    """``/tiles/heat/<layer>/<weight>/legend.json?z=<zoom>&bbox=<lon,lat,lon,lat>``: class
    breaks (quantiles of the visible cells), colours and a translated title."""
    try:
        found = heat_layer_get(name=layer, weight=weight, user=request.user)
        z = parse_zoom(request.GET.get("z"))
        bbox = parse_bbox(request.GET.get("bbox"))
        legend = heat_legend(layer=found, weight=weight, z=z, bbox=bbox)
    except HeatMapError as exc:
        return _error(exc)
    response = JsonResponse(legend.as_dict())
    response["Cache-Control"] = TILE_CACHE_CONTROL
    return response
