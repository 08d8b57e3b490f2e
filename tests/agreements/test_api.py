"""The adjustments and agreements API: thin views, permissions by role, refusals as codes,
money as decimal strings; and the history that makes every decision traceable."""

import datetime as dt
from decimal import Decimal as D

import pghistory.models
import pytest
from django.utils import timezone

from billing import selectors as billing_selectors
from billing.agreements.models import Adjustment, Agreement
from core import roles
from tests.agreements.factories import FEB, JAN, debit, pay
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/agreements"


def logged(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def owed(account):
    debit(account, 1, "water", "400.00", JAN)
    debit(account, 1, "sewer", "100.00", JAN)
    debit(account, 2, "water", "500.00", FEB)
    return account


def test_desk_requests_a_clerk_approves_and_a_second_approval_is_a_conflict(
    client, account, desk, clerk
):
    debit(account, 1, "water", "100.00", JAN)
    logged(client, desk)
    made = client.post(
        f"{API}/adjustments/",
        {
            "account": account.pk,
            "kind": "credit_note",
            "amount": "40.50",
            "reason": "hidden_leak",
            "note": "fuga en cisterna",
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["status"], body["amount"], body["requested_by"]) == (
        "requested",
        "40.50",
        "atencion",
    )
    pk = body["id"]
    # Customer service has no approval permission at all.
    assert client.post(f"{API}/adjustments/{pk}/approve/").status_code == 403

    logged(client, clerk)
    approved = client.post(
        f"{API}/adjustments/{pk}/approve/", {"note": "ok"}, content_type="application/json"
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "facturacion"
    assert approved.json()["approved_under"].startswith(roles.BILLING_CLERK)
    assert billing_selectors.account_balance(account=account) == D("59.50")

    again = client.post(f"{API}/adjustments/{pk}/approve/")
    assert (again.status_code, again.json()["code"]) == (409, "not_pending")

    listed = client.get(f"{API}/adjustments/", {"status": "approved", "account": account.pk})
    assert [a["id"] for a in listed.json()] == [pk]
    reasons = client.get(f"{API}/reasons/").json()
    assert "hidden_leak" in {r["code"] for r in reasons}


def test_the_requester_is_told_they_cannot_approve_their_own_request(client, account, manager):
    logged(client, manager)
    pk = client.post(
        f"{API}/adjustments/",
        {"account": account.pk, "kind": "debit_note", "amount": "10.00", "reason": "meter_damage"},
        content_type="application/json",
    ).json()["id"]
    refused = client.post(f"{API}/adjustments/{pk}/approve/")
    assert (refused.status_code, refused.json()["code"]) == (403, "own_request")


def test_every_decision_is_in_the_history_with_its_user(client, account, desk, clerk):
    adjustment_id = (
        logged(client, desk)
        .post(
            f"{API}/adjustments/",
            {"account": account.pk, "kind": "credit_note", "amount": "5.00", "reason": "other"},
            content_type="application/json",
        )
        .json()["id"]
    )
    logged(client, clerk).post(
        f"{API}/adjustments/{adjustment_id}/reject/",
        {"note": "sin soporte"},
        content_type="application/json",
    )
    adjustment = Adjustment.objects.get(pk=adjustment_id)
    [update] = pghistory.models.Events.objects.tracks(adjustment).filter(pgh_label="update")
    assert update.pgh_diff["status"] == ["requested", "rejected"]
    assert update.pgh_context["user"] == clerk.pk


def test_the_report_and_its_csv_are_for_managers(client, account, desk, manager):
    debit(account, 1, "water", "100.00", JAN)
    logged(client, desk)
    pk = client.post(
        f"{API}/adjustments/",
        {"account": account.pk, "kind": "credit_note", "amount": "12.34", "reason": "other"},
        content_type="application/json",
    ).json()["id"]
    today = timezone.localdate().isoformat()
    assert client.get(f"{API}/adjustments/report/", {"date_from": today}).status_code == 403
    logged(client, manager).post(f"{API}/adjustments/{pk}/approve/")
    rows = client.get(f"{API}/adjustments/report/", {"date_from": today, "date_to": today}).json()
    assert [(r["requested_by_username"], r["credit_count"], r["credit_amount"]) for r in rows] == [
        ("atencion", 1, "12.34")
    ]
    csv = client.get(f"{API}/adjustments/report/csv/", {"date_from": today, "date_to": today})
    assert csv["Content-Type"].startswith("text/csv")
    assert "12.34" in csv.content.decode()
    bad = client.get(f"{API}/adjustments/report/", {"date_from": today, "date_to": "2000-01-01"})
    assert bad.status_code == 400


def test_desk_simulates_signs_and_reads_an_agreement(client, owed, desk):
    logged(client, desk)
    terms = {
        "account": owed.pk,
        "down_payment": "100.00",
        "installments": 3,
        "first_due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        "monthly_rate": "0.02",
    }
    simulated = client.post(f"{API}/agreements/simulate/", terms, content_type="application/json")
    assert simulated.status_code == 200, simulated.content
    assert (simulated.json()["debt"], simulated.json()["interest"]) == ("1000.00", "36.00")
    assert [line["amount"] for line in simulated.json()["schedule"]] == [
        "100.00",
        "318.00",
        "312.00",
        "306.00",
    ]
    assert not Agreement.objects.exists()

    signed = client.post(f"{API}/agreements/", terms, content_type="application/json")
    assert signed.status_code == 201, signed.content
    pk = signed.json()["id"]
    assert signed.json()["grace_days"] == 10
    again = client.post(f"{API}/agreements/", terms, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "agreement_exists")

    pay(owed, "150.00")
    detail = client.get(f"{API}/agreements/{pk}/").json()
    assert [(line["paid"], line["open"], line["state"]) for line in detail["schedule"]] == [
        ("100.00", "0.00", "paid"),
        ("50.00", "268.00", "open"),
        ("0.00", "312.00", "open"),
        ("0.00", "306.00", "open"),
    ]
    assert [a["id"] for a in client.get(f"{API}/agreements/", {"status": "current"}).json()] == [pk]

    cancelled = client.post(
        f"{API}/agreements/{pk}/cancel/", {"reason": "desistió"}, content_type="application/json"
    )
    assert cancelled.json()["status"] == "cancelled"
    # The 150.00 paid the down payment, installment 1's interest (18.00, kept: it was paid)
    # and 32.00 of its principal: 1,000.00 + 18.00 - 150.00.
    assert billing_selectors.account_balance(account=owed) == D("868.00")


def test_only_staff_with_the_permission_runs_the_breach_check(client, owed, desk, manager):
    logged(client, desk)
    terms = {
        "account": owed.pk,
        "down_payment": "100.00",
        "installments": 3,
        "first_due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
    }
    pk = client.post(f"{API}/agreements/", terms, content_type="application/json").json()["id"]
    day = (timezone.localdate() + dt.timedelta(days=11)).isoformat()
    assert client.post(f"{API}/agreements/check/", {"day": day}).status_code == 403
    checked = logged(client, manager).post(
        f"{API}/agreements/check/", {"day": day}, content_type="application/json"
    )
    assert checked.json() == {"day": day, "breached": [pk], "completed": []}
    assert billing_selectors.account_balance(account=owed) == D("1000.00")


def test_readers_of_all_read_but_do_not_sign(client, owed):
    auditor = UserFactory(username="auditora", roles=[roles.AUDITOR])
    logged(client, auditor)
    assert client.get(f"{API}/agreements/").status_code == 200
    assert client.get(f"{API}/adjustments/").status_code == 200
    terms = {
        "account": owed.pk,
        "down_payment": "0.00",
        "installments": 2,
        "first_due_date": "2099-01-01",
    }
    assert client.post(f"{API}/agreements/", terms).status_code == 403
