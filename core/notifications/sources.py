"""The outboxes other apps declare: sources of notices to customers.

An app whose work must reach customers (network's outage notices, the service desk's ticket
messages) writes its own outbox table and declares, in ``<app>/notice_sources.py``, a function
that turns the pending rows into notices (through :func:`core.notifications.services.
notice_queue`) and returns its counts. The send task drains every declared source before it
sends, so notifications knows no domain table (like map layers: ``gis_core.layers``). The
modules are imported on first use (like Django's admin autodiscovery).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.utils.module_loading import autodiscover_modules

Forward = Callable[..., dict]

_sources: dict[str, Forward] = {}
_discovered = False
_lock = threading.Lock()


def notice_source(name: str) -> Callable[[Forward], Forward]:
    """Declare ``forward(*, limit) -> dict`` as the notice source ``name`` (its counts are
    reported under that name by the send task)."""

    def register(forward: Forward) -> Forward:
        if _sources.get(name, forward) is not forward:
            raise ValueError(f"notice source {name!r} is registered twice")
        _sources[name] = forward
        return forward

    return register


def notice_sources() -> dict[str, Forward]:
    """Every declared source by name, in the order the apps declared them."""
    global _discovered
    if not _discovered:
        with _lock:
            if not _discovered:
                autodiscover_modules("notice_sources")
                _discovered = True
    return dict(_sources)


def notice_sources_forward(*, limit: int = 500) -> dict[str, dict]:
    """Drain every declared source (up to ``limit`` rows each); their counts by name. Each
    source is its own transaction: what one forwarded stays queued if a later one raises."""
    return {name: forward(limit=limit) for name, forward in notice_sources().items()}
