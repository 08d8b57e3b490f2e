"""The set-based aging statement agrees with the per-account rules of billing.settlement."""

import datetime as dt
from decimal import Decimal as D

import pytest

from billing import selectors, services, settlement
from billing.collection import aging
from tests.billing.factories import add_account, town
from tests.collection.helpers import bill, credit_note, pay

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 6, 30)
DUES = [dt.date(2026, 1, 15), dt.date(2026, 3, 20), dt.date(2026, 4, 20), dt.date(2026, 6, 10)]


def reference(account, day):
    """The per-account Python rule: billing.selectors.account_aging, with the SQL's finer
    buckets (90+ = 91-180 + 180+), and periods / oldest due from open_items."""
    py = selectors.account_aging(account=account, on=day)
    credit = sum((c.amount for c in settlement.free_credits(account=account)), D("0"))
    periods, oldest = set(), None
    for item in settlement.open_items(account=account):
        applied = min(item.open, credit)
        credit -= applied
        if item.open - applied > 0 and item.due_date < day:
            periods.add((item.document_type, item.document_id, item.due_date))
            oldest = min(oldest or item.due_date, item.due_date)
    return py, len(periods), oldest


def assert_agrees(account, day=ON):
    got = aging.account_aging(account=account, day=day)
    py, periods, oldest = reference(account, day)
    assert got.current == py["current"]
    assert got.d0_30 == py["1-30"]
    assert got.d31_60 == py["31-60"]
    assert got.d61_90 == py["61-90"]
    assert got.d91_180 + got.d180 == py["90+"]
    assert got.overdue == py["1-30"] + py["31-60"] + py["61-90"] + py["90+"]
    assert got.balance == selectors.account_balance(account=account)
    assert got.periods == periods
    assert got.oldest_due == oldest
    assert got.days_overdue == ((day - oldest).days if oldest else 0)
    # The summary statement (the report's: settlements summed by their debit's due date, no
    # per-period figures) gives the same amounts.
    summary = aging.accounts_aging(day=day, account_ids=[account.pk], detail=False)[account.pk]
    assert summary.buckets() == got.buckets()
    assert (summary.overdue, summary.balance) == (got.overdue, got.balance)
    assert (summary.periods, summary.oldest_due, summary.days_overdue) == (None, None, None)
    return got


@pytest.fixture
def place():
    return town()


@pytest.fixture
def account(place):
    return add_account(place, m3=10)


def four_bills(account):
    for due in DUES:
        bill(account, due, ("water", "100.00"), ("sewer", "20.00"), ("vat", "16.00"))


def test_unpaid_bills_fall_in_their_buckets(account):
    four_bills(account)
    got = assert_agrees(account)
    assert (got.d0_30, got.d61_90, got.d91_180) == (D("136.00"), D("136.00"), D("272.00"))
    assert got.periods == 4
    assert got.recent_days == 20


def test_a_bills_discount_reduces_that_bill_first(account):
    four_bills(account)
    bill(account, DUES[0], ("water", "50.00"), ("discount", "-70.00"))
    got = assert_agrees(account)
    # The discount covers its own bill's 50.00; the 20.00 left is free credit on the oldest.
    assert got.d91_180 == D("252.00")


def test_a_partial_payment_pays_the_oldest_first(account):
    four_bills(account)
    pay(account, "200.00")
    got = assert_agrees(account)
    assert got.periods == 3
    assert got.oldest_due == DUES[1]


def test_a_reversed_payment_reopens_what_it_paid(account):
    four_bills(account)
    payment = pay(account, "300.00")
    services.ledger_reverse(entry=payment)
    got = assert_agrees(account)
    assert got.overdue == D("544.00")


def test_an_overpayment_leaves_a_credit_balance_and_nothing_overdue(account):
    four_bills(account)
    pay(account, "600.00")
    got = assert_agrees(account)
    assert got.overdue == 0 and got.balance == D("-56.00") and got.periods == 0


