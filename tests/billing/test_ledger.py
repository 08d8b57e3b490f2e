"""The ledger: posted entries are immutable in the database; corrections are reversals."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, connection, transaction

from billing import selectors, services
from billing.errors import BillingError
from billing.models import BillLine, LedgerEntry
from tests.billing.factories import add_account, town

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return add_account(town(), m3=10)


def post(account, amount, **kwargs):
    return services.ledger_post(
        account=account,
        document_type="adjustment",
        document_id=1,
        concept="adjustment",
        amount=D(amount),
        **kwargs,
    )


def test_balance_is_the_sum_of_the_ledger(account):
    post(account, "100.00")
    post(account, "-30.25")
    assert selectors.account_balance(account=account) == D("69.75")


def test_database_refuses_to_edit_or_delete_a_posted_entry(account):
    entry = post(account, "100.00")
    for sql in (
        "UPDATE billing_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    entry.refresh_from_db()
    assert entry.amount == D("100.00")


def test_database_refuses_to_edit_a_bill_line(account):
    t_run = services.billing_run_start(period=account.consumptions.get().period, enqueue=False)
    services.billing_run_execute(run_id=t_run.pk)
    line = BillLine.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        BillLine.objects.filter(pk=line.pk).update(amount=D("0.01"))


def test_reversal_cancels_an_entry_once(account):
    entry = post(account, "100.00")
    reversal = services.ledger_reverse(entry=entry, note="error de captura")
    assert reversal.amount == D("-100.00")
    assert reversal.reversal_of == entry
    assert selectors.account_balance(account=account) == 0
    with pytest.raises(BillingError) as refused:
        services.ledger_reverse(entry=entry)
    assert refused.value.code == "already_reversed"
    with pytest.raises(BillingError) as refused:
        services.ledger_reverse(entry=reversal)
    assert refused.value.code == "is_reversal"


def test_amounts_must_be_decimal_and_not_zero(account):
    for amount, code in ((10.5, "not_decimal"), (D("0.001"), "zero_amount")):
        with pytest.raises(BillingError) as refused:
            services.ledger_post(
                account=account,
                document_type="adjustment",
                document_id=1,
                concept="adjustment",
                amount=amount,
            )
        assert refused.value.code == code


def test_aging_applies_credits_to_the_oldest_bills(account):
    from billing.models import Bill

    period = account.consumptions.get().period
    run = services.billing_run_start(period=period, enqueue=False)
    services.billing_run_execute(run_id=run.pk)
    bill = Bill.objects.get(account=account)
    due = bill.due_date
    assert selectors.account_aging(account=account, on=due)["current"] == bill.total
    later = selectors.account_aging(account=account, on=due + dt.timedelta(days=45))
    assert later["31-60"] == bill.total
    post(account, str(-bill.total + D("10.00")))  # a payment leaving 10 pesos owed
    assert selectors.account_aging(account=account, on=due + dt.timedelta(days=45))["31-60"] == D(
        "10.00"
    )


def test_database_refuses_a_reversal_that_does_not_mirror_its_entry(account):
    entry = post(account, "100.00")
    for amount in (D("-99.00"), D("100.00")):
        with pytest.raises(DatabaseError, match="must mirror"), transaction.atomic():
            LedgerEntry.objects.create(
                account=account,
                document_type="adjustment",
                document_id=1,
                concept="adjustment",
                amount=amount,
                reversal_of=entry,
            )
    assert selectors.account_balance(account=account) == D("100.00")
