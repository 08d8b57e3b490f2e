"""Network's outage outbox becomes notices once; the outbox row says it was handed over."""

import datetime as dt

import pytest
from django.contrib.gis.geos import MultiLineString
from django.utils import timezone

from core.notifications.models import Notice
from network.models import NoticeStatus, Outage, OutageNotice
from network.notice_sources import outage_notices_forward
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.network.factories import line, pipe, pt

pytestmark = pytest.mark.django_db


def outage_with(*accounts):
    main = pipe("P-OUT-1", (0, 0), (100, 0))
    outage = Outage.objects.create(
        pipe=main,
        break_point=pt(50, 0),
        valves=[],
        pipes=[main.pk],
        geom=MultiLineString(line((0, 0), (100, 0))),
        expected_end=timezone.now() + dt.timedelta(hours=6),
    )
    for account in accounts:
        OutageNotice.objects.create(
            outage=outage, account=account, message="Se interrumpe el servicio por una fuga."
        )
    return outage


def test_outage_outbox_is_forwarded_once_and_marked():
    reachable = ServiceAccountFactory(customer=CustomerFactory(email="ana@example.com"))
    unreachable = ServiceAccountFactory(customer=CustomerFactory(email="", phone=""))
    outage = outage_with(reachable, unreachable)

    assert outage_notices_forward() == {"forwarded": 1, "failed": 1}
    assert outage_notices_forward() == {"forwarded": 0, "failed": 0}

    notice = Notice.objects.get()
    assert notice.source == f"network:outage:{outage.pk}:{reachable.pk}"
    assert notice.template_code == "outage_notice"
    assert "Se interrumpe el servicio por una fuga." in notice.body
    statuses = dict(OutageNotice.objects.values_list("account_id", "status"))
    assert statuses == {reachable.pk: NoticeStatus.SENT, unreachable.pk: NoticeStatus.FAILED}
    assert OutageNotice.objects.get(account=reachable).sent_at is not None


def test_forwarded_outage_notice_is_sent_by_the_send_task():
    from django.core import mail

    from core.notifications.tasks import notices_send_task

    outage_with(ServiceAccountFactory(customer=CustomerFactory(email="ana@example.com")))
    assert notices_send_task() == {
        "outbox": {"forwarded": 1, "failed": 0},
        "tickets": {"forwarded": 0, "unreachable": 0},
        "notices": {"sent": 1, "failed": 0},
    }
    assert len(mail.outbox) == 1


def test_apps_declare_their_outboxes_as_notice_sources():
    from core.notifications.sources import notice_sources
    from orders.notice_sources import ticket_messages_forward

    assert notice_sources() == {
        "outbox": outage_notices_forward,
        "tickets": ticket_messages_forward,
    }
