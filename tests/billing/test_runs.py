"""Billing runs: the SQL bills exactly what the tariff engine prices, once per account and
period, resumable, cancellable and reversible as a whole."""

from decimal import Decimal as D

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from billing import pricing, selectors, services
from billing.errors import BillingError
from billing.models import Bill, BillingRun, BillLine, BillStatus, LedgerEntry, RunStatus
from tests.billing.factories import add_account, calendar, town

pytestmark = pytest.mark.django_db


def run_all(t, *, chunk_size=1000, max_chunks=None):
    run = services.billing_run_start(period=t.period, chunk_size=chunk_size, enqueue=False)
    return services.billing_run_execute(run_id=run.pk, max_chunks=max_chunks)


def counts():
    return (Bill.objects.count(), BillLine.objects.count(), LedgerEntry.objects.count())


def varied_town():
    t = town()
    add_account(t, m3=25)  # domestic, general tariff, incremental
    add_account(t, m3=3)  # below the minimum
    add_account(t, zone="T1", m3=16)  # the zone's own whole-volume tariff
    add_account(t, zone="T1", m3=15)  # on a limit
    add_account(t, zone=None, m3=0)  # no zone: general tariff
    add_account(t, m3=None)  # unmetered: flat rate
    add_account(t, zone="T1", m3=None, sanitation=False)
    add_account(t, m3=40, discount="retiree")
    add_account(t, m3=7, discount="retiree", sewer=False)
    add_account(t, use="commercial", m3=33.333)  # VAT, whole volume
    add_account(t, use="commercial", m3=20, water=False)  # sewer only
    add_account(t, m3=12.5, method="estimated", history=[(10, "measured")])
    return t


def test_run_bills_every_account_as_the_tariff_engine_prices_it():
    t = varied_town()
    run = run_all(t, chunk_size=4)
    assert run.status == RunStatus.DONE
    assert run.done_accounts == run.total_accounts == len(t.accounts)
    spec = services.tariff_set_spec(t.tariff_set)
    zones = {z.pk: code for code, z in t.zones.items()}
    for account in t.accounts:
        bill = Bill.objects.get(account=account, period=t.period)
        tariff = spec.tariff_for(account.use_type, zones.get(bill.tariff_zone_id))
        discount = spec.discount(account.discounts.values_list("code", flat=True).first())
        quote = pricing.bill_price(
            tariff=tariff,
            m3=bill.consumption_m3,
            vat_rate=spec.vat_rate,
            rounding_unit=spec.rounding_unit,
            water=account.water,
            sewer=account.sewer,
            sanitation=account.sanitation,
            discount=discount,
        )
        got = [
            (x.seq, x.concept, x.block, x.quantity, x.unit_price, x.amount, x.tax)
            for x in bill.lines.order_by("seq")
        ]
        want = [
            (x.seq, x.concept, x.block, x.quantity, x.unit_price, x.amount, x.tax)
            for x in quote.lines
        ]
        assert got == want, account.pk
        assert (bill.charges, bill.tax, bill.total) == (quote.charges, quote.tax, quote.total)


def test_hand_computed_bill_is_issued_posted_and_owed():
    t = town()
    account = add_account(t, m3=25)
    run_all(t)
    bill = Bill.objects.get(account=account)
    # 30 fixed + 50 + 80 + 60 water + 44 sewer (20 %) + 22 sanitation (10 %).
    assert bill.status == BillStatus.ISSUED
    assert bill.total == D("286.00")
    assert bill.due_date == calendar(t).due_date
    assert selectors.account_balance(account=account) == D("286.00")
    assert set(
        LedgerEntry.objects.filter(document_id=bill.pk).values_list("concept", "amount")
    ) == {
        ("fixed", D("30.00")),
        ("water", D("190.00")),
        ("sewer", D("44.00")),
        ("sanitation", D("22.00")),
    }


def test_vat_lines_post_a_vat_entry():
    t = town()
    account = add_account(t, use="commercial", m3=10)  # 50 + 100 + 25 % sewer 37.50
    run_all(t)
    bill = Bill.objects.get(account=account)
    assert (bill.charges, bill.tax) == (D("187.50"), D("30.00"))
    assert bill.total == D("217.50")
    vat = LedgerEntry.objects.get(document_id=bill.pk, concept="vat")
    assert vat.amount == D("30.00")


