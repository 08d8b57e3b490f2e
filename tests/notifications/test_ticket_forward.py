"""The service desk's public messages to the customer become notices once."""

import pytest
from django.core import mail

from core.notifications import services
from core.notifications.models import Notice
from orders.desk import ticket_open
from orders.models import TicketMessage
from orders.notice_sources import ticket_messages_forward
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def clarification(customer):
    return ticket_open(
        kind="clarification",
        description="El recibo de mayo viene muy alto.",
        user=UserFactory(),
        account=ServiceAccountFactory(customer=customer),
    )


def test_desk_messages_are_forwarded_once_and_marked_sent():
    ticket = clarification(CustomerFactory(email="ana@example.com"))
    message = TicketMessage.objects.get(ticket=ticket)
    assert ticket_messages_forward() == {"forwarded": 1, "unreachable": 0}
    assert ticket_messages_forward() == {"forwarded": 0, "unreachable": 0}
    notice = Notice.objects.get()
    assert notice.source == f"orders:ticket:{ticket.pk}:message:{message.pk}"
    assert notice.subject == f"Su solicitud {ticket.number}"
    assert message.text in notice.body
    message.refresh_from_db()
    assert message.sent_at is not None
    services.notices_send()
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]


def test_messages_of_an_unreachable_customer_stay_unsent():
    ticket = clarification(CustomerFactory(email="", phone=""))
    assert ticket_messages_forward() == {"forwarded": 0, "unreachable": 1}
    assert TicketMessage.objects.get(ticket=ticket).sent_at is None
    assert Notice.objects.count() == 0
