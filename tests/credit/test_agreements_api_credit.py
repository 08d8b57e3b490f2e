"""Signing an agreement through /api/agreements/ goes through credit control as the desk
does: a customer who breached two agreements is refused, one breach needs a manager's
authorization (of the logged check), a clean history signs and shows the decision."""

import datetime as dt

import pytest
from django.utils import timezone

from billing.agreements.models import Agreement
from billing.credit.control import credit_authorize
from billing.credit.models import CreditCheck
from core import roles
from tests.agreements.factories import JAN, debit
from tests.billing.factories import add_account, town
from tests.credit.factories import breached_agreement
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/agreements/agreements/"


@pytest.fixture
def owed():
    account = add_account(town(), m3=10)
    debit(account, 1, "water", "600.00", JAN)
    return account


@pytest.fixture
def desk(client):
    user = UserFactory(username="atencion", roles=[roles.CUSTOMER_SERVICE])
    client.force_login(user)
    return user


def terms(account, **extra):
    return {
        "account": account.pk,
        "down_payment": "100.00",
        "installments": 3,
        "first_due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        **extra,
    }


def breaches(account, n):
    user = UserFactory(username=f"firmo{n}")
    for i in range(n):
        breached_agreement(account, user, closed=timezone.localdate() - dt.timedelta(days=40 + i))


def sign(client, body):
    # The reasons are read in English here; the desk sees them in Spanish.
    return client.post(API, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def test_two_breached_agreements_refuse_the_sign_with_the_reasons(client, owed, desk):
    breaches(owed, 2)
    refused = sign(client, terms(owed))
    assert refused.status_code == 409, refused.content
    assert refused.json()["code"] == "credit_refused"
    assert "breached in the last 24 months: 2" in refused.json()["detail"]
    assert not Agreement.objects.filter(status="current").exists()
    # The refusal stays in the credit log.
    assert CreditCheck.objects.get(point="agreement").decision == "refuse"


def test_one_breach_needs_a_managers_authorization_of_the_logged_check(client, owed, desk):
    breaches(owed, 1)
    asked = sign(client, terms(owed))
    assert (asked.status_code, asked.json()["code"]) == (409, "authorization_required")
    assert not Agreement.objects.filter(status="current").exists()
    check = CreditCheck.objects.get(point="agreement", decision="authorize")
    assert f"check {check.pk}" in asked.json()["detail"]

    # An unauthorized check does not open the door.
    again = sign(client, terms(owed, credit_authorization=check.pk))
    assert again.json()["code"] == "authorization_required"

    manager = UserFactory(username="gerente", roles=[roles.MANAGER])
    credit_authorize(check_id=check.pk, user=manager, note="Pagó el anterior al final")
    signed = sign(client, terms(owed, credit_authorization=check.pk))
    assert signed.status_code == 201, signed.content
    assert signed.json()["credit"]["decision"] == "authorize"
    assert Agreement.objects.get(status="current").account_id == owed.pk


def test_a_clean_history_signs_and_returns_the_decision(client, owed, desk):
    signed = sign(client, terms(owed))
    assert signed.status_code == 201, signed.content
    credit = signed.json()["credit"]
    assert credit["decision"] == "inform" and credit["reasons"]
    assert CreditCheck.objects.get(pk=credit["check"]).account_id == owed.pk