def test_previous_balance_and_late_surcharge_come_from_the_ledger():
    t = town()
    account = add_account(t, m3=25)
    services.ledger_post(
        account=account,
        document_type="adjustment",
        document_id=1,
        concept="adjustment",
        amount=D("200.00"),
    )
    run_all(t)
    bill = Bill.objects.get(account=account)
    assert bill.previous_balance == D("200.00")
    surcharge = bill.lines.get(concept="surcharge")
    assert surcharge.amount == D("4.00")  # 2 % a month of 200
    assert bill.total == D("290.00")
    assert selectors.account_balance(account=account) == D("490.00")


def test_payment_reference_carries_iso_7064_check_digits():
    from stdnum.iso7064 import mod_97_10

    t = town()
    account = add_account(t, m3=10)
    run_all(t)
    reference = Bill.objects.get(account=account).payment_reference
    assert reference.startswith(f"{account.pk:010d}2604")
    assert len(reference) == 16
    assert mod_97_10.is_valid(reference)
    assert not mod_97_10.is_valid(reference[:-1] + str((int(reference[-1]) + 1) % 10))


def test_rerunning_a_billed_period_creates_nothing_new():
    t = varied_town()
    run = run_all(t, chunk_size=5)
    before = counts()
    digest = selectors.bill_lines_digest(period=t.period)
    # A duplicated task with a stale cursor: every account already has its bill.
    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, cursor=0, done_accounts=0)
    services.billing_run_execute(run_id=run.pk)
    assert counts() == before
    assert selectors.bill_lines_digest(period=t.period) == digest
    with pytest.raises(BillingError) as refused:
        services.billing_run_start(period=t.period, enqueue=False)
    assert refused.value.code == "run_exists"


def test_run_stopped_between_chunks_and_resumed_equals_a_clean_run():
    t = varied_town()
    run = run_all(t, chunk_size=3, max_chunks=2)
    assert run.status == RunStatus.RUNNING
    assert run.done_accounts == 6
    assert Bill.objects.filter(run=run).count() == 6
    services.billing_run_resume(run=run, enqueue=False)
    resumed = services.billing_run_execute(run_id=run.pk)
    assert resumed.status == RunStatus.DONE
    resumed_digest = selectors.bill_lines_digest(period=t.period)
    resumed_counts = (resumed.bills_issued, resumed.bills_held, resumed.amount_issued)

    services.billing_run_reverse(run=resumed, reason="prueba")
    clean = run_all(t, chunk_size=1000)
    assert selectors.bill_lines_digest(period=t.period) == resumed_digest
    assert (clean.bills_issued, clean.bills_held, clean.amount_issued) == resumed_counts


def test_whole_run_reversal_restores_every_balance():
    t = varied_town()
    services.ledger_post(
        account=t.accounts[0],
        document_type="adjustment",
        document_id=1,
        concept="adjustment",
        amount=D("55.10"),
    )
    before = {a.pk: selectors.account_balance(account=a) for a in t.accounts}
    run = run_all(t, chunk_size=5)
    assert any(selectors.account_balance(account=a) != before[a.pk] for a in t.accounts)
    reversed_run = services.billing_run_reverse(run=run, reason="tarifa equivocada")
    assert reversed_run.status == RunStatus.REVERSED
    assert {a.pk: selectors.account_balance(account=a) for a in t.accounts} == before
    assert not Bill.objects.filter(run=run).exclude(status=BillStatus.REVERSED).exists()
    # Nothing was deleted: each bill entry has its reversal.
    posted = LedgerEntry.objects.filter(document_type="bill", reversal_of__isnull=True)
    assert posted.count() == LedgerEntry.objects.filter(reversal_of__isnull=False).count() > 0
    with pytest.raises(BillingError) as refused:
        services.billing_run_reverse(run=run, reason="otra vez")
    assert refused.value.code == "already_reversed"
    # The period may be billed again.
    assert run_all(t).status == RunStatus.DONE


def test_running_run_cannot_be_reversed_before_it_stops():
    t = varied_town()
    run = run_all(t, chunk_size=2, max_chunks=1)
    with pytest.raises(BillingError) as refused:
        services.billing_run_reverse(run=run, reason="x")
    assert refused.value.code == "run_in_progress"


def test_cancel_stops_a_running_run_at_the_next_chunk():
    t = varied_town()
    run = run_all(t, chunk_size=2, max_chunks=1)
    services.billing_run_cancel(run=run)
    stopped = services.billing_run_execute(run_id=run.pk)
    assert stopped.status == RunStatus.CANCELLED
    assert Bill.objects.filter(run=run).count() == 2
    # A cancelled run can be resumed to the end.
    services.billing_run_resume(run=stopped, enqueue=False)
    assert services.billing_run_execute(run_id=run.pk).done_accounts == len(t.accounts)


