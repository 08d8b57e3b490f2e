"""payment_post and payment_reverse: allocation oldest debt first, the configured concept
order, partial payments, overpayment as free credit, and bounced payments re-opening exactly
what they paid."""

from decimal import Decimal as D

import pytest

from billing import selectors as billing_selectors
from billing import settlement
from billing.models import LedgerEntry, Settlement
from billing.payments import selectors, services
from billing.payments.errors import PaymentError
from billing.payments.models import Channel, Method, Payment, PaymentStatus
from tests.billing.factories import add_account, town
from tests.payments.factories import FEB, JAN, MAR, bank_payment, debit

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return add_account(town(), m3=10)


def paid(payment):
    return {
        (a.document_id, a.concept): a.amount for a in selectors.payment_allocation(payment=payment)
    }


def opened(account):
    return {(i.document_id, i.concept): i.open for i in settlement.open_items(account=account)}


def test_a_payment_posts_one_credit_entry_whose_document_is_the_payment(account):
    debit(account, 1, "water", "100.00", JAN)
    payment = bank_payment(account, "40.00", reference="BBVA:1")
    entry = LedgerEntry.objects.get(pk=payment.ledger_entry_id)
    assert (entry.document_type, entry.document_id, entry.concept, entry.amount) == (
        "payment",
        payment.pk,
        "payment",
        D("-40.00"),
    )
    assert payment.status == PaymentStatus.POSTED
    assert billing_selectors.account_balance(account=account) == D("60.00")


def test_the_oldest_debt_is_paid_first_and_the_surcharge_before_its_water(account):
    debit(account, 2, "water", "80.00", FEB)
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 1, "surcharge", "10.00", JAN)
    payment = bank_payment(account, "50.00")
    assert paid(payment) == {(1, "surcharge"): D("10.00"), (1, "water"): D("40.00")}
    assert opened(account) == {(1, "water"): D("60.00"), (2, "water"): D("80.00")}


def test_the_configured_concept_order_is_followed(account, settings):
    settings.CAUDAL_SETTLEMENT_CONCEPT_ORDER = ("vat", "water", "surcharge")
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 1, "surcharge", "10.00", JAN)
    debit(account, 1, "vat", "16.00", JAN)
    payment = bank_payment(account, "20.00")
    assert paid(payment) == {(1, "vat"): D("16.00"), (1, "water"): D("4.00")}


def test_a_partial_payment_leaves_the_rest_of_the_bill_open(account):
    debit(account, 1, "water", "100.00", JAN)
    bank_payment(account, "30.00")
    bank_payment(account, "25.50")
    assert opened(account) == {(1, "water"): D("44.50")}


def test_an_overpayment_stays_as_credit_and_pays_the_next_bill(account):
    debit(account, 1, "water", "100.00", JAN)
    payment = bank_payment(account, "150.00")
    assert opened(account) == {}
    [credit] = settlement.free_credits(account=account)
    assert (credit.entry_id, credit.amount) == (payment.ledger_entry_id, D("50.00"))
    debit(account, 2, "water", "80.00", FEB)
    # The next payment settles the account: the old credit is applied first.
    later = bank_payment(account, "10.00")
    assert paid(payment) == {(1, "water"): D("100.00"), (2, "water"): D("50.00")}
    assert paid(later) == {(2, "water"): D("10.00")}
    assert opened(account) == {(2, "water"): D("20.00")}


def test_reversing_a_bounced_cheque_reopens_exactly_what_it_paid(account):
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 2, "water", "100.00", FEB)
    cheque = bank_payment(account, "100.00", method=Method.CHEQUE)
    transfer = bank_payment(account, "30.00")
    assert paid(transfer) == {(2, "water"): D("30.00")}
    reversed_ = services.payment_reverse(payment=cheque, reason="cheque devuelto", user=None)
    assert reversed_.status == PaymentStatus.REVERSED
    assert reversed_.reversed_at is not None
    # January is owed again in full; what the transfer paid of February stays paid.
    assert opened(account) == {(1, "water"): D("100.00"), (2, "water"): D("70.00")}
    assert paid(transfer) == {(2, "water"): D("30.00")}
    assert paid(cheque) == {}
    assert billing_selectors.account_balance(account=account) == D("170.00")


def test_reversal_lets_other_free_credit_pay_the_reopened_debt(account):
    debit(account, 1, "water", "100.00", JAN)
    cheque = bank_payment(account, "100.00", method=Method.CHEQUE)
    extra = bank_payment(account, "60.00")  # nothing owed: free credit
    assert paid(extra) == {}
    services.payment_reverse(payment=cheque, reason="cheque devuelto", user=None)
    assert paid(extra) == {(1, "water"): D("60.00")}
    assert opened(account) == {(1, "water"): D("40.00")}


def test_reversing_twice_is_a_conflict(account):
    payment = bank_payment(account, "10.00")
    services.payment_reverse(payment=payment, reason="contracargo", user=None)
    with pytest.raises(PaymentError) as refused:
        services.payment_reverse(payment=payment, reason="otra vez", user=None)
    assert (refused.value.code, refused.value.status) == ("already_reversed", 409)
    assert LedgerEntry.objects.filter(document_type="payment").count() == 2


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (12.5, "not_decimal"),
        (D("0"), "bad_amount"),
        (D("-5"), "bad_amount"),
        (D("1.005"), "bad_amount"),
    ],
)
def test_floats_zero_negative_and_sub_cent_amounts_are_refused(account, amount, code):
    with pytest.raises(PaymentError) as refused:
        services.payment_post(
            account=account, amount=amount, channel=Channel.BANK, method=Method.TRANSFER
        )
    assert refused.value.code == code
    assert Payment.objects.count() == 0


def test_the_database_refuses_a_payment_whose_entry_is_not_its_own(account):
    from django.db import DatabaseError, transaction

    payment = bank_payment(account, "10.00")
    other = bank_payment(account, "20.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(ledger_entry=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=D("11.00"))
    assert other.ledger_entry_id != payment.ledger_entry_id


def test_settlements_match_the_ledger_after_many_payments(account):
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 2, "water", "100.00", FEB)
    debit(account, 3, "water", "100.00", MAR)
    payments = [bank_payment(account, a) for a in ("70.00", "70.00", "70.00", "100.00")]
    services.payment_reverse(payment=payments[1], reason="contracargo", user=None)
    settled = sum(
        (s.amount for p in payments for s in settlement.settled_by_credit(credit=p.ledger_entry)),
        D("0"),
    )
    # 300 owed, 240 live paid: all of it applied, 60 open.
    assert settled == D("240.00")
    assert sum(i.open for i in settlement.open_items(account=account)) == D("60.00")
    assert billing_selectors.account_balance(account=account) == D("60.00")
    assert Settlement.objects.filter(account=account).exists()
