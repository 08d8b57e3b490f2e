"""An optimization run end to end: queued after commit, solved by a real Celery worker with
its progress stored on the run row, within the run's time limit."""

import time

import pytest

from routing.models import OptimizationRun, RunStatus
from routing.services import run_create
from tests.routing.factories import book, meters_at, street_grid

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for(run_id: int, seconds: float) -> tuple[OptimizationRun, list[int]]:
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = OptimizationRun.objects.get(pk=run_id)
        seen.append(run.progress)
        if run.status in (RunStatus.DONE, RunStatus.FAILED):
            return run, seen
        time.sleep(0.3)
    raise AssertionError(f"run {run_id} still {run.status} after {seconds} s")


@pytest.mark.usefixtures("celery_worker_process")
def test_a_worker_solves_the_run_and_stores_progress_and_plan():
    street_grid(5, 5)
    libro = book("LT")
    meters_at(
        [(10 + 7 * i, 6) for i in range(50)] + [(206, 5 + 7 * i) for i in range(50)], in_book=libro
    )
    run = run_create(params={"readers": 3, "time_limit_s": 4}, book=libro)
    started = time.monotonic()
    run, seen = wait_for(run.pk, 90)
    assert run.status == RunStatus.DONE, run.message
    assert run.progress == 100 and run.started_at and run.finished_at
    assert any(0 < p < 100 for p in seen), seen  # progress was visible while it ran
    assert len(run.result["routes"]) == 3
    assert run.result["totals"]["meters"] == 100
    # The solver kept to the run's time limit (plus snapping, the worker's start, polling).
    assert (run.finished_at - run.started_at).total_seconds() < 4 + 10
    assert time.monotonic() - started < 90


@pytest.mark.usefixtures("celery_worker_process")
def test_a_run_with_nothing_to_read_fails_with_a_message():
    street_grid(2, 2)
    libro = book("LV")
    run = run_create(params={"readers": 2, "time_limit_s": 1}, book=libro)
    run, _ = wait_for(run.pk, 60)
    assert run.status == RunStatus.FAILED
    assert run.message
