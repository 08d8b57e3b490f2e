"""The feasibility letter: a PDF with the network's answer and a map drawn from our layers."""

import pytest
from django.urls import reverse
from django.utils import translation

from orders.desk import TicketError, ticket_feasibility_answer, ticket_open
from orders.letters import feasibility_letter_pdf
from tests.cadastre.factories_census import CustomerFactory
from tests.factories import UserFactory
from tests.orders.factories import dispatcher

pytestmark = pytest.mark.django_db

WATER_STROKE = b".1 .4 .85 RG"  # the water-main colour, as the PDF sets it
DASHED = b"[3 2] 0 d"  # the shortest line from the place to a pipe


@pytest.fixture
def answered():
    from tests.network.factories import pipe, pt, sewer

    clerk = dispatcher()
    pipe("W-1", (0, 0), (200, 0), diameter=150)
    sewer("S-1", (0, 30), (200, 30), diameter=300)
    ticket = ticket_open(
        kind="feasibility",
        description="Lote nuevo",
        location=pt(100, 10),
        customer=CustomerFactory(name="Rosa", first_surname="Méndez"),
        user=clerk,
    )
    return clerk, ticket_feasibility_answer(ticket=ticket, user=clerk)


def test_the_letter_states_the_answer_and_draws_the_pipes_found(answered):
    _clerk, ticket = answered
    with translation.override("es-mx"):
        pdf = feasibility_letter_pdf(ticket=ticket)
    assert pdf.startswith(b"%PDF")
    text = pdf.decode("latin-1")
    for needle in (ticket.number, "FACTIBLE", "W-1", "S-1", "10.00", "20.00", "150", "300"):
        assert needle in text, needle
    assert WATER_STROKE in pdf and pdf.count(DASHED) == 2


def test_a_letter_before_the_network_answered_is_refused(answered):
    clerk, _ticket = answered
    from tests.network.factories import pt

    waiting = ticket_open(kind="feasibility", description="Otro", location=pt(50, 5), user=clerk)
    with pytest.raises(TicketError) as refused:
        feasibility_letter_pdf(ticket=waiting)
    assert (refused.value.code, refused.value.status) == ("not_answered", 409)


def test_the_letter_is_served_to_ticket_readers_only(answered, client):
    clerk, ticket = answered
    url = reverse("orders:ticket-feasibility-letter", kwargs={"pk": ticket.pk})
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert ticket.number.encode() in response.content
