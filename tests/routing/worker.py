"""A real Celery worker for routing tests, on a queue of our own and this session's test
database (other sessions' workers share the broker and must not take our tasks)."""

import pytest
from django.db import connection

QUEUE = "caudal-test-routing"


@pytest.fixture
def routing_worker(request, monkeypatch):
    from config.celery import app

    db = connection.settings_dict
    url = f"postgis://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CAUDAL_TEST_QUEUE", QUEUE)
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = QUEUE
    try:
        yield request.getfixturevalue("celery_worker_process")
    finally:
        app.conf.task_default_queue = previous
