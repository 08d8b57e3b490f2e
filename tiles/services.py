"""Vector tiles (Mapbox Vector Tile) of every registered layer, cached in Redis.

:func:`vector_tile_for_user` is the endpoint's whole work: who may see the layer, the tile
address, the filters, then :func:`vector_tile_get`, which answers from the Django cache
``default`` or renders the tile with ``ST_AsMVT`` (``tiles.selectors``) and stores it.

The cache key holds everything the tile's bytes depend on: the database, the layer, z/x/y, the
normalised filters and the generations of the layer's tables (``tiles.invalidation``). No
entry is ever deleted on a change; the changed generation makes a new key, and stale entries
expire. The generations are read *before* the tile: under READ COMMITTED a commit in between
can only make the stored tile newer than its key, never older, so no stale tile outlives the
next request.

A cached tile costs one database query (the generations, with what the permission check needs)
and one cache read besides the session's. For a session signed in through ``ModelBackend`` the
view does not load the user at all: one call reads the generations, the user's password hash
(to verify the session as ``django.contrib.auth.get_user`` does), ``is_active`` and whether the
user holds the layer's permission (:func:`_session_access`). Anything else — another backend,
a session whose hash does not verify with the current secret, an inactive or deleted user —
takes Django's own path through ``request.user``, which also handles rotated secrets and
flushes bad sessions. The tile is the same for every user who may see the
layer (permissions are per layer, checked before the cache is touched), so one entry serves
them all. The ETag is a hash of the bytes (a strong validator), stored beside them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from core.errors import DomainError
from gis_core.layers import Layer, registry
from tiles import selectors

MAX_ZOOM = 22
# Bigint columns: a larger integer filter would be a database error, not an empty tile.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_FILTER_VALUES = 100
# Entries of superseded generations are never read again and only wait to expire: a day keeps
# a quiet night's tiles warm without holding a busy day's orphans for long. Redis should also run
# with a maxmemory and an LRU eviction policy. Override with CAUDAL_TILE_CACHE_SECONDS.
DEFAULT_CACHE_SECONDS = 24 * 3600
CACHE_VERSION = 1  # bump when the tile format changes (extent, buffer, attributes)


class TileError(DomainError):
    """A request the tile service refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, code: str, message, status: int = 400):
        super().__init__(code, message, status=status)


@dataclass(frozen=True)
class VectorTile:
    content: bytes  # empty when the tile holds no feature
    etag: str  # quoted, strong: '"<hash of content>"'
    cached: bool  # served from the cache (for tests and the benchmark)


def tile_address_validate(*, z: int, x: int, y: int) -> None:
    """Raises ``TileError`` (400) unless z/x/y name a Web Mercator tile at zoom 0..22."""
    if not 0 <= z <= MAX_ZOOM:
        raise TileError(
            "invalid_zoom",
            _("Zoom %(z)s is out of range; tiles exist for zoom 0 to %(max)s.")
            % {"z": z, "max": MAX_ZOOM},
        )
    limit = 2**z
    if not (0 <= x < limit and 0 <= y < limit):
        raise TileError(
            "invalid_tile",
            _("Tile %(x)s/%(y)s does not exist at zoom %(z)s: x and y go from 0 to %(last)s.")
            % {"x": x, "y": y, "z": z, "last": limit - 1},
        )


