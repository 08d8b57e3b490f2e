"""The online channel: HMAC-signed requests (401 otherwise) and Idempotency-Key (one payment
per key, the stored answer on a retry, 422 for the key reused with another body)."""

import json
import time
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from billing import selectors as billing_selectors
from billing.payments.models import IdempotencyRecord, Payment, PaymentClient
from billing.payments.online import sign
from tests.billing.factories import add_account, town
from tests.payments.factories import JAN, debit

pytestmark = pytest.mark.django_db

URL = "/api/payments/online/"
SECRET = "s3cr3t-portal-key"


@pytest.fixture
def portal():
    return PaymentClient.objects.create(name="Portal web", key_id="portal", secret=SECRET)


@pytest.fixture
def account():
    a = add_account(town(), m3=10)
    debit(a, 1, "water", "300.00", JAN)
    return a


def body_of(account, amount="120.00", gateway_reference="gw-1", **extra):
    return {
        "account": account.number,
        "amount": amount,
        "method": "04",
        "paid_at": "2026-04-15T10:30:00-06:00",
        "gateway_reference": gateway_reference,
        **extra,
    }


def post(body, *, key="portal", secret=SECRET, timestamp=None, idempotency="idem-1", raw=None):
    raw = raw if raw is not None else json.dumps(body).encode()
    timestamp = str(int(time.time())) if timestamp is None else str(timestamp)
    headers = {
        "HTTP_X_CAUDAL_KEY": key,
        "HTTP_X_CAUDAL_TIMESTAMP": timestamp,
        "HTTP_X_CAUDAL_SIGNATURE": sign(secret=secret, timestamp=timestamp, body=raw),
    }
    if idempotency:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency
    return APIClient().generic("POST", URL, raw, content_type="application/json", **headers)


def test_a_signed_payment_posts_and_answers_201_with_its_allocation(portal, account):
    response = post(body_of(account))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["amount"] == "120.00"
    assert data["reference"] == "portal:gw-1"
    assert data["allocation"] == [
        {
            "bill_id": 1,
            "document_type": "bill",
            "document_id": 1,
            "concept": "water",
            "amount": "120.00",
        }
    ]
    assert data["balance"] == "180.00"
    payment = Payment.objects.get()
    assert payment.channel == "online"


def test_a_wrong_signature_is_401(portal, account):
    response = post(body_of(account), secret="not-the-secret")
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert Payment.objects.count() == 0


def test_a_stale_timestamp_is_401(portal, account):
    response = post(body_of(account), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert Payment.objects.count() == 0


def test_an_unknown_or_inactive_key_is_401(portal, account):
    assert post(body_of(account), key="nobody").status_code == 401
    portal.active = False
    portal.save()
    assert post(body_of(account)).status_code == 401
    assert Payment.objects.count() == 0


def test_an_unsigned_request_is_401_with_a_translatable_message(portal, account):
    from scripts.es_mx.payments import ES_MX

    response = APIClient().post(URL, body_of(account), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json()["detail"] == "The request is not signed."
    # Spanish once the catalog is compiled (scripts/es_mx/payments.py).
    assert ES_MX["The request is not signed."] == "La solicitud no está firmada."


def test_a_body_altered_after_signing_is_401(portal, account):
    timestamp = str(int(time.time()))
    signed = json.dumps(body_of(account)).encode()
    altered = json.dumps(body_of(account, amount="1.00")).encode()
    response = APIClient().generic(
        "POST",
        URL,
        altered,
        content_type="application/json",
        HTTP_X_CAUDAL_KEY="portal",
        HTTP_X_CAUDAL_TIMESTAMP=timestamp,
        HTTP_X_CAUDAL_SIGNATURE=sign(secret=SECRET, timestamp=timestamp, body=signed),
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert response.status_code == 401


def test_a_retry_with_the_same_key_gets_the_stored_answer_and_posts_nothing(portal, account):
    first = post(body_of(account))
    again = post(body_of(account))
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert Payment.objects.count() == 1


def test_the_same_key_with_another_body_is_rejected_422(portal, account):
    post(body_of(account))
    response = post(body_of(account, amount="99.00"))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_a_refusal_is_stored_and_answered_again(portal, account):
    first = post(body_of(account, amount="12.345"))
    assert first.status_code == 400
    assert post(body_of(account, amount="12.345")).json() == first.json()
    assert IdempotencyRecord.objects.get().response_status == 400


def test_the_idempotency_key_is_required(portal, account):
    response = post(body_of(account), idempotency="")
    assert response.status_code == 400
    assert response.json()["code"] == "no_idempotency_key"


def test_a_json_number_amount_is_refused(portal, account):
    body = body_of(account)
    body["amount"] = 120.5
    assert post(body).status_code == 400
    assert Payment.objects.count() == 0


def test_a_gateway_reference_posts_once_even_under_another_key(portal, account):
    post(body_of(account), idempotency="a")
    response = post(body_of(account), idempotency="b")
    assert response.status_code == 409
    assert response.json()["code"] == "reference_used"
    assert billing_selectors.account_balance(account=account) == D("180.00")


def test_a_client_reads_the_status_of_its_payment(portal, account):
    payment_id = post(body_of(account)).json()["id"]
    timestamp = str(int(time.time()))
    response = APIClient().get(
        f"{URL}{payment_id}/",
        HTTP_X_CAUDAL_KEY="portal",
        HTTP_X_CAUDAL_TIMESTAMP=timestamp,
        HTTP_X_CAUDAL_SIGNATURE=sign(secret=SECRET, timestamp=timestamp, body=b""),
    )
    assert response.status_code == 200
    assert response.json()["status"] == "posted"
    PaymentClient.objects.create(name="Otro", key_id="otro", secret="x")
    other = APIClient().get(
        f"{URL}{payment_id}/",
        HTTP_X_CAUDAL_KEY="otro",
        HTTP_X_CAUDAL_TIMESTAMP=timestamp,
        HTTP_X_CAUDAL_SIGNATURE=sign(secret="x", timestamp=timestamp, body=b""),
    )
    assert other.status_code == 404
