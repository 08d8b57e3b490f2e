"""orders.desk: tickets with SLA and customer messages; clarification → inspection; change of
holder; a new contract creates every linked record or none."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from cadastre.models import Customer, ServiceAccount
from cadastre.roll_services import RollError
from orders.desk import (
    TicketError,
    contract_open,
    ticket_cancel,
    ticket_feasibility_answer,
    ticket_inspection_request,
    ticket_message_add,
    ticket_open,
    ticket_resolve,
)
from orders.models import Ticket, TicketStatus, WorkOrder
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory, parcel_at
from tests.orders.factories import dispatcher

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def clerk():
    return dispatcher()


def test_a_ticket_gets_a_number_a_due_time_and_a_message_for_the_customer(clerk):
    account = ServiceAccountFactory()
    ticket = ticket_open(
        kind="clarification", description="Cobro alto", account=account, user=clerk
    )
    assert ticket.number.startswith("AU-") and ticket.status == TicketStatus.OPEN
    assert ticket.customer == account.customer and ticket.parcel == account.parcel
    assert ticket.due_at > ticket.created_at + dt.timedelta(days=9)  # ten working days
    (message,) = ticket.messages.all()
    assert message.public and message.sent_at is None
    assert ticket.number in message.text and "Bill clarification" in message.text


def test_a_leak_report_is_due_in_calendar_hours(clerk):
    parcel = parcel_at(1)
    ticket = ticket_open(kind="leak_report", description="Fuga", parcel=parcel, user=clerk)
    assert ticket.due_at - ticket.created_at == dt.timedelta(hours=24)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("clarification", "account_required"),
        ("feasibility", "place_required"),
        ("magic", "kind_invalid"),
    ],
)
def test_what_each_kind_needs_is_checked(clerk, kind, code):
    with pytest.raises(TicketError) as refused:
        ticket_open(kind=kind, description="x", user=clerk)
    assert refused.value.code == code
    assert not Ticket.objects.exists()


def test_a_clarification_opens_one_inspection_and_is_answered(clerk):
    account = ServiceAccountFactory()
    ticket = ticket_open(
        kind="clarification", description="Consumo alto", account=account, user=clerk
    )
    ticket = ticket_inspection_request(ticket=ticket, user=clerk)
    again = ticket_inspection_request(ticket=ticket, user=clerk)
    assert again.work_order_id == ticket.work_order_id
    assert WorkOrder.objects.filter(source="ticket", source_ref=ticket.number).count() == 1
    assert ticket.status == TicketStatus.IN_PROGRESS
    ticket = ticket_resolve(ticket=ticket, user=clerk, resolution="Se detectó fuga interna")
    assert ticket.status == TicketStatus.RESOLVED and ticket.closed_at is not None
    texts = list(ticket.messages.values_list("text", flat=True))
    assert len(texts) == 3 and "Se detectó fuga interna" in texts[-1]
    with pytest.raises(TicketError) as refused:
        ticket_message_add(ticket=ticket, text="otra", user=clerk)
    assert refused.value.code == "ticket_closed"


def test_a_granted_change_of_holder_moves_the_account_to_a_new_customer(clerk):
    account = ServiceAccountFactory()
    old = account.customer
    ticket = ticket_open(
        kind="ownership_change",
        description="Compraventa",
        account=account,
        user=clerk,
        request={"new_customer": {"name": "Lucía", "first_surname": "Ramos"}},
    )
    ticket_resolve(ticket=ticket, user=clerk, resolution="Cambio de titular aplicado")
    account.refresh_from_db()
    assert account.customer != old and account.customer.name == "Lucía"


def test_a_refused_change_of_holder_leaves_the_account(clerk):
    account = ServiceAccountFactory()
    ticket = ticket_open(kind="ownership_change", description="x", account=account, user=clerk)
    with pytest.raises(TicketError) as refused:
        ticket_resolve(ticket=ticket, user=clerk, resolution="ok")  # no new holder given
    assert refused.value.code == "new_holder_required"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    ticket = ticket_resolve(ticket=ticket, user=clerk, resolution="Sin escrituras", granted=False)
    assert ticket.status == TicketStatus.REJECTED


def test_a_new_contract_creates_customer_account_orders_and_ticket(clerk):
    parcel = parcel_at(2)
    ticket = contract_open(
        parcel=parcel,
        service_point=parcel.geom.point_on_surface,
        account={"number": "N0000001", "use_type": "domestic", "billing_cycle": "1"},
        new_customer={"name": "Marta", "first_surname": "Gil"},
        user=clerk,
    )
    account = ServiceAccount.objects.get(number="N0000001")
    assert ticket.status == TicketStatus.RESOLVED and ticket.account == account
    assert account.customer.name == "Marta"
    kinds = set(WorkOrder.objects.filter(account=account).values_list("kind", flat=True))
    assert kinds == {"new_connection", "meter_install"}
    assert hasattr(account, "sectors")  # assigned in the same transaction


def test_a_new_contract_refused_half_way_leaves_nothing(clerk):
    parcel = parcel_at(3)
    taken = ServiceAccountFactory(number="N0000002")
    before = (Customer.objects.count(), ServiceAccount.objects.count(), WorkOrder.objects.count())
    with pytest.raises(RollError) as refused:
        contract_open(
            parcel=parcel,
            service_point=parcel.geom.point_on_surface,
            account={"number": taken.number, "use_type": "domestic"},
            new_customer={"name": "Marta", "first_surname": "Gil"},
            user=clerk,
        )
    assert "number" in refused.value.message_dict
    after = (Customer.objects.count(), ServiceAccount.objects.count(), WorkOrder.objects.count())
    assert after == before and not Ticket.objects.exists()


def test_a_cancelled_ticket_tells_the_customer(clerk):
    ticket = ticket_open(
        kind="complaint", description="Mal trato", customer=CustomerFactory(), user=clerk
    )
    ticket = ticket_cancel(ticket=ticket, user=clerk, reason="Retirada")
    assert ticket.status == TicketStatus.CANCELLED
    assert ticket.messages.count() == 2
    assert timezone.is_aware(ticket.closed_at)


def test_a_feasibility_request_is_answered_from_the_network_layer(clerk):
    from tests.network.factories import pipe, pt, sewer

    pipe("W-1", (0, 0), (200, 0), diameter=150)
    sewer("S-1", (0, 30), (200, 30), diameter=300)
    near = ticket_open(
        kind="feasibility", description="Lote nuevo", location=pt(100, 10), user=clerk
    )
    near = ticket_feasibility_answer(ticket=near, user=clerk)
    assert near.status == TicketStatus.RESOLVED
    answer = near.request["feasibility"]
    assert answer["granted"] is True
    assert (
        answer["water"]["code"],
        answer["water"]["distance_m"],
        answer["water"]["diameter_mm"],
    ) == (
        "W-1",
        "10.00",
        "150",
    )
    assert answer["sewer"]["distance_m"] == "20.00"
    assert "W-1" in near.resolution and "S-1" in near.resolution
    far = ticket_open(kind="feasibility", description="Rancho", location=pt(100, 400), user=clerk)
    far = ticket_feasibility_answer(ticket=far, user=clerk)
    assert far.status == TicketStatus.REJECTED
    assert far.request["feasibility"]["water"] is None
    assert "Not feasible" in far.resolution


def test_only_feasibility_requests_are_answered_from_the_network(clerk):
    ticket = ticket_open(kind="complaint", description="x", customer=CustomerFactory(), user=clerk)
    with pytest.raises(TicketError) as refused:
        ticket_feasibility_answer(ticket=ticket, user=clerk)
    assert refused.value.code == "not_feasibility"
