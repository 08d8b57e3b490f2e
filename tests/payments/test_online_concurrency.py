"""50 requests with one Idempotency-Key at once, each on its own PostgreSQL connection (threads
through the real view, ``transaction=True``): exactly one payment, every answer the same, and a
balanced ledger."""

import json
import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connections
from rest_framework.test import APIClient

from billing import selectors as billing_selectors
from billing import settlement
from billing.models import LedgerEntry, Settlement
from billing.payments.models import IdempotencyRecord, Payment, PaymentClient
from billing.payments.online import sign
from tests.billing.factories import add_account, town
from tests.payments.factories import FEB, JAN, debit

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SECRET = "s3cr3t"


def test_fifty_concurrent_posts_with_one_key_make_exactly_one_payment():
    PaymentClient.objects.create(name="Pasarela", key_id="gw", secret=SECRET)
    account = add_account(town(), m3=10)
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 2, "water", "200.00", FEB)
    raw = json.dumps(
        {
            "account": account.number,
            "amount": "150.00",
            "method": "28",
            "paid_at": "2026-04-15T10:30:00-06:00",
            "gateway_reference": "tx-1",
        }
    ).encode()
    n = 50
    barrier = threading.Barrier(n)
    answers, errors = [], []

    def hit():
        try:
            timestamp = str(int(time.time()))
            barrier.wait(30)
            response = APIClient().generic(
                "POST",
                "/api/payments/online/",
                raw,
                content_type="application/json",
                HTTP_X_CAUDAL_KEY="gw",
                HTTP_X_CAUDAL_TIMESTAMP=timestamp,
                HTTP_X_CAUDAL_SIGNATURE=sign(secret=SECRET, timestamp=timestamp, body=raw),
                HTTP_IDEMPOTENCY_KEY="one-key",
            )
            answers.append((response.status_code, response.json()))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hit) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(answers) == n
    assert {status for status, _body in answers} == {201}
    assert len({json.dumps(body, sort_keys=True) for _status, body in answers}) == 1
    assert Payment.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    payment = Payment.objects.get()
    # Ledger: bills 300 - payment 150; settlements: the payment paid January, then 50 of Feb.
    assert billing_selectors.account_balance(account=account) == D("150.00")
    assert LedgerEntry.objects.filter(document_type="payment").count() == 1
    paid = {
        s.debit.document_id: s.amount
        for s in settlement.settled_by_credit(credit=payment.ledger_entry)
    }
    assert paid == {1: D("100.00"), 2: D("50.00")}
    assert Settlement.objects.count() == 2
    assert sum(i.open for i in settlement.open_items(account=account)) == D("150.00")


def test_concurrent_payments_of_one_account_never_settle_more_than_is_owed():
    """Ten payments of one account at once (each its own connection): the account lock makes
    allocation serial, so the 100.00 owed is settled once and the rest stays free credit."""
    from billing.payments import services
    from billing.payments.models import Channel, Method

    account = add_account(town(), m3=10)
    debit(account, 1, "water", "100.00", JAN)
    n = 10
    barrier = threading.Barrier(n)
    errors = []

    def pay(k):
        try:
            barrier.wait(30)
            services.payment_post(
                account=account.pk,
                amount=D("30.00"),
                channel=Channel.BANK,
                method=Method.TRANSFER,
                reference=f"T{k}",
            )
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert Payment.objects.count() == n
    assert sum(s.amount for s in Settlement.objects.filter(account=account)) == D("100.00")
    assert sum(c.amount for c in settlement.free_credits(account=account)) == D("200.00")
    assert billing_selectors.account_balance(account=account) == D("-200.00")
