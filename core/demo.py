"""The demo city, built in steps that each app contributes from its own ``demo.py``.

An app registers a step with :func:`demo_step`; ``manage.py demo_city`` discovers every app's
``demo`` module (like the admin's autodiscover), orders the steps by their ``after`` lists and
runs each once per city, in its own transaction. A later app (meters, tariffs, network…) adds
a step without touching this module or any other app's steps, and ``demo_city`` run again on an
existing city applies only the steps it has not applied yet.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class DemoContext:
    """What every step knows: the size and seed of the city, the CRS and where the city lies."""

    accounts: int
    seed: int
    srid: int
    center_lonlat: tuple[float, float]


@dataclass(frozen=True)
class DemoStep:
    name: str
    run: Callable[[DemoContext], dict]
    after: tuple[str, ...] = field(default_factory=tuple)
    tables: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""
    source: Callable | None = None  # the decorated function (``run`` wraps it)


class DemoError(Exception):
    pass


_steps: dict[str, DemoStep] = {}


def demo_step(
    name: str, *, after: tuple[str, ...] = (), tables: tuple[str, ...] = (), description: str = ""
):
    """Register ``fn(ctx) -> dict of counts`` as a demo step.

    ``tables`` are the tables the step fills; ``demo_city --replace`` empties them (in reverse
    order of the steps) before building again. After the step they are analysed: the next
    steps' (and the tests') joins over tables that went from empty to thousands or millions of
    rows in one transaction must not be planned from the statistics of an empty table (a
    nested loop over 6,000 by 6,000 rows ran for minutes).
    """

    def register(fn):
        if name in _steps and _steps[name].source is not fn:
            raise DemoError(_("Demo step %(name)s is registered twice.") % {"name": name})

        def run(ctx: DemoContext) -> dict:
            counts = fn(ctx)
            _analyze(tables)
            return counts

        _steps[name] = DemoStep(
            name=name,
            run=run,
            after=tuple(after),
            tables=tuple(tables),
            description=description,
            source=fn,
        )
        return fn

    return register


def _analyze(tables) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'ANALYZE "{table}"')


def discover() -> None:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("demo")


def ordered_steps() -> list[DemoStep]:
    discover()
    for step in _steps.values():
        missing = [dep for dep in step.after if dep not in _steps]
        if missing:
            raise DemoError(
                _("Demo step %(name)s needs steps that no app provides: %(missing)s")
                % {"name": step.name, "missing": ", ".join(missing)}
            )
    graph = {step.name: set(step.after) for step in _steps.values()}
    # static_order is deterministic for a given registration order, which autodiscovery fixes
    # to INSTALLED_APPS order.
    return [_steps[name] for name in TopologicalSorter(graph).static_order()]
