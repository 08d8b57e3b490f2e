"""Writes of the core app: demo city orchestration and demo users."""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.demo import DemoContext, DemoError, ordered_steps
from core.models import DemoStepRun
from core.roles import ADMIN, ROLES

DEMO_PASSWORD = "caudal-demo"  # noqa: S105  (printed by `make demo`; demo databases only)


def demo_city_build(
    *,
    ctx: DemoContext,
    replace: bool = False,
    replace_other: bool = False,
    only=None,
    log=print,
) -> list[DemoStepRun]:
    """Apply every registered demo step not yet applied, each in its own transaction.

    With ``replace`` the tables of every step are emptied first and all steps run again.
    Raises :class:`DemoError` when the database already holds a city of another size or seed
    (building a second city on top of the first would duplicate it), unless ``replace_other``
    says to replace such a city (benchmarks keep their city between runs of the same scale).
    ``only`` names the steps wanted (their prerequisites run too): a benchmark of tiles need not
    wait minutes for a year of meter readings.
    """
    every_step = ordered_steps()
    steps = every_step if only is None else _with_prerequisites(every_step, only)
    done = {run.step: run for run in DemoStepRun.objects.all()}
    other = [run for run in done.values() if (run.accounts, run.seed) != (ctx.accounts, ctx.seed)]
    if (replace or (other and replace_other)) and done:
        _demo_city_clear(steps=every_step)
        done, other = {}, []
    if other:
        raise DemoError(
            _(
                "This database already holds a demo city of %(accounts)s accounts with seed "
                "%(seed)s. Use --replace to build a new one."
            )
            % {"accounts": other[0].accounts, "seed": other[0].seed}
        )
    applied = []
    for step in steps:
        if step.name in done:
            log(_("demo step %(name)s: already applied") % {"name": step.name})
            continue
        started = time.perf_counter()
        with transaction.atomic():
            counts = step.run(ctx) or {}
            run = DemoStepRun.objects.create(
                step=step.name,
                accounts=ctx.accounts,
                seed=ctx.seed,
                counts=counts,
                seconds=round(time.perf_counter() - started, 3),
            )
        applied.append(run)
        log(
            _("demo step %(name)s: %(counts)s in %(seconds).1f s")
            % {"name": step.name, "counts": counts, "seconds": run.seconds}
        )
    if applied:
        # Fresh planner statistics: the landing page and the first queries read them.
        with connection.cursor() as cursor:
            for step in steps:
                for table in step.tables:
                    cursor.execute(f'ANALYZE "{table}"')
    return applied


def _with_prerequisites(steps, names) -> list:
    by_name = {step.name: step for step in steps}
    wanted, pending = set(), list(names)
    while pending:
        name = pending.pop()
        if name not in by_name:
            raise DemoError(_("Unknown demo step %(name)s.") % {"name": name})
        if name not in wanted:
            wanted.add(name)
            pending.extend(by_name[name].after)
    return [step for step in steps if step.name in wanted]


def _demo_city_clear(*, steps) -> None:
    tables = [table for step in reversed(steps) for table in reversed(step.tables)]
    with transaction.atomic(), connection.cursor() as cursor:
        if tables:
            # Deferred foreign-key checks of rows written earlier in this transaction must fire
            # before TRUNCATE, which refuses tables with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            quoted = ", ".join(f'"{t}"' for t in tables)
            cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        DemoStepRun.objects.all().delete()


def demo_users_ensure() -> list[tuple[str, str]]:
    """One demo user per role (username = role code), created once; returns (username, role)."""
    user_model = get_user_model()
    created = []
    for role in ROLES:
        group = Group.objects.get(name=role)
        user, was_created = user_model.objects.get_or_create(
            username=role, defaults={"is_staff": True, "is_superuser": role == ADMIN}
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(group)
        created.append((user.username, role))
    return created
