"""The service desk hands money questions to billing: a bill clarification asks for a credit
note (approved by someone else, then the balance drops), an agreement request signs the
payment agreement."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services as billing_services
from billing.agreements.models import Adjustment, Agreement
from billing.agreements.services import adjustment_approve
from billing.selectors import account_balance
from core import roles
from orders.desk import ticket_open
from orders.models import TicketStatus
from tests.billing.factories import add_account, town
from tests.factories import UserFactory
from tests.orders.factories import dispatcher

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed():
    account = add_account(town(), m3=20)
    run = billing_services.billing_run_start(
        period=account.consumptions.get().period, enqueue=False
    )
    billing_services.billing_run_execute(run_id=run.pk)
    return account


def act(client, ticket, action, **body):
    url = reverse("orders:ticket-action", kwargs={"pk": ticket.pk, "action": action})
    return client.post(url, body, content_type="application/json")


def test_a_clarification_asks_billing_for_a_credit_note_that_lowers_the_balance_once_approved(
    client, billed
):
    desk_user = dispatcher()
    ticket = ticket_open(
        kind="clarification", description="Consumo alto", account=billed, user=desk_user
    )
    before = account_balance(account=billed)
    client.force_login(desk_user)
    answer = act(client, ticket, "adjustment", amount="50.00", adjustment_reason="reading_error")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == TicketStatus.IN_PROGRESS
    adjustment = Adjustment.objects.get(pk=body["request"]["adjustment"]["id"])
    assert adjustment.amount == D("50.00") and adjustment.requested_by == desk_user
    assert account_balance(account=billed) == before  # nothing posted until approved
    clerk = UserFactory(username="facturacion", roles=[roles.BILLING_CLERK])
    adjustment_approve(adjustment=adjustment, user=clerk)
    assert account_balance(account=billed) == before - D("50.00")


def test_an_adjustment_is_asked_only_from_a_clarification(client, billed):
    desk_user = dispatcher()
    ticket = ticket_open(kind="complaint", description="Trato", account=billed, user=desk_user)
    client.force_login(desk_user)
    answer = act(client, ticket, "adjustment", amount="50.00", adjustment_reason="reading_error")
    assert (answer.status_code, answer.json()["code"]) == (400, "not_clarification")
    missing = act(client, ticket, "adjustment", amount="50.00")
    assert (missing.status_code, missing.json()["field"]) == (400, "adjustment_reason")
    assert not Adjustment.objects.exists()


def test_an_agreement_request_signs_the_agreement_and_is_resolved(client, billed):
    desk_user = dispatcher()
    ticket = ticket_open(kind="agreement", description="Convenio", account=billed, user=desk_user)
    owed = account_balance(account=billed)
    client.force_login(desk_user)
    first = timezone.localdate() + dt.timedelta(days=30)
    answer = act(
        client, ticket, "agreement", down_payment="10.00", installments=3, first_due_date=str(first)
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == TicketStatus.RESOLVED
    agreement = Agreement.objects.get(account=billed)
    assert agreement.debt == owed and agreement.installments == 3
    assert account_balance(account=billed) == owed  # no interest: the debt only changed form


def _parcel_with_overdue_debt():
    """A parcel whose account owes a bill due two months ago."""
    from tests.cadastre.factories_census import ServiceAccountFactory

    debtor = ServiceAccountFactory()
    billing_services.ledger_post(
        account=debtor,
        document_type="bill",
        document_id=1,
        concept="water",
        amount=D("2400.00"),
        due_date=timezone.localdate() - dt.timedelta(days=60),
    )
    return debtor.parcel


def _contract(parcel, clerk, number, **kwargs):
    from orders.desk import contract_open

    return contract_open(
        parcel=parcel,
        service_point=parcel.geom.point_on_surface,
        account={"number": number, "use_type": "domestic", "billing_cycle": "1"},
        new_customer={"name": "Marta", "first_surname": "Gil"},
        user=clerk,
        **kwargs,
    )


def test_a_new_contract_posts_its_first_charges_due_in_fifteen_days():
    from billing.models import LedgerEntry
    from tests.cadastre.factories_census import parcel_at

    clerk = dispatcher()
    ticket = _contract(parcel_at(7), clerk, "N0000070")
    (charge,) = LedgerEntry.objects.filter(account=ticket.account)
    assert (charge.concept, charge.amount, charge.document_type) == (
        "connection",
        D("1850.00"),
        "contract",
    )
    assert charge.due_date == timezone.localdate() + dt.timedelta(days=15)
    assert ticket.request["first_charges"] == "1850.00"
    assert ticket.request["credit"]["decision"] == "inform"


def test_a_contract_on_a_parcel_with_debts_waits_for_someone_elses_authorization():
    from billing.credit.control import credit_authorize, credit_check
    from billing.credit.models import CreditError
    from cadastre.models import ServiceAccount

    parcel = _parcel_with_overdue_debt()
    clerk = dispatcher()
    before = ServiceAccount.objects.count()
    with pytest.raises(CreditError) as refused:
        _contract(parcel, clerk, "N0000071")
    assert refused.value.code == "authorization_required"
    assert ServiceAccount.objects.count() == before  # nothing of the contract was written

    check = credit_check(point="new_contract", parcel=parcel, user=clerk)
    manager = UserFactory(username="gerencia", roles=[roles.MANAGER])
    credit_authorize(check_id=check.check_id, user=manager, note="Adeudo del propietario anterior")
    ticket = _contract(parcel, clerk, "N0000071", credit_authorization=check.check_id)
    assert ticket.status == TicketStatus.RESOLVED
    assert ticket.request["credit"]["decision"] == "authorize"


def test_an_agreement_that_needs_authorization_names_a_check_that_was_kept(client, billed):
    """The desk's refusal names a credit check; it must exist (logged outside the signing
    transaction) so a manager can authorize it, and the clerk can then sign with it."""
    from billing.credit.control import credit_authorize
    from billing.credit.models import CreditCheck
    from tests.credit.factories import breached_agreement

    breached_agreement(
        billed, UserFactory(username="firmo"), closed=timezone.localdate() - dt.timedelta(days=40)
    )
    desk_user = dispatcher()
    ticket = ticket_open(kind="agreement", description="Convenio", account=billed, user=desk_user)
    client.force_login(desk_user)
    first = str(timezone.localdate() + dt.timedelta(days=30))
    terms = {"down_payment": "10.00", "installments": 3, "first_due_date": first}
    asked = act(client, ticket, "agreement", **terms)
    assert (asked.status_code, asked.json()["code"]) == (409, "authorization_required")
    check = CreditCheck.objects.get(point="agreement", decision="authorize")
    assert re.search(rf"\(\D+ {check.pk}\)", asked.json()["detail"])  # "(consulta 7)"
    assert not Agreement.objects.filter(account=billed, status="current").exists()

    manager = UserFactory(username="gerencia", roles=[roles.MANAGER])
    credit_authorize(check_id=check.pk, user=manager, note="Cumplió después")
    signed = act(client, ticket, "agreement", credit_authorization=check.pk, **terms)
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == TicketStatus.RESOLVED


def test_a_contract_refused_for_authorization_keeps_the_check_it_names():
    from billing.credit.control import credit_authorize
    from billing.credit.models import CreditCheck, CreditError

    parcel = _parcel_with_overdue_debt()
    clerk = dispatcher()
    with pytest.raises(CreditError) as refused:
        _contract(parcel, clerk, "N0000072")
    check = CreditCheck.objects.get(point="new_contract", decision="authorize")
    assert re.search(rf"\(\D+ {check.pk}\)", refused.value.message)
    manager = UserFactory(username="gerencia", roles=[roles.MANAGER])
    credit_authorize(check_id=check.pk, user=manager, note="Adeudo del propietario anterior")
    ticket = _contract(parcel, clerk, "N0000072", credit_authorization=check.pk)
    assert ticket.status == TicketStatus.RESOLVED


def test_a_missing_action_field_is_named_in_words_the_clerk_reads(client, billed):
    desk_user = dispatcher()
    ticket = ticket_open(kind="agreement", description="Convenio", account=billed, user=desk_user)
    client.force_login(desk_user)
    answer = act(client, ticket, "agreement", down_payment="10.00", installments=3)
    body = answer.json()
    assert (answer.status_code, body["field"]) == (400, "first_due_date")
    assert "first_due_date" not in body["detail"]
