"""A real Celery worker of billing's own: on the test database and on a queue of its own, so
that no other test run's worker (another database) takes billing's tasks."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT


@pytest.fixture
def billing_worker():
    """Start a worker; yields (process, queue). Kill it with ``process.send_signal``."""
    from django.db import connection

    from config.celery import app
    from config.local_services import LOCAL_DATABASE_URL

    base = os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL)
    queue = f"billing-test-{os.getpid()}"
    node = f"{queue}@%h"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": base.rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"],
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
    try:
        deadline = time.monotonic() + 60
        hostname = node.replace("%h", os.uname().nodename)
        while time.monotonic() < deadline:
            if app.control.ping(destination=[hostname], timeout=0.5):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"celery worker exited: {proc.stderr.read().decode()[-2000:]}")
        else:
            raise RuntimeError("celery worker did not answer a ping within 60 s")
        yield proc, queue
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