def test_cancel_of_a_pending_run_is_immediate():
    t = varied_town()
    run = services.billing_run_start(period=t.period, enqueue=False)
    assert services.billing_run_cancel(run=run).status == RunStatus.CANCELLED
    assert services.billing_run_execute(run_id=run.pk).done_accounts == 0


def test_inactive_accounts_and_other_cycles_are_not_billed():
    t = varied_town()
    inactive = add_account(t, m3=10, status="inactive")
    other = add_account(t, m3=10)
    type(other).objects.filter(pk=other.pk).update(billing_cycle="9")
    run_all(t)
    assert not Bill.objects.filter(account__in=[inactive, other]).exists()


def test_run_needs_calendar_and_adopted_tariff():
    from billing.models import BillingCalendar, TariffSet

    t = town()
    BillingCalendar.objects.filter(period=t.period).delete()
    with pytest.raises(BillingError) as refused:
        services.billing_run_start(period=t.period, enqueue=False)
    assert refused.value.code == "no_calendar"
    TariffSet.objects.update(status="draft")
    with pytest.raises(BillingError) as refused:
        services.billing_run_start(period=t.periods[0], enqueue=False)
    assert refused.value.code == "no_tariff_set"


def test_database_allows_one_live_bill_per_account_and_period():
    t = town()
    account = add_account(t, m3=10)
    run = run_all(t)
    bill = Bill.objects.get(account=account)
    with pytest.raises(IntegrityError), transaction.atomic():
        Bill.objects.create(
            run=run,
            account=account,
            period=t.period,
            use_type="domestic",
            method="measured",
            due_date=bill.due_date,
            payment_reference="x",
            status="issued",
        )


def test_start_queues_the_run_only_after_commit(django_capture_on_commit_callbacks):
    t = town()
    with django_capture_on_commit_callbacks() as callbacks:
        run = services.billing_run_start(period=t.period)
    assert len(callbacks) == 1
    assert run.status == RunStatus.PENDING


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cycle_advisory_lock_is_taken_by_each_chunk():
    """While another transaction holds the cycle's lock, a chunk waits (here: times out)."""
    import threading

    t = town()
    add_account(t, m3=10)
    run = services.billing_run_start(period=t.period, enqueue=False)
    held = threading.Event()
    release = threading.Event()

    def hold_lock():
        from django.db import connections

        conn = connections["default"]
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [services.LOCK_CLASS, "1"])
            held.set()
            release.wait(30)
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, hashtext(%s))", [services.LOCK_CLASS, "1"]
            )
        conn.close()

    thread = threading.Thread(target=hold_lock)
    thread.start()
    held.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        with pytest.raises(Exception, match="lock timeout"):
            services.billing_run_execute(run_id=run.pk)
    finally:
        release.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


def test_a_failing_chunk_writes_nothing_and_the_run_resumes_to_a_clean_result(monkeypatch):
    t = varied_town()
    clean = run_all(t, chunk_size=1000)
    clean_digest = selectors.bill_lines_digest(period=t.period)
    clean_counts = (clean.bills_issued, clean.bills_held, clean.amount_issued)
    services.billing_run_reverse(run=clean, reason="prueba")

    run = run_all(t, chunk_size=5, max_chunks=1)
    before = counts()
    # The second chunk fails after its bills are inserted (its lines fail).
    monkeypatch.setattr(services, "_LINES_FROM_NEW", "SELECT 1 / 0")
    with pytest.raises(DatabaseError):
        services.billing_run_execute(run_id=run.pk)
    failed = BillingRun.objects.get(pk=run.pk)
    assert failed.status == RunStatus.FAILED
    assert (failed.done_accounts, failed.cursor) == (5, run.cursor)
    assert counts() == before  # nothing of the failed chunk
    # Where it stopped and what to do, in the clerk's language (the worker's: es-mx).
    assert f"tras 5 de {len(t.accounts)} cuentas" in failed.error
    assert "Reanude la corrida" in failed.error

    monkeypatch.undo()
    services.billing_run_resume(run=failed, enqueue=False)
    resumed = services.billing_run_execute(run_id=run.pk)
    assert resumed.status == RunStatus.DONE
    assert resumed.error == ""
    assert selectors.bill_lines_digest(period=t.period) == clean_digest
    assert (resumed.bills_issued, resumed.bills_held, resumed.amount_issued) == clean_counts
