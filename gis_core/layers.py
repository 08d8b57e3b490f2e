"""The layer registry: every map layer of every app, declared once, served by every map service.

An app declares its layers in ``<app>/layers.py`` by calling :func:`register` at import time;
the registry imports those modules on first use (like Django's admin autodiscovery). Tiles,
heat maps, OGC API Features, the map shell's layer switcher and exports all read the same
declarations, so adding a layer never edits ``tiles/`` or ``gis_core/``.

A layer's ``source`` is a SQL ``SELECT`` (or a table name) whose rows carry ``id`` (an integer:
OGC API paging and feature URLs key on it), ``geom``
(in the storage SRID, with a spatial index underneath) and the ``attributes`` named on the
layer. Services wrap it as a subquery and add the envelope condition on ``geom`` themselves, so
sources must not be aggregated or ordered; they may join and filter. ``tables`` lists the
tables a source reads: the tile cache is invalidated when any of them changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

POLYGON, LINE, POINT = "polygon", "line", "point"

# What a heat map's weight measures, for its legend and the layer switcher. A layer's
# ``heat_weights`` may use other names; those are shown as written.
HEAT_WEIGHT_LABELS = {
    "count": _("number"),
    "debt": _("debt"),
    "balance": _("balance"),
    "consumption": _("consumption"),
    "age": _("age"),
}


def heat_weight_label(weight: str) -> str:
    return str(HEAT_WEIGHT_LABELS.get(weight, weight.replace("_", " ")))


GEOMETRY_TYPES = (POLYGON, LINE, POINT)


@dataclass(frozen=True)
class LayerFilter:
    """A query parameter a layer accepts (``?status=suspended``) and the column it restricts.

    ``choices`` (if given) are the accepted values; ``kind`` is "text" or "int". Several values
    are given comma-separated and mean "any of".
    """

    column: str
    kind: str = "text"
    choices: tuple[str, ...] | None = None
    label: str | Promise = ""
    # Labels of computed values no model field names (otherwise the field's choices label them).
    choice_labels: dict[str, str | Promise] | None = None


@dataclass(frozen=True)
class Layer:
    name: str  # URL-safe identifier: /tiles/<name>/z/x/y.mvt
    label: str | Promise  # translatable, shown in the layer switcher and legends
    group: str | Promise  # the app's heading in the layer switcher
    geometry_type: str  # POLYGON, LINE or POINT
    source: str  # SELECT … AS id, … AS geom, attributes … (see module docstring)
    tables: tuple[str, ...]  # what the source reads, for cache invalidation
    attributes: tuple[str, ...] = ()  # columns carried into tiles and features
    min_zoom: int = 0
    max_zoom: int = 22
    # Below this zoom the layer is drawn from ``overview_source`` instead (same contract, but it
    # may aggregate: e.g. parcels as counts per block), so city-wide tiles stay small.
    overview_below_zoom: int | None = None
    overview_source: str | None = None
    overview_attributes: tuple[str, ...] = ()
    style: dict[str, Any] = field(default_factory=dict)  # Leaflet path options / point styling
    # Who may see it: a Django permission ("cadastre.view_parcel"); None means any signed-in
    # user. Superusers see everything.
    permission: str | None = None
    filters: dict[str, LayerFilter] = field(default_factory=dict)
    # Point layers that heat maps may aggregate: weight name → SQL expression over the source's
    # columns (e.g. {"count": "1", "debt": "balance"}).
    heat_weights: dict[str, str] = field(default_factory=dict)
    visible_by_default: bool = False
    base: bool = False  # part of the drawn base map (blocks, streets, parcels)
    # A source whose rows change with time alone (``due_at < now()``: late orders) is not
    # invalidated by any write: its cached tiles live at most this long.
    cache_seconds: int | None = None

    def __post_init__(self):
        if self.geometry_type not in GEOMETRY_TYPES:
            raise ValueError(f"layer {self.name}: unknown geometry type {self.geometry_type!r}")
        if (self.overview_below_zoom is None) != (self.overview_source is None):
            raise ValueError(
                f"layer {self.name}: overview_below_zoom and overview_source go together"
            )

    def visible_to(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return self.permission is None or user.has_perm(self.permission)

    def source_for_zoom(self, zoom: int) -> tuple[str, tuple[str, ...]]:
        """The SQL source and attribute columns to draw at ``zoom``."""
        if self.overview_below_zoom is not None and zoom < self.overview_below_zoom:
            return self.overview_source, self.overview_attributes
        return self.source, self.attributes


class LayerRegistry:
    def __init__(self):
        self._layers: dict[str, Layer] = {}
        self._discovered = False
        self._lock = threading.Lock()

    def register(self, layer: Layer) -> Layer:
        if layer.name in self._layers and self._layers[layer.name] != layer:
            raise ValueError(f"layer {layer.name!r} is registered twice")
        self._layers[layer.name] = layer
        return layer

    def _discover(self) -> None:
        if not self._discovered:
            with self._lock:
                if not self._discovered:
                    autodiscover_modules("layers")
                    self._discovered = True

    def get(self, name: str) -> Layer | None:
        self._discover()
        return self._layers.get(name)

    def all(self) -> list[Layer]:
        self._discover()
        return list(self._layers.values())

    def visible_to(self, user) -> list[Layer]:
        return [layer for layer in self.all() if layer.visible_to(user)]

    def for_table(self, table: str) -> list[Layer]:
        return [layer for layer in self.all() if table in layer.tables]


registry = LayerRegistry()
register = registry.register
