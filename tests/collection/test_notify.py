"""Collection actions are told to the customer once: a notice per issued action in the
customer's preferred channel, none for a customer without contact."""

import datetime as dt

import pytest

from billing.collection import services
from billing.collection.models import CollectionAction
from billing.collection.notify import collection_notices_queue
from core.notifications.models import Notice
from tests.billing.factories import add_account, town
from tests.cadastre.factories_census import CustomerFactory
from tests.collection.helpers import bill

pytestmark = pytest.mark.django_db

DUE = dt.date(2026, 1, 15)
NIGHT = dt.date(2026, 1, 16)  # one period, one day overdue: the reminder


def test_an_issued_reminder_becomes_one_notice_however_often_the_night_runs():
    place = town()
    reachable = add_account(place, m3=10, customer=CustomerFactory(email="ana@example.mx"))
    silent = add_account(place, m3=10, customer=CustomerFactory(email="", phone=""))
    for account in (reachable, silent):
        bill(account, DUE, ("water", "230.50"))
    services.collection_evaluate(day=NIGHT, account_ids=[reachable.pk, silent.pk])
    reminder = CollectionAction.objects.get(account=reachable, kind="reminder")

    assert collection_notices_queue(day=NIGHT) == {"queued": 1, "unreachable": 1}
    notice = Notice.objects.get()
    assert notice.source == f"collection:action:{reminder.pk}"
    assert (notice.channel, notice.address, notice.template_code) == (
        "email",
        "ana@example.mx",
        "payment_reminder",
    )
    assert "230.50" in notice.body
    assert collection_notices_queue(day=NIGHT) == {"queued": 0, "unreachable": 1}
    assert Notice.objects.count() == 1
