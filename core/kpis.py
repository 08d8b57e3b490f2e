"""Dashboard figures (KPIs), declared by each app in ``<app>/kpis.py`` and composed here.

An app registers a figure with :func:`kpi`: a stable key, a translated label, the group it
belongs to on a dashboard, the permission that lets a user see it, its unit, and a function
returning the current value (a number, or None when there is nothing to measure yet); money
(unit ``mxn``) is answered as a decimal string, never through a float. The
registry imports the apps' modules on first use, like the admin's autodiscovery; ``/api/kpis/``
answers the figures a user may see. Each function is one cheap query: dashboards poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str | Promise
    group: str | Promise
    unit: str  # "count", "pct", "m3", "hours", "mxn"
    compute: Callable[[], int | float | Decimal | None]
    permission: str | None = None
    order: int = 100

    def visible_to(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return self.permission is None or user.has_perm(self.permission)


class KpiRegistry:
    def __init__(self):
        self._kpis: dict[str, Kpi] = {}
        self._discovered = False
        self._lock = threading.Lock()

    def register(self, item: Kpi) -> Kpi:
        if item.key in self._kpis and self._kpis[item.key] != item:
            raise ValueError(f"KPI {item.key} registered twice")
        self._kpis[item.key] = item
        return item

    def _discover(self) -> None:
        if not self._discovered:
            with self._lock:
                if not self._discovered:
                    autodiscover_modules("kpis")
                    self._discovered = True

    def all(self) -> list[Kpi]:
        self._discover()
        return sorted(self._kpis.values(), key=lambda k: (k.order, k.key))

    def visible_to(self, user) -> list[Kpi]:
        return [k for k in self.all() if k.visible_to(user)]


registry = KpiRegistry()


def kpi(*, key: str, label, group, unit: str, permission: str | None = None, order: int = 100):
    """Decorator registering ``compute`` as a figure (see the module docstring)."""

    def decorate(compute):
        registry.register(
            Kpi(
                key=key,
                label=label,
                group=group,
                unit=unit,
                compute=compute,
                permission=permission,
                order=order,
            )
        )
        return compute

    return decorate


MONEY_UNITS = ("mxn",)


def _json_value(value, *, unit: str):
    if value is None:
        return None
    if unit in MONEY_UNITS:
        return str(Decimal(value))
    return value if isinstance(value, int) else float(value)


def kpi_values(*, user) -> list[dict]:
    """The figures ``user`` may see, computed now, as JSON-ready dicts."""
    out = []
    for item in registry.visible_to(user):
        value = item.compute()
        out.append(
            {
                "key": item.key,
                "label": str(item.label),
                "group": str(item.group),
                "unit": item.unit,
                # Money (Decimal) as a string, never through a float; counts and percentages
                # as JSON numbers.
                "value": _json_value(value, unit=item.unit),
            }
        )
    return out
