"""A collector's worklist (which accounts, in which order) and the day's visiting order."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point

from billing.credit import selectors, services
from core import roles
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.credit.factories import ON, at, debt
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory

pytestmark = pytest.mark.django_db

DAYS = dt.timedelta(days=1)


def account_at(x, y):
    return ServiceAccountFactory(
        service_point=Point(ORIGIN_X + x, ORIGIN_Y + y, srid=settings.CAUDAL_SRID)
    )


def contacted(account, collector, *, next_contact, when=ON - 10 * DAYS):
    return services.contact_log(
        account=account,
        collector=collector,
        kind="call",
        result="no_answer",
        at=at(when),
        next_contact=next_contact,
    )


def test_worklist_orders_by_next_contact_then_debt_then_age():
    collector = UserFactory(roles=[roles.COLLECTOR])
    other = UserFactory(roles=[roles.COLLECTOR])
    a, b, c, d = (account_at(i * 100, 0) for i in range(4))
    debt(a, "100.00", due=ON - 40 * DAYS)
    debt(b, "900.00", due=ON - 10 * DAYS)
    debt(c, "100.00", due=ON - 90 * DAYS)
    debt(d, "5000.00", due=ON - 10 * DAYS)
    contacted(a, collector, next_contact=ON - 3 * DAYS)  # overdue follow-up: first
    contacted(b, collector, next_contact=ON)
    contacted(c, collector, next_contact=ON)  # same day and amount as… no: less debt than b
    contacted(d, other, next_contact=ON)  # another collector's account
    rows = selectors.worklist(collector=collector, day=ON)
    assert [r["number"] for r in rows] == [a.number, b.number, c.number]
    first = rows[0]
    assert (first["overdue"], first["days_overdue"], first["next_contact"]) == (
        100,
        40,
        ON - 3 * DAYS,
    )


def test_worklist_leaves_out_accounts_without_past_due_debt_or_not_yet_due_for_contact():
    collector = UserFactory(roles=[roles.COLLECTOR])
    paid_up, later, due = (account_at(i * 100, 0) for i in range(3))
    debt(paid_up, "300.00", due=ON + 10 * DAYS)  # not yet due
    debt(later, "300.00", due=ON - 10 * DAYS)
    debt(due, "300.00", due=ON - 10 * DAYS)
    contacted(paid_up, collector, next_contact=ON)
    contacted(later, collector, next_contact=ON + 2 * DAYS)
    contacted(due, collector, next_contact=ON)
    assert [r["number"] for r in selectors.worklist(collector=collector, day=ON)] == [due.number]


def test_the_latest_contact_decides_the_next_contact():
    collector = UserFactory(roles=[roles.COLLECTOR])
    account = account_at(0, 0)
    debt(account, "300.00", due=ON - 10 * DAYS)
    contacted(account, collector, next_contact=ON - DAYS, when=ON - 20 * DAYS)
    contacted(account, collector, next_contact=ON + 7 * DAYS, when=ON - 5 * DAYS)
    assert selectors.worklist(collector=collector, day=ON) == []


def test_an_open_promise_falling_due_brings_the_account_to_the_worklist():
    collector = UserFactory(roles=[roles.COLLECTOR])
    account = account_at(0, 0)
    debt(account, "300.00", due=ON - 10 * DAYS)
    services.contact_log(
        account=account,
        collector=collector,
        kind="call",
        result="promise",
        at=at(ON - 5 * DAYS),
        promise_date=ON,
        promise_amount=300,
    )
    rows = selectors.worklist(collector=collector, day=ON)
    assert [(r["number"], r["promise_date"]) for r in rows] == [(account.number, ON)]


def test_visit_route_falls_back_to_nearest_neighbour_without_a_street_network():
    collector = UserFactory(roles=[roles.COLLECTOR])
    # Worklist order (by debt): far, near, middle; the route from the office visits by distance.
    far, near, middle = account_at(1000, 0), account_at(100, 0), account_at(500, 0)
    for account, amount in ((far, "900.00"), (near, "500.00"), (middle, "100.00")):
        debt(account, amount, due=ON - 10 * DAYS)
        contacted(account, collector, next_contact=ON)
    office = Point(ORIGIN_X, ORIGIN_Y, srid=settings.CAUDAL_SRID)
    route = selectors.visit_route(collector=collector, day=ON, start=office)
    assert route["method"] == "straight_line"
    assert [s["number"] for s in route["stops"]] == [near.number, middle.number, far.number]
    assert route["km"] == pytest.approx(1.0, abs=0.01)


def test_accounts_in_the_collectors_charge_are_in_the_worklist_without_contacts():
    from billing.collection.models import CollectorAssignment

    collector = UserFactory(roles=[roles.COLLECTOR])
    mine, owing_nothing, others = account_at(0, 0), account_at(100, 0), account_at(200, 0)
    debt(mine, "300.00", due=ON - 10 * DAYS)
    debt(others, "300.00", due=ON - 10 * DAYS)
    CollectorAssignment.objects.create(collector=collector, account=mine)
    CollectorAssignment.objects.create(collector=collector, account=owing_nothing)
    CollectorAssignment.objects.create(collector=UserFactory(), account=others)
    rows = selectors.worklist(collector=collector, day=ON)
    assert [(r["number"], r["next_contact"]) for r in rows] == [(mine.number, None)]


def test_set_based_overdue_agrees_with_the_per_account_rules():
    account = account_at(0, 0)
    debt(account, "300.00", due=ON - 40 * DAYS)
    debt(account, "200.00", due=ON - 10 * DAYS)
    debt(account, "999.00", due=ON + 10 * DAYS)
    from tests.credit.factories import payment

    payment(account, "350.00", when=at(ON - 5 * DAYS))
    one = selectors.account_overdue(account=account, on=ON)
    assert selectors.accounts_overdue(account_ids=[account.pk], on=ON)[account.pk] == one
    assert (one.amount, one.oldest_due) == (150, ON - 10 * DAYS)
