"""billing.selectors read by other apps."""

from decimal import Decimal as D

import pytest

from billing.payments import services as payment_services
from billing.selectors import recent_bills_and_payments
from tests.factories import UserFactory
from tests.payments.factories import bank_payment, billed_town

pytestmark = pytest.mark.django_db


def test_recent_bills_and_payments_keeps_the_newest_of_each_account():
    _town, bills = billed_town(2)
    first, second = (b.account_id for b in bills)
    p1 = bank_payment(first, "1.00")
    p2 = bank_payment(first, "2.00")
    p3 = bank_payment(first, "3.00")
    bank_payment(second, "4.00")
    payment_services.payment_reverse(payment=p3, reason="cheque devuelto", user=UserFactory())

    recent_bills, payments = recent_bills_and_payments(account_ids=[first, second], limit=2)

    assert [b["id"] for b in recent_bills[first]] == [bills[0].pk]
    assert [b["id"] for b in recent_bills[second]] == [bills[1].pk]
    assert [(p["payment"], p["reversed"]) for p in payments[first]] == [
        (p3.pk, True),
        (p2.pk, False),
    ]
    assert p1.pk not in [p["payment"] for p in payments[first]]
    assert [p["amount"] for p in payments[second]] == [str(D("4.00"))]
