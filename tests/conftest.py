"""Shared fixtures: real PostGIS (pytest-django's test database), real Redis, real Celery."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, its serialized copy reachable from any context.

    Once Playwright's sync API has started (the first browser test), test code runs in another
    greenlet, where Django opens a new connection object without the serialized copy that
    ``serialized_rollback`` restores: the next transactional test then started from an empty
    database (no role groups, no permissions). A class-level default hands every connection
    object of the (single) test database the copy.
    """
    from django.db import connections

    wrapper = connections["default"]
    contents = getattr(wrapper, "_test_serialized_contents", None)
    if contents is not None:
        type(wrapper)._test_serialized_contents = contents
    yield


@pytest.fixture(scope="session", autouse=True)
def _test_media_removed():
    """Files the tests upload live only as long as the session."""
    import shutil

    from django.conf import settings

    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def celery_worker_process(settings):
    """A real Celery worker, stopped after the test, that works for this test run only: it
    reads and writes this session's test database, consumes a queue named after this process
    (other runs share the broker) — tasks sent during the test go there by default; the
    queue is ``proc.queue`` — and answers pings under a node name of its own."""
    from django.db import connection

    from config.celery import app
    from config.local_services import LOCAL_DATABASE_URL

    base = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    queue = f"caudal-test-{os.getpid()}"
    # "caudal-test@<host>.<pid>": recognisable as a test worker, unique to this run.
    node = f"caudal-test@{os.uname().nodename}.{os.getpid()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": base.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"],
        "CAUDAL_TEST_QUEUE": queue,
    }
    proc = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-n",
            node,
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    proc.queue = queue
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if app.control.ping(destination=[node], timeout=0.5):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited: {proc.stderr.read().decode()[-2000:]}")
        else:
            raise RuntimeError("celery worker did not answer a ping within 60 s")
        yield proc
    finally:
        app.conf.task_default_queue = previous_queue
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def rolled_back_transaction(django_db_blocker):
    """Data written inside is visible to a whole module's tests, then rolled back.

    For expensive fixtures (a demo city) built once per module: each test's own ``db``
    transaction nests inside as a savepoint.
    """
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)