def tile_filters_clean(*, layer: Layer, params) -> dict[str, tuple]:
    """Validate query parameters against the layer's declared filters.

    ``params`` is a QueryDict; several values may be comma-separated or
    repeated and mean "any of". Returns name → sorted tuple of distinct values (ints for
    "int" filters), so equal filters give equal cache keys. Raises ``TileError`` (400) for an
    unknown parameter, an empty one, a value not among the choices or not an integer.
    """
    cleaned: dict[str, tuple] = {}
    for name in sorted(params.keys()):
        declared = layer.filters.get(name)
        if declared is None:
            if not layer.filters:
                raise TileError(
                    "unknown_filter",
                    _("Layer “%(layer)s” has no filters; remove “%(name)s” from the address.")
                    % {"layer": layer.name, "name": name[:50]},
                )
            raise TileError(
                "unknown_filter",
                _("Layer “%(layer)s” has no filter “%(name)s”. Filters it accepts: %(known)s.")
                % {
                    "layer": layer.name,
                    "name": name[:50],
                    "known": ", ".join(sorted(layer.filters)),
                },
            )
        raw = [v.strip() for value in params.getlist(name) for v in value.split(",")]
        raw = [v for v in raw if v]
        if not raw:
            raise TileError(
                "empty_filter",
                _("Filter “%(name)s” has no value; give one or more, separated by commas.")
                % {"name": name},
            )
        if len(raw) > MAX_FILTER_VALUES:
            raise TileError(
                "too_many_values",
                _("Filter “%(name)s” has %(count)s values; at most %(max)s are accepted.")
                % {"name": name, "count": len(raw), "max": MAX_FILTER_VALUES},
            )
        values = set()
        for value in raw:
            if declared.kind == "int":
                try:
                    number = int(value)
                except ValueError:
                    number = None
                if number is None or not INT_MIN <= number <= INT_MAX:
                    raise TileError(
                        "invalid_filter_value",
                        _("“%(value)s” is not a whole number; filter “%(name)s” needs one.")
                        % {"value": value[:50], "name": name},
                    ) from None
                values.add(number)
            elif declared.choices is not None and value not in declared.choices:
                raise TileError(
                    "invalid_filter_value",
                    _("“%(value)s” is not a value of filter “%(name)s”; choose among: %(choices)s.")
                    % {"value": value[:50], "name": name, "choices": ", ".join(declared.choices)},
                )
            else:
                values.add(value)
        cleaned[name] = tuple(sorted(values))
    return cleaned


def _cache_key(
    *, layer: Layer, z: int, x: int, y: int, filters: dict[str, tuple], generations: tuple
) -> str:
    normalised = "&".join(f"{name}={','.join(map(str, v))}" for name, v in filters.items())
    if len(normalised) > 200:  # keep keys short; the hash still separates every filter set
        normalised = hashlib.blake2b(normalised.encode(), digest_size=16).hexdigest()
    return (
        f"tiles:mvt:v{CACHE_VERSION}:{connection.settings_dict['NAME']}:{layer.name}"
        f":{z}/{x}/{y}:{normalised}:{'.'.join(map(str, generations))}"
    )


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _session_access(session, layer: Layer) -> tuple[tuple[int, ...], bool] | None:
    """(generations, allowed) for the user signed in to ``session``, in one query, or None when
    this shortcut does not apply and the caller must authenticate through ``request.user``.

    It applies only where it decides exactly as Django would: ``ModelBackend`` is the only
    backend and signed this session in, the session's hash equals the hash of the user's
    current password under the current SECRET_KEY, and the user is active. ``allowed`` is
    ``ModelBackend.has_perm`` for an active user: superuser, or the permission held directly
    or through a group.
    """
    if list(settings.AUTHENTICATION_BACKENDS) != [MODEL_BACKEND]:
        return None
    try:
        user_id = get_user_model()._meta.pk.to_python(session[SESSION_KEY])
        backend = session[BACKEND_SESSION_KEY]
    except (KeyError, ValidationError):
        return None
    session_hash = session.get(HASH_SESSION_KEY)
    if backend != MODEL_BACKEND or not session_hash:
        return None
    generations, password, is_active, allowed = selectors.tile_session_access_read(
        tables=layer.tables, user_id=user_id, permission=layer.permission
    )
    if password is None or not is_active:
        return None
    # The hash as the user model computes it (AbstractBaseUser: an HMAC of the password hash).
    probe = get_user_model()(pk=user_id, password=password)
    if not constant_time_compare(session_hash, probe.get_session_auth_hash()):
        return None
    return generations, allowed


