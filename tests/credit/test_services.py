"""The collection log: contacts and promises, the nightly promise check and escalations."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.core import mail

from billing.credit import services
from billing.credit.models import (
    CollectionContact,
    CreditError,
    Escalation,
    PaymentPromise,
    PromiseStatus,
)
from billing.models import LedgerEntry
from core import roles
from core.notifications.models import Notice
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.credit.factories import ON, at, debt, payment
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DAYS = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CAUDAL_NOTIFY = {}


@pytest.fixture
def collector():
    return UserFactory(roles=[roles.COLLECTOR])


def promise(account, collector, *, amount="500.00", due=ON + 5 * DAYS, when=None):
    contact = services.contact_log(
        account=account,
        collector=collector,
        kind="call",
        result="promise",
        at=when or at(ON),
        promise_date=due,
        promise_amount=D(amount),
    )
    return contact.promise


def test_a_promise_is_recorded_with_its_contact(collector):
    account = ServiceAccountFactory()
    made = promise(account, collector)
    assert (made.status, made.amount, made.promised_date) == ("open", D("500.00"), ON + 5 * DAYS)
    assert made.contact.collector == collector


def test_one_open_promise_per_account(collector):
    account = ServiceAccountFactory()
    promise(account, collector)
    with pytest.raises(CreditError) as refused:
        promise(account, collector, amount="100.00")
    assert (refused.value.code, refused.value.status) == ("promise_open", 409)
    assert CollectionContact.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"result": "promise"}, "promise_incomplete"),
        (
            {"result": "promise", "promise_date": ON - DAYS, "promise_amount": D("10")},
            "promise_date",
        ),
        ({"result": "no_answer", "next_contact": ON - DAYS}, "next_contact_past"),
        ({"result": "no_answer", "position": Point(-99.1, 19.4, srid=4326)}, "position_visit_only"),
        ({"result": "shrug"}, "result_invalid"),
    ],
)
def test_contact_refusals(collector, kwargs, code):
    with pytest.raises(CreditError) as refused:
        services.contact_log(
            account=ServiceAccountFactory(), collector=collector, kind="call", at=at(ON), **kwargs
        )
    assert refused.value.code == code
    assert CollectionContact.objects.count() == 0


def test_a_visit_keeps_its_gps_point_in_the_storage_srid(collector):
    contact = services.contact_log(
        account=ServiceAccountFactory(),
        collector=collector,
        kind="visit",
        result="not_found",
        at=at(ON),
        position=Point(-99.1332, 19.4326, srid=4326),
    )
    contact.refresh_from_db()
    assert contact.position.srid == settings.CAUDAL_SRID
    back = contact.position.transform(4326, clone=True)
    assert back.x == pytest.approx(-99.1332, abs=1e-6)
    assert back.y == pytest.approx(19.4326, abs=1e-6)


def test_promise_is_kept_when_payments_since_it_reach_the_amount_by_the_date(collector):
    account = ServiceAccountFactory()
    debt(account, "900.00", due=ON - 30 * DAYS)
    made = promise(account, collector)
    payment(account, "200.00", when=at(ON + DAYS))
    payment(account, "300.00", when=at(ON + 5 * DAYS, hour=23))
    assert services.promises_check(day=ON + 6 * DAYS) == {
        "kept": 1,
        "broken": 0,
        "escalated": 0,
        "reminded": 0,
    }
    made.refresh_from_db()
    assert (made.status, made.paid) == (PromiseStatus.KEPT, D("500.00"))
    assert Escalation.objects.count() == 0


def test_promise_is_kept_as_soon_as_it_is_paid_before_its_date(collector):
    account = ServiceAccountFactory()
    made = promise(account, collector)
    payment(account, "500.00", when=at(ON + DAYS))
    assert services.promises_check(day=ON + 2 * DAYS)["kept"] == 1
    made.refresh_from_db()
    assert made.status == PromiseStatus.KEPT


def test_payments_before_the_promise_after_its_date_or_reversed_do_not_count(collector):
    account = ServiceAccountFactory()
    payment(account, "500.00", when=at(ON - DAYS))
    made = promise(account, collector)
    late = payment(account, "500.00", when=at(ON + 6 * DAYS))
    bounced = payment(account, "500.00", when=at(ON + DAYS))
    LedgerEntry.objects.create(
        account=account,
        document_type="payment",
        document_id=bounced.document_id,
        concept="payment",
        amount=D("500.00"),
        reversal_of=bounced,
        posted_at=at(ON + 2 * DAYS),
    )
    payment(account, "100.00", when=at(ON + 3 * DAYS))
    counts = services.promises_check(day=ON + 7 * DAYS)
    assert (counts["broken"], counts["escalated"]) == (1, 1)
    made.refresh_from_db()
    assert (made.status, made.paid) == (PromiseStatus.BROKEN, D("100.00"))
    assert late.amount == D("-500.00")


def test_an_open_promise_is_left_open_until_its_date_passes(collector):
    made = promise(ServiceAccountFactory(), collector)
    counts = services.promises_check(day=ON + 5 * DAYS)
    assert (counts["kept"], counts["broken"]) == (0, 0)
    made.refresh_from_db()
    assert made.status == PromiseStatus.OPEN


def test_a_broken_promise_escalates_once(collector):
    account = ServiceAccountFactory()
    made = promise(account, collector)
    payment(account, "120.00", when=at(ON + 2 * DAYS))
    first = services.promises_check(day=ON + 6 * DAYS)
    second = services.promises_check(day=ON + 7 * DAYS)
    assert (first["broken"], first["escalated"]) == (1, 1)
    assert (second["broken"], second["escalated"]) == (0, 0)
    escalation = Escalation.objects.get()
    assert escalation.promise == made and escalation.account == account
    assert account.number in escalation.reason
    assert "$500.00" in escalation.reason and "$120.00" in escalation.reason


def test_escalations_are_emailed_to_managers_once():
    manager = UserFactory(roles=[roles.MANAGER], email="gerente@example.com")
    UserFactory(roles=[roles.MANAGER], email="")  # no address: not e-mailed
    UserFactory(roles=[roles.BILLING_CLERK], email="cajero@example.com")
    collector = UserFactory(roles=[roles.COLLECTOR])
    promise(ServiceAccountFactory(), collector)
    services.promises_check(day=ON + 6 * DAYS)
    assert services.escalations_notify() == {"escalations": 1, "emails": 1}
    assert services.escalations_notify() == {"escalations": 0, "emails": 0}
    assert [m.to for m in mail.outbox] == [[manager.email]]
    escalation = Escalation.objects.get()
    assert escalation.notified == 1 and escalation.notified_at is not None


def test_the_day_before_its_date_the_customer_is_reminded_of_the_promise(collector):
    account = ServiceAccountFactory(customer=CustomerFactory(email="ana@example.com"))
    made = promise(account, collector, amount="1250.00")
    assert services.promises_check(day=ON + 4 * DAYS)["reminded"] == 1
    assert services.promises_check(day=ON + 4 * DAYS)["reminded"] == 1  # same notice
    notice = Notice.objects.get()
    assert notice.source == f"credit:promise:{made.pk}:reminder"
    assert notice.template_code == "promise_reminder"
    assert "$1,250.00" in notice.body
    assert PaymentPromise.objects.get().status == PromiseStatus.OPEN


def test_the_nightly_task_checks_then_notifies():
    from billing.credit.tasks import promises_check_task

    UserFactory(roles=[roles.MANAGER], email="gerente@example.com")
    promise(ServiceAccountFactory(), UserFactory(roles=[roles.COLLECTOR]))
    result = promises_check_task(day=(ON + 6 * DAYS).isoformat())
    assert (result["broken"], result["escalations"], result["emails"]) == (1, 1, 1)
