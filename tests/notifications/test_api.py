"""The record of notices and the templates, read by staff; a failed notice sent again."""

import pytest

from core import roles
from core.notifications import services
from core.notifications.models import Notice, NoticeStatus
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def notice(status=NoticeStatus.PENDING):
    account = ServiceAccountFactory(customer=CustomerFactory(email="ana@example.com"))
    made = services.notice_queue(
        account=account,
        template="reconnection_done",
        context={"date": "01/06/2026"},
        source="collection:action:9",
    )
    Notice.objects.filter(pk=made.pk).update(status=status, error="x")
    return made


def test_customer_service_reads_the_notices_of_an_account(client):
    client.force_login(UserFactory(username="ventanilla", roles=[roles.CUSTOMER_SERVICE]))
    made = notice()
    rows = client.get("/api/notifications/notices/", {"account": made.account_id}).json()
    assert [(r["id"], r["source"], r["status"]) for r in rows] == [
        (made.pk, "collection:action:9", "pending")
    ]
    assert client.get("/api/notifications/templates/").status_code == 200


def test_a_manager_sends_a_failed_notice_again(client):
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    made = notice(NoticeStatus.FAILED)
    answer = client.post(f"/api/notifications/notices/{made.pk}/retry/")
    assert (answer.status_code, answer.json()["status"]) == (200, "pending")
    again = client.post(f"/api/notifications/notices/{made.pk}/retry/")
    assert (again.status_code, again.json()["code"]) == (409, "not_failed")


def test_meter_readers_do_not_read_notices(client):
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    assert client.get("/api/notifications/notices/").status_code == 403