def vector_tile_for_user(
    *, user, layer_name: str, z: int, x: int, y: int, params, session=None
) -> VectorTile | None:
    """What ``GET /tiles/<layer>/<z>/<x>/<y>.mvt`` answers: the tile if ``user`` may see the
    layer, the address is valid and the filters in ``params`` (a QueryDict) are declared.

    ``user`` may be the request's lazy user: with the request's ``session``, a session signed
    in through ``ModelBackend`` is checked without loading it (:func:`_session_access`).

    Returns None outside the layer's zoom range. Raises ``TileError``: not_authenticated and
    forbidden (403, checked before any input, so refusals reveal nothing), unknown_layer (404),
    invalid_zoom, invalid_tile and the filter codes (400).
    """
    layer = registry.get(layer_name)
    access = _session_access(session, layer) if session is not None and layer else None
    if access is not None:
        generations, allowed = access
        if not allowed:
            raise _forbidden(layer)
        filters = tile_filters_clean(layer=layer, params=params)
        return vector_tile_get(layer=layer, z=z, x=x, y=y, filters=filters, generations=generations)
    if not user.is_authenticated:
        raise TileError("not_authenticated", _("Sign in to see map layers."), status=403)
    if layer is None:
        raise TileError(
            "unknown_layer",
            _("There is no map layer “%(layer)s”.") % {"layer": layer_name[:100]},
            status=404,
        )
    # One query for the generations and the user's permissions. Handing the permissions to
    # ModelBackend's per-request cache keeps ``visible_to`` (and every other backend) the judge;
    # an inactive user still gets nothing, whatever the cache holds.
    needs_permissions = (
        layer.permission is not None
        and user.is_active
        and not user.is_superuser
        and not hasattr(user, "_perm_cache")
    )
    generations, permissions = selectors.tile_access_read(
        tables=layer.tables, user_id=user.pk if needs_permissions else None
    )
    if permissions is not None:
        user._perm_cache = set(permissions)
    if not layer.visible_to(user):
        raise _forbidden(layer)
    filters = tile_filters_clean(layer=layer, params=params)
    return vector_tile_get(layer=layer, z=z, x=x, y=y, filters=filters, generations=generations)


def _forbidden(layer: Layer) -> TileError:
    return TileError(
        "forbidden",
        _("Your role does not allow you to see the layer “%(layer)s”.") % {"layer": layer.label},
        status=403,
    )


def vector_tile_get(
    *,
    layer: Layer,
    z: int,
    x: int,
    y: int,
    filters: dict[str, tuple],
    generations: tuple[int, ...] | None = None,
) -> VectorTile | None:
    """The layer's tile at z/x/y with ``filters`` (cleaned by :func:`tile_filters_clean`),
    whoever asks: the caller checks that the user may see the layer.

    ``generations`` of ``layer.tables``, if the caller already read them in this request, must
    have been read before this call (see the module docstring); otherwise they are read here.
    Returns None when z is outside the layer's zoom range (nothing is drawn there). Caches
    the rendered tile. Raises ``TileError`` for an invalid address.
    """
    tile_address_validate(z=z, x=x, y=y)
    if not layer.min_zoom <= z <= layer.max_zoom:
        return None
    # A filter on a column the zoom's source lacks (the overview) restricts nothing there: it
    # leaves the key, so the tile is cached once.
    columns = selectors.source_columns(layer.source_for_zoom(z)[0])
    filters = {name: v for name, v in filters.items() if layer.filters[name].column in columns}
    if generations is None:
        generations = selectors.table_generations(tables=layer.tables)
    key = _cache_key(layer=layer, z=z, x=x, y=y, filters=filters, generations=generations)
    hit = cache.get(key)
    if hit is not None:
        etag, content = hit
        return VectorTile(content=content, etag=etag, cached=True)
    content = selectors.vector_tile_render(layer=layer, z=z, x=x, y=y, filters=filters)
    etag = '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'
    lifetime = getattr(settings, "CAUDAL_TILE_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
    if layer.cache_seconds is not None:
        lifetime = min(lifetime, layer.cache_seconds)
    cache.set(key, (etag, content), lifetime)
    return VectorTile(content=content, etag=etag, cached=False)
