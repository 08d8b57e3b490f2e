"""Open items and settlements: which credit paid which debit, and what reversals re-open."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import DatabaseError, transaction

from billing import selectors, services, settlement
from billing.models import Bill, LedgerEntry, Settlement
from tests.billing.factories import add_account, town

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 31)
FEB = dt.date(2026, 2, 28)


@pytest.fixture
def place():
    return town()


@pytest.fixture
def account(place):
    return add_account(place, m3=10)


def debit(account, bill_id, concept, amount, due):
    return services.ledger_post(
        account=account,
        document_type="bill",
        document_id=bill_id,
        concept=concept,
        amount=D(amount),
        due_date=due,
    )


def pay(account, amount, payment_id=1):
    entry = services.ledger_post(
        account=account,
        document_type="payment",
        document_id=payment_id,
        concept="payment",
        amount=-D(amount),
    )
    settlement.settle_account(account=account)
    return entry


def opened(account):
    return {(i.document_id, i.concept): i.open for i in settlement.open_items(account=account)}


def paid_by(entry):
    return {
        (s.debit.document_id, s.debit.concept): s.amount
        for s in settlement.settled_by_credit(credit=entry)
    }


def test_a_payment_pays_the_oldest_bill_first_and_its_surcharge_before_its_water(account):
    debit(account, 2, "water", "80.00", FEB)
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 1, "surcharge", "10.00", JAN)
    payment = pay(account, "50.00")
    assert paid_by(payment) == {(1, "surcharge"): D("10.00"), (1, "water"): D("40.00")}
    assert opened(account) == {(1, "water"): D("60.00"), (2, "water"): D("80.00")}


def test_the_order_of_concepts_is_configurable(account, settings):
    settings.CAUDAL_SETTLEMENT_CONCEPT_ORDER = ("water", "surcharge")
    debit(account, 1, "surcharge", "10.00", JAN)
    debit(account, 1, "water", "100.00", JAN)
    payment = pay(account, "50.00")
    assert paid_by(payment) == {(1, "water"): D("50.00")}


def test_reversing_a_bounced_payment_reopens_exactly_what_it_paid(account):
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 2, "water", "100.00", FEB)
    cheque = pay(account, "100.00", payment_id=1)
    cash = pay(account, "30.00", payment_id=2)
    assert paid_by(cash) == {(2, "water"): D("30.00")}
    services.ledger_reverse(entry=cheque, note="cheque devuelto")
    # The January bill is owed again in full; what the cash paid of February stays paid.
    assert opened(account) == {(1, "water"): D("100.00"), (2, "water"): D("70.00")}
    assert paid_by(cash) == {(2, "water"): D("30.00")}
    assert selectors.account_balance(account=account) == D("170.00")


def test_an_overpayment_stays_as_credit_and_pays_the_next_bill(account):
    debit(account, 1, "water", "100.00", JAN)
    payment = pay(account, "150.00")
    assert opened(account) == {}
    [credit] = settlement.free_credits(account=account)
    assert (credit.entry_id, credit.amount) == (payment.pk, D("50.00"))
    debit(account, 2, "water", "80.00", FEB)
    made = settlement.settle_account(account=account)
    assert [(s.credit_id, s.amount) for s in made] == [(payment.pk, D("50.00"))]
    assert opened(account) == {(2, "water"): D("30.00")}
    assert settlement.free_credits(account=account) == []


def test_reversing_a_bill_frees_the_credit_that_paid_it(account):
    bill_entry = debit(account, 1, "water", "100.00", JAN)
    payment = pay(account, "100.00")
    services.ledger_reverse(entry=bill_entry, note="recibo cancelado")
    [credit] = settlement.free_credits(account=account)
    assert (credit.entry_id, credit.amount) == (payment.pk, D("100.00"))
    assert opened(account) == {}


def test_a_bills_own_discount_pays_that_bill_before_any_other(account):
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 2, "water", "100.00", FEB)
    services.ledger_post(
        account=account,
        document_type="bill",
        document_id=2,
        concept="discount",
        amount=D("-25.00"),
    )
    assert opened(account) == {(1, "water"): D("100.00"), (2, "water"): D("75.00")}
    assert settlement.free_credits(account=account) == []


def test_settling_twice_writes_nothing_the_second_time(account):
    debit(account, 1, "water", "100.00", JAN)
    pay(account, "40.00")
    assert settlement.settle_account(account=account) == []
    assert Settlement.objects.filter(account=account).count() == 1


def test_a_credit_note_pays_only_the_debits_it_is_given(account):
    old = debit(account, 1, "water", "100.00", JAN)
    disputed = debit(account, 2, "water", "100.00", FEB)
    note = services.ledger_post(
        account=account,
        document_type="adjustment",
        document_id=7,
        concept="adjustment",
        amount=D("-120.00"),
    )
    settlement.settle_credit(credit=note, debits=[disputed])
    assert opened(account) == {(1, "water"): D("100.00")}
    [left] = settlement.free_credits(account=account)
    assert left.amount == D("20.00")
    assert old.pk not in {s.debit_id for s in settlement.settled_by_credit(credit=note)}


def test_database_refuses_a_settlement_with_its_sides_swapped_or_across_accounts(account, place):
    other = add_account(place, m3=10)
    owed = debit(account, 1, "water", "100.00", JAN)
    paid = services.ledger_post(
        account=account, document_type="payment", document_id=1, concept="payment", amount=D("-5")
    )
    elsewhere = services.ledger_post(
        account=other, document_type="payment", document_id=2, concept="payment", amount=D("-5")
    )
    for debit_entry, credit_entry, acc in (
        (paid, owed, account),  # swapped
        (owed, elsewhere, account),  # the credit is another account's
    ):
        with pytest.raises(DatabaseError, match="settlement"), transaction.atomic():
            Settlement.objects.create(
                account=acc, debit=debit_entry, credit=credit_entry, amount=D("5.00")
            )
    assert not Settlement.objects.exists()


def test_a_billing_run_posts_its_entries_with_the_bills_due_date(account):
    period = account.consumptions.get().period
    run = services.billing_run_start(period=period, enqueue=False)
    services.billing_run_execute(run_id=run.pk)
    bill = Bill.objects.get(account=account)
    dues = set(
        LedgerEntry.objects.filter(document_type="bill", document_id=bill.pk)
        .filter(amount__gt=0)
        .values_list("due_date", flat=True)
    )
    assert dues == {bill.due_date}
    assert sum(i.open for i in settlement.open_items(account=account)) == bill.total
