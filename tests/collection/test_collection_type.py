"""Judicial and special collection: moving an account is logged with who and why, a judicial
account is suspended by nobody and gets its "turned to legal" action with a demand letter,
and the API shows and changes the type."""

import datetime as dt

import pytest

from billing.collection import services
from billing.collection.errors import CollectionError
from billing.collection.models import (
    AccountCollectionType,
    ActionStatus,
    CollectionAction,
    CollectionTypeChange,
)
from core import roles
from tests.billing.factories import add_account, town
from tests.collection.helpers import bill
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DUES = [dt.date(2026, 1, 15), dt.date(2026, 2, 15), dt.date(2026, 3, 15)]
NIGHTS = [dt.date(2026, 1, 16), dt.date(2026, 2, 16), dt.date(2026, 3, 16)]
API = "/api/collection"


@pytest.fixture
def account():
    acc = add_account(town(), m3=10)
    for due in DUES:
        bill(acc, due, ("water", "100.00"))
    return acc


@pytest.fixture
def manager():
    return UserFactory(username="gerente", roles=[roles.MANAGER])


def kinds(account):
    return list(
        CollectionAction.objects.filter(account=account)
        .order_by("pk")
        .values_list("kind", "status")
    )


def test_turned_to_legal_withdraws_the_pending_suspension_and_opens_the_legal_action(
    account, manager
):
    for night in NIGHTS:
        services.collection_evaluate(day=night, account_ids=[account.pk])
    suspension = CollectionAction.objects.get(account=account, kind="suspension")
    assert suspension.work_order.status == "created"

    change = services.collection_type_change(
        account=account,
        collection_type="judicial",
        reason="Adeudo sin respuesta a tres avisos",
        user=manager,
        day=dt.date(2026, 3, 20),
    )
    assert (change.from_type, change.to_type, change.decided_by) == ("normal", "judicial", manager)
    suspension.refresh_from_db()
    suspension.work_order.refresh_from_db()
    assert suspension.status == ActionStatus.CANCELLED
    assert suspension.work_order.status == "cancelled"
    legal = change.action
    assert (legal.kind, legal.status, legal.step) == ("judicial", "issued", 4)
    assert legal.note == "Adeudo sin respuesta a tres avisos"
    assert legal.amount_owed == 300 and legal.episode_id == change.episode_id
    assert kinds(account) == [
        ("reminder", "superseded"),
        ("formal_notice", "superseded"),
        ("suspension", "cancelled"),
        ("judicial", "issued"),
    ]
    stored = AccountCollectionType.objects.get(account=account)
    assert (stored.collection_type, stored.changed_by) == ("judicial", manager)

    # The nights after: no automatic suspension, no second referral.
    bill(account, dt.date(2026, 4, 15), ("water", "100.00"))
    for night in (dt.date(2026, 4, 16), dt.date(2026, 5, 16)):
        services.collection_evaluate(day=night, account_ids=[account.pk])
    assert len(kinds(account)) == 4


def test_an_account_judicial_before_it_owes_is_referred_by_its_ladder_never_suspended(
    account, manager
):
    change = services.collection_type_change(
        account=account,
        collection_type="judicial",
        reason="Juicio en curso",
        user=manager,
        day=dt.date(2026, 1, 1),
    )
    assert change.action is None  # nothing past due yet
    for night in NIGHTS:
        services.collection_evaluate(day=night, account_ids=[account.pk])
    assert kinds(account) == [("judicial", "issued")]


def test_a_change_needs_a_reason_and_a_new_type(account, manager):
    with pytest.raises(CollectionError) as refused:
        services.collection_type_change(
            account=account, collection_type="special", reason=" ", user=manager
        )
    assert refused.value.code == "reason_required"
    with pytest.raises(CollectionError) as refused:
        services.collection_type_change(
            account=account, collection_type="normal", reason="ya", user=manager
        )
    assert (refused.value.code, refused.value.status) == ("type_unchanged", 409)
    assert not CollectionTypeChange.objects.exists()


def test_the_api_shows_and_changes_the_type_and_serves_the_demand_letter(client, account, manager):
    collector = UserFactory(username="gestor", roles=[roles.COLLECTOR])
    url = f"{API}/accounts/{account.pk}/collection-type/"
    client.force_login(collector)
    assert client.get(url).json()["collection_type"] == "normal"
    body = {"collection_type": "judicial", "reason": "Turnado a jurídico"}
    assert client.post(url, body, content_type="application/json").status_code == 403

    client.force_login(manager)
    made = client.post(url, body, content_type="application/json")
    assert made.status_code == 201, made.content
    assert (made.json()["to_type"], made.json()["action_kind"]) == ("judicial", "judicial")
    again = client.post(url, body, content_type="application/json")
    assert (again.status_code, again.json()["code"]) == (409, "type_unchanged")
    pdf = client.get(f"{API}/actions/{made.json()['action']}/notice.pdf", HTTP_ACCEPT_LANGUAGE="en")
    assert pdf["Content-Type"] == "application/pdf"
    assert b"legal department" in pdf.content

    back = client.post(
        url, {"collection_type": "normal", "reason": "Convenio"}, content_type="application/json"
    )
    assert back.status_code == 201
    shown = client.get(url).json()
    assert shown["collection_type"] == "normal"
    assert [(c["from_type"], c["to_type"]) for c in shown["changes"]] == [
        ("judicial", "normal"),
        ("normal", "judicial"),
    ]
    aging = client.get(f"{API}/accounts/{account.pk}/aging/").json()
    assert aging["collection_type"] == "normal"
