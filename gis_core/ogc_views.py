"""OGC API - Features endpoints under ``/ogc/`` (landing page, conformance, collections, items).

Thin views: parameters are parsed and the SQL is run by :mod:`gis_core.ogc`; here are the JSON
documents, their links and authentication. Every representation is JSON (GeoJSON for
features); there is no HTML one, and ``f=html`` is refused with a 400.

Authentication: the Django session of a signed-in user, or **HTTP Basic** credentials of a
Django user on every request. Desktop GIS clients (QGIS, GDAL's OAPIF driver) cannot fill in a
login form; they send ``Authorization: Basic …``. Basic sends the password with each request,
so production must serve ``/ogc/`` over HTTPS only (the production settings redirect HTTP to
HTTPS). A web server in front must pass the ``Authorization`` header on (Apache mod_wsgi:
``WSGIPassAuthorization On``). Anonymous requests get a 401 with a ``WWW-Authenticate``
challenge. A collection the user may not see is answered exactly like one that does not exist
(404), so its name is not disclosed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from gis_core import ogc
from gis_core.layers import registry

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
REALM = "Caudal"
# A verified Basic credential is remembered this long, so that a client paging through a
# million features does not pay the password hasher (hundreds of milliseconds) per page.
BASIC_AUTH_CACHE_SECONDS = 300


# --- responses ------------------------------------------------------------------------------


def _respond(body: str | bytes, *, content_type: str = JSON, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type, status=status)
    # What a user may see depends on who asks: shared caches must not keep it.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Authorization", "Cookie"))
    return response


def _document(data: dict, *, content_type: str = JSON, status: int = 200) -> HttpResponse:
    return _respond(json.dumps(data, ensure_ascii=False), content_type=content_type, status=status)


def _exception(error: ogc.OGCError) -> HttpResponse:
    """The OGC API exception shape: ``{"code": …, "description": …}``."""
    return _document({"code": error.code, "description": error.description}, status=error.status)


def _unauthorized(description: str) -> HttpResponse:
    response = _exception(ogc.OGCError(401, "NotAuthenticated", description))
    response["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
    return response


# --- authentication -------------------------------------------------------------------------


def _basic_credentials(request) -> tuple[str, str] | None:
    scheme, _sep, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # RFC 7617 clients that predate charset="UTF-8"
        text = raw.decode("latin-1")
    username, sep, password = text.partition(":")
    return (username, password) if sep else None


def _digest(text: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def basic_auth_user(request):
    """The active Django user whose Basic credentials the request carries, or None.

    A verified credential is cached under an HMAC of it (never the password itself) with an
    HMAC of the user's password hash: a changed password or a deactivated user stops working
    at once, not when the cache entry expires.
    """
    credentials = _basic_credentials(request)
    if credentials is None:
        return None
    username, password = credentials
    key = f"ogc-basic:{connection.settings_dict['NAME']}:{_digest(username + chr(0) + password)}"
    cached = cache.get(key)
    if cached is not None:
        pk, password_digest = cached
        user = get_user_model().objects.filter(pk=pk, is_active=True).first()
        if user is not None and hmac.compare_digest(_digest(user.password), password_digest):
            return user
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    cache.set(key, (user.pk, _digest(user.password)), BASIC_AUTH_CACHE_SECONDS)
    return user


def ogc_endpoint(view):
    """GET/HEAD only, signed in (session or Basic), OGC exceptions as JSON."""

    @require_safe
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            had_credentials = "HTTP_AUTHORIZATION" in request.META
            user = basic_auth_user(request)
            if user is None:
                return _unauthorized(
                    _("The user name or password is wrong.")
                    if had_credentials
                    else _(
                        "Sign in: send the user name and password of a Caudal user (HTTP Basic)."
                    )
                )
            # For this request only: no session is created for a Basic client.
            request.user = user
        try:
            return view(request, *args, **kwargs)
        except ogc.OGCError as error:
            return _exception(error)

    return wrapper


# --- links ----------------------------------------------------------------------------------


def _url(request, name: str, *args, query: dict | None = None) -> str:
    url = request.build_absolute_uri(reverse(name, args=args))
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


def _link(href: str, rel: str, media_type: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _params(request) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET}


def _layer_for(request, collection_id: str):
    layer = registry.get(collection_id)
    if layer is None or not layer.visible_to(request.user):
        raise ogc.not_found(
            _("There is no collection “%(id)s”, or you may not see it.") % {"id": collection_id}
        )
    return layer


def _collection(request, layer) -> dict:
    crs_list = [crs.uri for crs in ogc.supported_crs()]
    document = {
        "id": layer.name,
        "title": str(layer.label),
        "description": str(layer.group),
        "itemType": "feature",
        "crs": crs_list,
        "storageCrs": ogc.storage_crs().uri,
        "links": [
            _link(_url(request, "ogc-collection", layer.name), "self", JSON, _("This collection")),
            _link(
                _url(request, "ogc-items", layer.name),
                "items",
                GEOJSON,
                _("The features of this collection"),
            ),
        ],
    }
    extent = ogc.collection_extent(layer)
    if extent is not None:
        document["extent"] = {"spatial": {"bbox": [extent], "crs": ogc.CRS84}}
    return document


# --- endpoints ------------------------------------------------------------------------------


@ogc_endpoint
def landing(request):
    ogc.check_parameters(request.GET, ogc.DOCUMENT_PARAMETERS)
    ogc.check_format(request.GET.get("f"))
    return _document(
        {
            "title": _("Caudal — OGC API Features"),
            "description": _(
                "The map layers of Caudal (cadastre, network, commercial) for GIS clients."
            ),
            "links": [
                _link(_url(request, "ogc-landing"), "self", JSON, _("This document")),
                _link(_url(request, "ogc-api"), "service-desc", OPENAPI, _("The API definition")),
                _link(
                    _url(request, "ogc-conformance"),
                    "conformance",
                    JSON,
                    _("Conformance classes implemented by this server"),
                ),
                _link(_url(request, "ogc-collections"), "data", JSON, _("The collections")),
            ],
        }
    )


@ogc_endpoint
def conformance(request):
    ogc.check_parameters(request.GET, ogc.DOCUMENT_PARAMETERS)
    ogc.check_format(request.GET.get("f"))
    return _document({"conformsTo": list(ogc.CONFORMANCE)})


@ogc_endpoint
def collections(request):
    ogc.check_parameters(request.GET, ogc.DOCUMENT_PARAMETERS)
    ogc.check_format(request.GET.get("f"))
    return _document(
        {
            "links": [
                _link(_url(request, "ogc-collections"), "self", JSON, _("This document")),
            ],
            "crs": [crs.uri for crs in ogc.supported_crs()],
            "collections": [
                _collection(request, layer) for layer in registry.visible_to(request.user)
            ],
        }
    )


@ogc_endpoint
def collection(request, collection_id: str):
    layer = _layer_for(request, collection_id)
    ogc.check_parameters(request.GET, ogc.DOCUMENT_PARAMETERS)
    ogc.check_format(request.GET.get("f"))
    return _document(_collection(request, layer))


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@ogc_endpoint
def items(request, collection_id: str):
    layer = _layer_for(request, collection_id)
    params = _params(request)
    ogc.check_parameters(params, (*ogc.ITEMS_PARAMETERS, *layer.filters))
    ogc.check_format(request.GET.get("f"), accepted=("json", "geojson"))
    crs = ogc.parse_crs(request.GET.get("crs"))
    page = ogc.items_page(
        layer=layer,
        limit=ogc.parse_limit(request.GET.get("limit")),
        after=ogc.decode_cursor(request.GET.get("cursor")),
        bbox=ogc.parse_bbox(
            request.GET.get("bbox"),
            ogc.parse_crs(request.GET.get("bbox-crs"), parameter="bbox-crs"),
        ),
        filters=ogc.parse_filters(layer, params),
        crs=crs,
    )
    links = [
        _link(request.build_absolute_uri(), "self", GEOJSON, _("This page")),
        _link(_url(request, "ogc-collection", layer.name), "collection", JSON, _("The collection")),
    ]
    if page.next_cursor is not None:
        # The same query (filters, box, limit, crs), one page further.
        query = {key: values for key, values in params.items() if key != "cursor"}
        query["cursor"] = [page.next_cursor]
        links.append(
            _link(
                _url(request, "ogc-items", layer.name, query=query),
                "next",
                GEOJSON,
                _("The next page"),
            )
        )
    head = {
        "type": "FeatureCollection",
        "timeStamp": _timestamp(),
        "numberReturned": page.number_returned,
    }
    if page.number_matched is not None:
        head["numberMatched"] = page.number_matched
    head["links"] = links
    # The features arrive as JSON text from PostgreSQL; splicing them in avoids parsing and
    # re-serialising up to 10,000 features.
    body = json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [' + page.features + "]}"
    response = _respond(body, content_type=GEOJSON)
    response["Content-Crs"] = f"<{crs.uri}>"
    return response


@ogc_endpoint
def item(request, collection_id: str, feature_id: str):
    layer = _layer_for(request, collection_id)
    ogc.check_parameters(request.GET, ogc.ITEM_PARAMETERS)
    ogc.check_format(request.GET.get("f"), accepted=("json", "geojson"))
    crs = ogc.parse_crs(request.GET.get("crs"))
    feature = ogc.item_feature(layer=layer, fid=ogc.parse_feature_id(feature_id), crs=crs)
    if feature is None:
        raise ogc.not_found(
            _("There is no feature “%(id)s” in this collection.") % {"id": feature_id}
        )
    links = [
        _link(request.build_absolute_uri(), "self", GEOJSON, _("This feature")),
        _link(_url(request, "ogc-collection", layer.name), "collection", JSON, _("The collection")),
    ]
    body = feature[:-1] + ', "links": ' + json.dumps(links, ensure_ascii=False) + "}"
    response = _respond(body, content_type=GEOJSON)
    response["Content-Crs"] = f"<{crs.uri}>"
    return response


# --- API definition -------------------------------------------------------------------------


def _parameter(name: str, description: str, schema: dict, *, style: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **(style or {}),
    }


def _items_parameters(layer) -> list[dict]:
    crs_schema = {"type": "string", "enum": [c.uri for c in ogc.supported_crs()]}
    parameters = [
        _parameter(
            "limit",
            _("Features per page."),
            {
                "type": "integer",
                "minimum": 1,
                "maximum": ogc.LIMIT_MAX,
                "default": ogc.LIMIT_DEFAULT,
            },
        ),
        _parameter(
            "bbox",
            _("Features that intersect this box: min_lon,min_lat,max_lon,max_lat (bbox-crs)."),
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            style={"style": "form", "explode": False},
        ),
        _parameter("bbox-crs", _("Coordinate reference system of bbox."), crs_schema),
        _parameter("crs", _("Coordinate reference system of the geometries."), crs_schema),
        _parameter(
            "cursor", _("Where a page starts; take it from the next link."), {"type": "string"}
        ),
        _parameter(
            "datetime",
            _("Accepted for compatibility; the layers have no time dimension and ignore it."),
            {"type": "string"},
        ),
    ]
    for name, layer_filter in layer.filters.items():
        item_schema = {"type": "integer"} if layer_filter.kind == "int" else {"type": "string"}
        if layer_filter.choices is not None:
            item_schema["enum"] = list(layer_filter.choices)
        parameters.append(
            _parameter(
                name,
                str(layer_filter.label or name),
                {"type": "array", "items": item_schema},
                style={"style": "form", "explode": False},
            )
        )
    return parameters


def _response(description: str, media_type: str) -> dict:
    return {"description": description, "content": {media_type: {"schema": {"type": "object"}}}}


@ogc_endpoint
def api(request):
    """A compact OpenAPI 3.0 definition of what this user can reach (per-collection paths, so
    clients learn each collection's filter parameters)."""
    ogc.check_parameters(request.GET, ogc.DOCUMENT_PARAMETERS)
    ogc.check_format(request.GET.get("f"))
    root = _url(request, "ogc-landing").rstrip("/")
    document_ok = {"200": _response(_("The document."), JSON)}
    paths = {
        "/": {"get": {"summary": _("Landing page"), "responses": document_ok}},
        "/conformance": {"get": {"summary": _("Conformance classes"), "responses": document_ok}},
        "/collections": {"get": {"summary": _("The collections"), "responses": document_ok}},
    }
    for layer in registry.visible_to(request.user):
        base = f"/collections/{layer.name}"
        label = str(layer.label)
        paths[base] = {"get": {"summary": label, "responses": document_ok}}
        paths[f"{base}/items"] = {
            "get": {
                "summary": _("Features of %(layer)s") % {"layer": label},
                "parameters": _items_parameters(layer),
                "responses": {"200": _response(_("A page of features."), GEOJSON)},
            }
        }
        paths[f"{base}/items/{{featureId}}"] = {
            "get": {
                "summary": _("One feature of %(layer)s") % {"layer": label},
                "parameters": [
                    {
                        "name": "featureId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {"200": _response(_("The feature."), GEOJSON)},
            }
        }
    return _document(
        {
            "openapi": "3.0.3",
            "info": {"title": _("Caudal — OGC API Features"), "version": "1.0.0"},
            "servers": [{"url": root}],
            "components": {
                "securitySchemes": {
                    "basic": {"type": "http", "scheme": "basic"},
                    "session": {
                        "type": "apiKey",
                        "in": "cookie",
                        "name": settings.SESSION_COOKIE_NAME,
                    },
                }
            },
            "security": [{"basic": []}, {"session": []}],
            "paths": paths,
        },
        content_type=OPENAPI,
    )
