"""A billing run in a real Celery worker, killed mid-way (SIGKILL) and resumed, ends with
exactly the bills of a clean run."""

import signal
import time

import pytest

from billing import selectors, services
from billing.models import Bill, BillingRun, RunStatus
from billing.tasks import billing_run_task
from tests.billing.factories import add_account, town

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_worker_killed_mid_run_and_resumed_equals_a_clean_run(celery_worker_process):
    proc, queue = celery_worker_process, celery_worker_process.queue
    t = town()
    for i in range(150):
        kind = i % 5
        if kind == 0:
            add_account(t, m3=i % 37)
        elif kind == 1:
            add_account(t, zone="T1", m3=i % 23)
        elif kind == 2:
            add_account(t, m3=None)
        elif kind == 3:
            add_account(t, use="commercial", m3=i % 41, history=[(3, "measured")] * 3)
        else:
            add_account(t, m3=i % 19, discount="retiree")
    run = services.billing_run_start(period=t.period, chunk_size=1, enqueue=False)
    billing_run_task.apply_async((run.pk,), queue=queue)
    wait_for(lambda: BillingRun.objects.get(pk=run.pk).done_accounts >= 10)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed = BillingRun.objects.get(pk=run.pk)
    assert killed.status == RunStatus.RUNNING  # nobody marked it: the worker died
    assert 10 <= killed.done_accounts < 150
    assert Bill.objects.filter(run=run).count() == killed.done_accounts

    services.billing_run_resume(run=killed, enqueue=False)
    resumed = services.billing_run_execute(run_id=run.pk)
    assert resumed.status == RunStatus.DONE
    assert resumed.done_accounts == 150
    digest = selectors.bill_lines_digest(period=t.period)
    totals = (resumed.bills_issued, resumed.bills_held, resumed.amount_issued)

    services.billing_run_reverse(run=resumed, reason="comparación")
    clean = services.billing_run_start(period=t.period, chunk_size=1000, enqueue=False)
    clean = services.billing_run_execute(run_id=clean.pk)
    assert selectors.bill_lines_digest(period=t.period) == digest
    assert (clean.bills_issued, clean.bills_held, clean.amount_issued) == totals


def test_run_started_through_the_queue_finishes_in_the_worker(celery_worker_process):
    queue = celery_worker_process.queue
    t = town()
    for i in range(5):
        add_account(t, m3=10 + i)
    run = services.billing_run_start(period=t.period, chunk_size=2, enqueue=False)
    billing_run_task.apply_async((run.pk,), queue=queue)
    done = wait_for(lambda: (r := BillingRun.objects.get(pk=run.pk)).status == RunStatus.DONE and r)
    assert (done.done_accounts, done.bills_issued) == (5, 5)
