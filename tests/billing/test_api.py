"""The clerks' billing API: thin views over the services, permissions by role."""

from decimal import Decimal as D

import pytest
import yaml

from billing import services
from billing.models import Bill, BillingRun, TariffSet
from core import roles
from tests.billing.factories import TARIFF, add_account, town
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client):
    client.force_login(UserFactory(username="cajera", roles=[roles.BILLING_CLERK]))
    return client


def test_clerk_runs_a_period_and_follows_its_progress(
    clerk_client, django_capture_on_commit_callbacks
):
    t = town()
    add_account(t, m3=25)
    held = add_account(t, m3=45, history=[(10, "measured")] * 3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = clerk_client.post(
            "/api/billing/runs/", {"period": t.period.pk, "chunk_size": 10}
        )
    assert response.status_code == 201, response.content
    assert len(callbacks) == 1  # the task is queued after commit
    run_id = response.json()["id"]
    services.billing_run_execute(run_id=run_id)  # what the worker does
    run = clerk_client.get(f"/api/billing/runs/{run_id}/").json()
    assert (run["status"], run["progress"], run["bills_issued"], run["bills_held"]) == (
        "done",
        1.0,
        1,
        1,
    )

    again = clerk_client.post("/api/billing/runs/", {"period": t.period.pk})
    assert (again.status_code, again.json()["code"]) == (409, "run_exists")

    listed = clerk_client.get("/api/billing/bills/held/", {"run": run_id}).json()
    assert [b["account"] for b in listed] == [held.pk]
    assert listed[0]["hold_reason"] == "high_consumption"
    bill_id = listed[0]["id"]
    released = clerk_client.post(f"/api/billing/bills/{bill_id}/release/", {"reason": "fuga"})
    assert released.json()["status"] == "issued"
    balance = clerk_client.get(f"/api/billing/accounts/{held.pk}/balance/").json()
    assert D(balance["balance"]) == Bill.objects.get(pk=bill_id).total

    reversed_run = clerk_client.post(f"/api/billing/runs/{run_id}/reverse/", {"reason": "error"})
    assert reversed_run.json()["status"] == "reversed"
    balance = clerk_client.get(f"/api/billing/accounts/{held.pk}/balance/").json()
    assert D(balance["balance"]) == 0


def test_clerk_corrects_a_held_bill(clerk_client):
    t = town()
    account = add_account(t, m3=45, history=[(10, "measured")] * 3)
    run = services.billing_run_start(period=t.period, enqueue=False)
    services.billing_run_execute(run_id=run.pk)
    bill = Bill.objects.get(account=account)
    response = clerk_client.post(
        f"/api/billing/bills/{bill.pk}/correct/",
        {"reason": "lectura mal capturada", "consumption_m3": "25"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["total"], body["corrects"]) == ("issued", "286.00", bill.pk)
    assert [line["concept"] for line in body["lines"]][:2] == ["fixed", "water"]


def test_clerk_imports_exports_simulates_and_adopts_a_tariff(clerk_client):
    t = town()
    add_account(t, m3=25)
    draft = dict(TARIFF, code="T-2027", valid_from="2027-01-01")
    response = clerk_client.post(
        "/api/billing/tariff-sets/",
        {"content": yaml.safe_dump(draft)},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    exported = clerk_client.get(f"/api/billing/tariff-sets/{pk}/export/", {"fmt": "json"}).json()
    assert '"code": "T-2027"' in exported["content"]
    simulated = clerk_client.post(f"/api/billing/tariff-sets/{pk}/simulate/").json()
    assert simulated["change"] == "0.00"
    refused = clerk_client.post(f"/api/billing/tariff-sets/{pk}/adopt/")
    assert (refused.status_code, refused.json()["code"]) == (400, "overlapping_tariff")
    broken = clerk_client.post(
        "/api/billing/tariff-sets/",
        {"content": "code: X\ntariffs: []"},
        content_type="application/json",
    )
    assert (broken.status_code, broken.json()["code"]) == (400, "invalid_tariff")
    assert TariffSet.objects.count() == 2


def test_meter_readers_cannot_run_billing(client):
    t = town()
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    assert client.post("/api/billing/runs/", {"period": t.period.pk}).status_code == 403
    assert client.get("/api/billing/tariff-sets/").status_code == 200  # every role reads tariffs
    assert not BillingRun.objects.exists()
