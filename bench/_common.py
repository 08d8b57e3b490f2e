"""What every benchmark shares: a scratch database of its own, and the RESULT line.

A benchmark never touches the demo's database: it creates ``<name>_bench`` on the same server
(``DATABASE_URL`` or the project-local cluster), migrates it, and leaves it for the next run.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(bench_db: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import environ
    import psycopg

    from config.local_services import LOCAL_DATABASE_URL

    url = environ.Env.db_url_config(os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL))
    conninfo = dict(
        host=url["HOST"],
        port=url["PORT"] or 5432,
        user=url["USER"],
        password=url["PASSWORD"] or None,
        dbname=url["NAME"],
    )
    with psycopg.connect(**conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_db]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{bench_db}"')
    base = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{bench_db}"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def result(name: str, *, value: float, baseline: float, goal: float, lower_is_better=True) -> bool:
    """Print the one-line figure every benchmark ends with; returns whether it met its goal."""
    ratio = value / baseline if baseline else float("inf")
    ok = ratio <= goal if lower_is_better else ratio >= goal
    print(
        f"RESULT {name} value={value:.3f} baseline={baseline:.3f} ratio={ratio:.3f} "
        f"goal={goal} {'PASS' if ok else 'FAIL'}"
    )
    return ok


def checkpoint() -> None:
    """Untimed, before each timed step: write out the dirty buffers the previous step (or the
    set-up) left. A step that wrote a million rows leaves gigabytes of them, and a checkpoint
    falling inside the next timed step moved it by ±10 s from run to run."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("CHECKPOINT")
    except DatabaseError as exc:  # needs superuser or pg_checkpoint
        print(f"(no CHECKPOINT before the step, figures vary more: {exc})".strip())
