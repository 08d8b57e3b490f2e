"""Two executors of one run at once (a task delivered twice) bill every account once: each
chunk takes the cycle's advisory lock and re-reads the run's cursor under a row lock."""

import threading

import pytest
from django.db import connection, connections

from billing import services
from billing.models import Bill, BillingRun, RunStatus
from tests.billing.factories import add_account, town

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_executors_of_one_run_bill_each_account_once():
    t = town()
    for i in range(30):
        add_account(t, m3=5 + i % 17, zone="T1" if i % 3 else "T2")
    run = services.billing_run_start(period=t.period, chunk_size=2, enqueue=False)
    barrier = threading.Barrier(2)
    errors = []

    def execute():
        try:
            barrier.wait(10)
            services.billing_run_execute(run_id=run.pk)
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=execute) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    done = BillingRun.objects.get(pk=run.pk)
    assert done.status == RunStatus.DONE
    assert (done.done_accounts, done.bills_issued) == (30, 30)
    assert Bill.objects.count() == 30
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM billing_bill b
                WHERE b.total <> (SELECT sum(amount) FROM billing_ledgerentry e
                                   WHERE e.document_type = 'bill' AND e.document_id = b.id)"""
        )
        assert cursor.fetchone()[0] == 0


def test_release_racing_a_whole_run_reversal_leaves_nothing_unreversed():
    from billing import selectors
    from billing.errors import BillingError
    from tests.factories import UserFactory

    t = town()
    held_account = add_account(t, m3=45, history=[(10, "measured")] * 3)
    add_account(t, m3=25)
    run = services.billing_run_start(period=t.period, enqueue=False)
    run = services.billing_run_execute(run_id=run.pk)
    held = Bill.objects.get(account=held_account)
    clerk = UserFactory()
    outcomes = []
    gate = threading.Barrier(3)

    def release():
        try:
            gate.wait(10)
            services.bill_release(bill=held, user=clerk, reason="fuga confirmada")
            outcomes.append("released")
        except BillingError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    def reverse():
        try:
            gate.wait(10)
            services.billing_run_reverse(run=run, reason="tarifa equivocada")
            outcomes.append("reversed")
        finally:
            connections.close_all()

    # Both wait behind the cycle's lock, held here, then race for it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [services.LOCK_CLASS, "1"])
        threads = [threading.Thread(target=release), threading.Thread(target=reverse)]
        for thread in threads:
            thread.start()
        gate.wait(10)
        cursor.execute("SELECT pg_sleep(0.3)")
        cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [services.LOCK_CLASS, "1"])
    for thread in threads:
        thread.join(60)
    assert "reversed" in outcomes
    assert set(outcomes) <= {"reversed", "released", "not_held"}
    for account in t.accounts:
        assert selectors.account_balance(account=account) == 0
