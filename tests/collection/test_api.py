"""The collections API: the aging report and its CSV, actions, the notice PDF, evaluation,
large consumers, and who may use them."""

import datetime as dt
from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from billing.collection import services
from billing.collection.models import CollectionAction
from core import roles
from tests.billing.factories import add_account, town
from tests.collection.helpers import bill
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DUES = [dt.date(2026, 1, 15), dt.date(2026, 2, 15), dt.date(2026, 3, 15)]


def client_as(*role_codes, username="u"):
    client = APIClient()
    client.force_authenticate(UserFactory(username=username, roles=list(role_codes)))
    return client


@pytest.fixture
def account():
    acc = add_account(town(), m3=10)
    for due in DUES:
        bill(acc, due, ("water", "100.00"), ("vat", "16.00"))
    return acc


def test_the_aging_report_groups_amounts_and_counts_by_use_type(account):
    client = client_as(roles.COLLECTOR)
    response = client.get("/api/collection/aging/", {"day": "2026-03-20", "group_by": "use_type"})
    assert response.status_code == 200, response.content
    (row,) = response.json()
    assert row["key"] == "domestic" and row["accounts"] == 1
    assert row["d0_30"] == row["d31_60"] == row["d61_90"] == "116.00"
    assert row["overdue"] == "348.00"
    assert row["n_d0_30"] == 1 and row["n_overdue"] == 1


def test_the_aging_report_exports_csv_with_spanish_headers(account):
    client = client_as(roles.MANAGER)
    response = client.get(
        "/api/collection/aging/csv/",
        {"day": "2026-03-20", "group_by": "total"},
        HTTP_ACCEPT_LANGUAGE="es-mx",
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert len(lines) == 2 and "348.00" in lines[1]


def test_one_accounts_aging_lists_the_documents_it_owes(account):
    client = client_as(roles.BILLING_CLERK)
    response = client.get(f"/api/collection/accounts/{account.pk}/aging/", {"day": "2026-03-20"})
    assert response.status_code == 200
    data = response.json()
    assert data["periods"] == 3 and data["days_overdue"] == 64
    assert [d["days_overdue"] for d in data["documents"]] == [64, 33, 5]


def test_evaluate_for_some_accounts_then_list_and_print_the_notice(account):
    manager = client_as(roles.MANAGER, username="jefe")
    for day in ("2026-01-16", "2026-02-16"):
        response = manager.post(
            "/api/collection/evaluate/", {"day": day, "accounts": [account.pk]}, format="json"
        )
        assert response.status_code == 200, response.content
    assert response.json()["actions"] == {"formal_notice": 1}
    collector = client_as(roles.COLLECTOR, username="gestor")
    listed = collector.get("/api/collection/actions/", {"account": account.pk}).json()
    assert [a["kind"] for a in listed] == ["formal_notice", "reminder"]
    notice = listed[0]
    assert notice["deadline"] == "2026-02-26" and notice["amount_owed"] == "232.00"
    pdf = collector.get(f"/api/collection/actions/{notice['id']}/notice.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"232.00" in pdf.content


def test_cancelling_an_action_needs_a_reason_and_happens_once(account):
    services.collection_evaluate(day=dt.date(2026, 1, 16), account_ids=[account.pk])
    action = CollectionAction.objects.get(account=account)
    client = client_as(roles.COLLECTOR)
    url = f"/api/collection/actions/{action.pk}/cancel/"
    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"reason": "Pagó en ventanilla"}, format="json").status_code == 200
    again = client.post(url, {"reason": "Otra vez"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "not_open"


def test_large_consumers_are_marked_and_listed(account):
    client = client_as(roles.MANAGER)
    response = client.post(
        "/api/collection/large-consumers/", {"top": 5, "by": "debt"}, format="json"
    )
    assert response.status_code == 200 and response.json() == {"added": 1}
    listed = client.get("/api/collection/large-consumers/").json()
    assert listed[0]["account"] == account.pk and listed[0]["basis"] == "debt"


def test_cashiers_see_no_aging_and_collectors_cannot_evaluate(account):
    assert client_as(roles.CASHIER).get("/api/collection/aging/").status_code == 403
    response = client_as(roles.COLLECTOR).post(
        "/api/collection/evaluate/", {"accounts": [account.pk]}, format="json"
    )
    assert response.status_code == 403


def test_readers_of_all_read_the_report(account):
    response = client_as(roles.AUDITOR).get("/api/collection/aging/", {"group_by": "sector"})
    assert response.status_code == 200
    assert sum(D(r["balance"]) for r in response.json()) == D("348.00")
