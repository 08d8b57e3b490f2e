"""The map's info panel: what every app tells about the place a user clicked, declared per app.

An app contributes in ``<app>/info.py`` (imported on first use, like ``<app>/layers.py``):

- **sections** with :func:`section`: an order, a key, a translated title, the permission that
  lets a user see it, and a function ``(user, subject) -> InfoContent | None`` (``None``: the
  section has nothing to say about this subject and is left out);
- **finders** with :func:`finder`: how a query parameter of ``/api/map/info/`` becomes the
  subject of the panel. ``point`` receives a point in the storage SRID (the clicked place);
  any other name receives the integer id given as ``?<name>=<id>``.

The subject is whatever the finders return (today the cadastre's parcel: the panel is about a
parcel and everything on it). ``gis_core`` never imports a domain app; the apps plug in here.

Hooks for later issues (no code here changes when they arrive):

- billing: ``billing/info.py`` adds ``section(key="balance", order=40, …)`` with the
  balance of each account on the parcel, derived from the ledger (``billing.selectors``),
  permission ``billing.view_…``; it appears between meters (30) and work orders (50).
- metering: the meters section gets the last readings once readings exist (see
  ``metering/info.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.geos import GEOSGeometry
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules

from gis_core.srid import WGS84

POINT_FINDER = "point"


@dataclass(frozen=True)
class InfoField:
    """One labelled value: ``key`` is stable (for scripts and tests), ``value`` is for people
    (already formatted and translated)."""

    key: str
    label: str | Promise
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": str(self.label), "value": self.value}


@dataclass(frozen=True)
class InfoTable:
    """Rows of like things (owners, accounts, orders); each row maps column keys to text."""

    key: str
    columns: tuple[tuple[str, str | Promise], ...]  # (key, label)
    rows: list[dict[str, str]]
    title: str | Promise = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": str(self.title),
            "columns": [{"key": k, "label": str(label)} for k, label in self.columns],
            "rows": self.rows,
        }


@dataclass
class InfoContent:
    """What a section shows: fields, tables and a note (e.g. "no meter installed")."""

    fields: list[InfoField] = field(default_factory=list)
    tables: list[InfoTable] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": [f.as_dict() for f in self.fields],
            "tables": [t.as_dict() for t in self.tables],
            "note": str(self.note),
        }


@dataclass(frozen=True)
class InfoSection:
    key: str
    title: str | Promise
    order: int
    build: Callable[[Any, Any], InfoContent | None]
    # A Django permission ("metering.view_meter"); None means any signed-in user.
    permission: str | None = None

    def visible_to(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return self.permission is None or user.has_perm(self.permission)


@dataclass(frozen=True)
class InfoTarget:
    """What a finder found: the subject handed to every section, and how the map shows it."""

    kind: str  # "parcel"
    subject: Any
    id: int
    label: str
    geometry: GEOSGeometry | None  # storage SRID; the map outlines it


@dataclass(frozen=True)
class InfoFinder:
    name: str
    find: Callable[[Any], InfoTarget | None]
    not_found: str | Promise  # translated message of the 404
    permission: str | None = None

    def visible_to(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return self.permission is None or user.has_perm(self.permission)


class InfoRegistry:
    def __init__(self):
        self._sections: dict[str, InfoSection] = {}
        self._finders: dict[str, InfoFinder] = {}
        self._discovered = False
        self._lock = threading.Lock()

    def _discover(self) -> None:
        if not self._discovered:
            with self._lock:
                if not self._discovered:
                    autodiscover_modules("info")
                    self._discovered = True

    def register_section(self, info_section: InfoSection) -> InfoSection:
        known = self._sections.get(info_section.key)
        # Re-importing a module registers an equal section again (same function): harmless.
        if known is not None and known.build is not info_section.build:
            raise ValueError(f"info section {info_section.key!r} is registered twice")
        self._sections[info_section.key] = info_section
        return info_section

    def register_finder(self, info_finder: InfoFinder) -> InfoFinder:
        known = self._finders.get(info_finder.name)
        if known is not None and known.find is not info_finder.find:
            raise ValueError(f"info finder {info_finder.name!r} is registered twice")
        self._finders[info_finder.name] = info_finder
        return info_finder

    def sections(self) -> list[InfoSection]:
        self._discover()
        return sorted(self._sections.values(), key=lambda s: (s.order, s.key))

    def sections_for(self, user) -> list[InfoSection]:
        return [s for s in self.sections() if s.visible_to(user)]

    def finder(self, name: str) -> InfoFinder | None:
        self._discover()
        return self._finders.get(name)

    def finder_names(self) -> list[str]:
        self._discover()
        return list(self._finders)


registry = InfoRegistry()


def section(*, key: str, title, order: int, permission: str | None = None):
    """Decorator: register ``build(user, subject)`` as the info-panel section ``key``."""

    def decorate(build):
        registry.register_section(
            InfoSection(key=key, title=title, order=order, build=build, permission=permission)
        )
        return build

    return decorate


def finder(name: str, *, not_found, permission: str | None = None):
    """Decorator: register ``find(value) -> InfoTarget | None`` for ``?<name>=`` (or the
    clicked point for ``"point"``)."""

    def decorate(find):
        registry.register_finder(
            InfoFinder(name=name, find=find, not_found=not_found, permission=permission)
        )
        return find

    return decorate


def info_sections(*, user, target: InfoTarget) -> list[dict[str, Any]]:
    """The sections ``user`` may see about ``target``, in order, as JSON-ready dicts."""
    out = []
    for info_section in registry.sections_for(user):
        content = info_section.build(user, target.subject)
        if content is None:
            continue
        out.append({"key": info_section.key, "title": str(info_section.title), **content.as_dict()})
    return out


# --- Formatting shared by the apps' sections: one look for every panel ---------------------

EMPTY = "—"


def display_number(value, decimals: int = 2) -> str:
    """A number in the active language's format (grouped thousands), or a dash."""
    if value is None:
        return EMPTY
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


def display_date(value) -> str:
    """A date, or an aware instant in the utility's time zone, in the language's short format."""
    if value is None:
        return EMPTY
    if hasattr(value, "tzinfo"):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def display_latlon(point) -> str:
    """A stored point as "lat, lon" in WGS 84 (6 decimals, about 0.1 m), or a dash."""
    if point is None:
        return EMPTY
    p = point.transform(WGS84, clone=True)
    return f"{p.y:.6f}, {p.x:.6f}"
