"""The credit API: the clerk's real-time check, a manager's authorization, the collector's
log, worklist and route, the managers' escalations; each behind its permission."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from billing.credit import services
from billing.credit.models import CollectionContact, CreditCheck
from core import roles
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.credit.factories import at, debt
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DAYS = dt.timedelta(days=1)


def login(client, role, username=None):
    user = UserFactory(username=username or role, roles=[role])
    client.force_login(user)
    return user


def owing_account(amount="1500.00"):
    account = ServiceAccountFactory()
    debt(account, amount, due=timezone.localdate() - 10 * DAYS)
    return account


def test_clerk_gets_the_decision_in_real_time_and_it_is_logged(client):
    clerk = login(client, roles.CUSTOMER_SERVICE)
    account = owing_account()
    with translation.override("en"):
        answer = client.get(
            "/api/credit/check/",
            {"point": "new_contract", "customer": account.customer_id},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["decision"] == "authorize"
    assert body["figures"]["overdue_amount"] == "1500.00"
    assert body["reasons"] == ["The customer owes $1,500.00 past due."]
    assert CreditCheck.objects.get(pk=body["check_id"]).checked_by == clerk


def test_check_without_a_subject_is_refused_with_its_code(client):
    login(client, roles.BILLING_CLERK)
    answer = client.get("/api/credit/check/", {"point": "new_contract"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "subject_required"


def test_collectors_do_not_run_credit_checks(client):
    login(client, roles.COLLECTOR)
    answer = client.get(
        "/api/credit/check/", {"point": "new_contract", "account": owing_account().pk}
    )
    assert answer.status_code == 403


def test_a_manager_authorizes_another_users_check(client):
    clerk = UserFactory(username="ventanilla", roles=[roles.CUSTOMER_SERVICE])
    from billing.credit.control import credit_check

    check = credit_check(point="new_contract", customer=owing_account().customer, user=clerk)
    manager = login(client, roles.MANAGER)
    answer = client.post(
        f"/api/credit/checks/{check.check_id}/authorize/",
        {"note": "Cliente con convenio en trámite"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["authorized_by"] == manager.username
    again = client.post(
        f"/api/credit/checks/{check.check_id}/authorize/",
        {"note": "otra vez"},
        content_type="application/json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_authorized")


def test_clerks_cannot_authorize(client):
    login(client, roles.CUSTOMER_SERVICE)
    answer = client.post(
        "/api/credit/checks/1/authorize/", {"note": "x"}, content_type="application/json"
    )
    assert answer.status_code == 403


def test_collector_logs_a_visit_with_a_promise_and_sees_it_in_the_worklist(client):
    collector = login(client, roles.COLLECTOR)
    account = owing_account("300.00")
    today = timezone.localdate()
    answer = client.post(
        "/api/credit/contacts/",
        {
            "account": account.pk,
            "kind": "visit",
            "result": "promise",
            "note": "Paga el viernes",
            "lon": -99.1332,
            "lat": 19.4326,
            "promise_date": today.isoformat(),
            "promise_amount": "300.00",
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["promise_amount"], body["promise_status"]) == ("300.00", "open")
    assert body["lonlat"] == [-99.1332, 19.4326]
    assert CollectionContact.objects.get().collector == collector

    rows = client.get("/api/credit/worklist/", {"day": today.isoformat()}).json()
    assert [(r["number"], r["overdue"], r["promise_amount"]) for r in rows] == [
        (account.number, "300.00", "300.00")
    ]
    route = client.get("/api/credit/route/", {"day": today.isoformat()}).json()
    assert route["method"] == "straight_line"
    assert [s["number"] for s in route["stops"]] == [account.number]


def test_a_collector_sees_only_their_own_worklist(client):
    other = UserFactory(username="otro", roles=[roles.COLLECTOR])
    login(client, roles.COLLECTOR)
    answer = client.get("/api/credit/worklist/", {"collector": other.pk})
    assert answer.status_code == 403


def test_a_manager_asking_for_an_unknown_collector_is_told_so(client):
    login(client, roles.MANAGER)
    answer = client.get("/api/credit/worklist/", {"collector": 987654})
    assert answer.status_code == 404
    assert (answer.json()["code"], answer.json()["field"]) == ("collector_unknown", "collector")


def test_managers_see_escalations_and_collectors_do_not(client):
    collector = UserFactory(username="cobrador", roles=[roles.COLLECTOR])
    account = ServiceAccountFactory()
    day = dt.date(2026, 6, 1)
    services.contact_log(
        account=account,
        collector=collector,
        kind="call",
        result="promise",
        at=at(day),
        promise_date=day,
        promise_amount=100,
    )
    services.promises_check(day=day + DAYS)
    client.force_login(collector)
    assert client.get("/api/credit/escalations/").status_code == 403
    login(client, roles.MANAGER)
    rows = client.get("/api/credit/escalations/").json()
    assert [(r["account_number"], r["amount"], r["paid"]) for r in rows] == [
        (account.number, "100.00", "0.00")
    ]