def test_unapplied_credit_pays_the_oldest_before_settling(account):
    four_bills(account)
    pay(account, "150.00", settle=False)
    got = assert_agrees(account)
    assert got.periods == 3


def test_a_credit_note_settled_to_a_bill(account):
    bills = [bill(account, due, ("water", "100.00"), ("surcharge", "10.00")) for due in DUES[:3]]
    credit_note(account, "110.00", against=bills[1])
    assert_agrees(account)
    assert aging.account_aging(account=account, day=ON).periods == 2


def test_a_reversed_bill_frees_the_credit_that_paid_it(account):
    first = bill(account, DUES[0], ("water", "100.00"))
    bill(account, DUES[1], ("water", "80.00"))
    pay(account, "100.00")
    services.ledger_reverse(entry=first[0])
    got = assert_agrees(account)
    assert got.overdue == D("0.00") and got.balance == D("-20.00")


def test_not_yet_due_is_current_and_an_installment_is_a_period(account):
    bill(account, dt.date(2026, 7, 15), ("water", "40.00"))
    for n, due in enumerate((dt.date(2026, 5, 1), dt.date(2026, 6, 1)), start=1):
        services.ledger_post(
            account=account,
            document_type="agreement",
            document_id=77,
            concept="installment",
            amount=D("30.00") * n,
            due_date=due,
        )
    got = assert_agrees(account)
    assert got.current == D("40.00") and got.periods == 2


def test_every_account_in_one_statement_equals_each_account_alone(place):
    accounts = [add_account(place, m3=10) for _ in range(4)]
    for i, acc in enumerate(accounts):
        four_bills(acc)
        if i:
            pay(acc, str(90 * i), settle=i % 2 == 1)
    both = aging.accounts_aging(day=ON)
    for acc in accounts:
        assert both[acc.pk] == aging.account_aging(account=acc, day=ON)
        assert_agrees(acc)


def test_discounts_and_an_overpayment_that_pay_everything_leave_nothing_owed(account):
    for due in DUES:
        bill(account, due, ("water", "100.00"), ("discount", "-10.00"))
    pay(account, "460.00")
    got = assert_agrees(account)
    assert got.overdue == 0 and got.current == 0 and got.balance == D("-100.00")


def test_a_settlement_takes_its_debits_due_date_whatever_the_writer_passed(account):
    """The summary statement buckets settlements by ``debit_due``: the table's trigger copies
    it from the debit (its due date, else the day posted), overriding what the writer gave."""
    from billing.models import LedgerEntry, Settlement

    bill(account, DUES[1], ("water", "100.00"))
    pay(account, "40.00", settle=False)
    debit = LedgerEntry.objects.get(account=account, amount__gt=0)
    credit = LedgerEntry.objects.get(account=account, amount__lt=0)
    made = Settlement.objects.create(
        account=account,
        debit=debit,
        credit=credit,
        amount=D("40.00"),
        debit_due=dt.date(2001, 1, 1),
    )
    made.refresh_from_db()
    assert made.debit_due == DUES[1]


def test_a_bill_line_reversed_alone_leaves_its_discount_to_pay_the_oldest_debt(account):
    """A bill's discount nets inside its bill; reversing the bill's charge alone leaves the
    discount over, and that free credit pays the oldest debt — the summary statement takes
    such an account through the exact path and agrees."""
    bill(account, DUES[0], ("water", "50.00"))
    water, _discount = bill(account, DUES[2], ("water", "100.00"), ("discount", "-10.00"))
    services.ledger_reverse(entry=water)
    got = assert_agrees(account)
    assert got.d91_180 + got.d180 == D("40.00") and got.d61_90 == 0


def test_discounted_bills_partly_paid_age_by_their_net_amounts(account):
    """The common case: bills with a discount, paid in part; every figure agrees in both
    statements with the per-account rule."""
    for due in DUES:
        bill(account, due, ("water", "100.00"), ("sewer", "20.00"), ("discount", "-15.00"))
    pay(account, "150.00")
    got = assert_agrees(account)
    assert got.overdue + got.current == D("420.00") - D("150.00")
