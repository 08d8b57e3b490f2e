"""Two senders at once share the pending notices: a row claimed (locked) by one is skipped by
the other, never waited for and never sent twice. Real connections in threads."""

import threading

import pytest
from django.db import connections, transaction

from core.notifications import services
from core.notifications.models import Notice, NoticeStatus
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def sms_notices(n):
    notices = []
    for i in range(n):
        account = ServiceAccountFactory(
            customer=CustomerFactory(email="", phone=f"55000000{i:02d}")
        )
        notices.append(
            services.notice_queue(
                account=account,
                template="payment_reminder",
                context={"amount": "10.00", "due_date": "01/07/2026"},
                source=f"test:{i}",
            )
        )
    return notices


def test_a_row_locked_by_another_sender_is_skipped_not_waited_for(recording):
    first, second = sms_notices(2)
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_sender():
        try:
            with transaction.atomic():
                list(Notice.objects.filter(pk=first.pk).select_for_update())
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=other_sender)
    thread.start()
    assert locked.wait(20)
    try:
        assert services.notices_send() == {"sent": 1, "failed": 0}
        assert [m["to"] for m in recording.sent] == [second.address]
    finally:
        release.set()
        thread.join(20)
    assert services.notices_send() == {"sent": 1, "failed": 0}
    assert sorted(m["to"] for m in recording.sent) == sorted([first.address, second.address])


def test_two_senders_at_once_send_every_notice_exactly_once(recording):
    notices = sms_notices(30)
    barrier = threading.Barrier(2)
    errors, results = [], []

    def send():
        try:
            barrier.wait(10)
            results.append(services.notices_send(limit=20))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # Whatever one sender could not reach is left for the next run, never sent twice.
    services.notices_send()
    addresses = [m["to"] for m in recording.sent]
    assert sorted(addresses) == sorted(n.address for n in notices)
    assert Notice.objects.exclude(status=NoticeStatus.SENT).count() == 0
