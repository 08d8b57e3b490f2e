"""Vector tile endpoint: ``GET /tiles/<layer>/<z>/<x>/<y>.mvt[?filter=a,b]``.

Thin: hand the request to ``tiles.services.vector_tile_for_user`` (who may see, validation,
cache) and shape the HTTP answer; errors are JSON ``{"detail", "code"}`` in the request's
language. Anonymous visitors get 403, not 401: session authentication has no challenge to
offer (as in DRF). A plain Django view rather than DRF: a cached tile must cost no
more than the permission check, one generation query and one cache read.

Responses carry ``Cache-Control: private, no-cache``: private because tiles depend on the
user's permissions; no-cache because the browser must revalidate on every use, so an edit shows
on the next pan instead of after a max-age. Revalidation is cheap: ``If-None-Match`` with the
current ETag gets an empty 304. Outside the layer's zoom range the answer is 204 No Content.
"""

from django.http import HttpResponse, JsonResponse
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from tiles.services import TileError, vector_tile_for_user

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "private, no-cache"


def _error(error: TileError) -> JsonResponse:
    response = JsonResponse({"detail": error.message, "code": error.code}, status=error.status)
    response["Cache-Control"] = "no-store"
    return response


def _matches(if_none_match: str, etag: str) -> bool:
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
    sent = {tag.removeprefix("W/") for tag in parse_etags(if_none_match)}
    return "*" in sent or etag in sent


@require_safe
def vector_tile(request, layer: str, z: int, x: int, y: int):
    try:
        tile = vector_tile_for_user(
            user=request.user,
            session=getattr(request, "session", None),  # None: no session middleware
            layer_name=layer,
            z=z,
            x=x,
            y=y,
            params=request.GET,
        )
    except TileError as error:
        return _error(error)
    if tile is None:
        response = HttpResponse(status=204)
    elif _matches(request.headers.get("If-None-Match", ""), tile.etag):
        response = HttpResponse(status=304)
        response["ETag"] = tile.etag
    else:
        response = HttpResponse(tile.content, content_type=MVT_CONTENT_TYPE)
        response["ETag"] = tile.etag
    response["Cache-Control"] = CACHE_CONTROL
    return response
