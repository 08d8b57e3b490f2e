"""Delinquency on the map: the past-due snapshot, the zones it clusters into, their layers."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point

from billing import services, settlement
from billing.delinquency import delinquency_refresh, zones_refresh
from billing.models import AccountDelinquency, DelinquencyZone
from billing.tasks import delinquency_refresh_task
from gis_core.layers import registry
from tests.billing.factories import add_account, town
from tests.factories import ORIGIN_X, ORIGIN_Y

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)
TODAY = dt.date(2026, 3, 10)  # January and February are past due, March is not yet


@pytest.fixture
def place():
    return town()


def at(x, y):
    return Point(ORIGIN_X + x, ORIGIN_Y + y, srid=settings.CAUDAL_SRID)


def bill(account, bill_id, amount, due):
    return services.ledger_post(
        account=account,
        document_type="bill",
        document_id=bill_id,
        concept="water",
        amount=D(amount),
        due_date=due,
    )


def pay(account, amount):
    services.ledger_post(
        account=account,
        document_type="payment",
        document_id=1,
        concept="payment",
        amount=-D(amount),
    )
    settlement.settle_account(account=account)


def test_the_snapshot_holds_what_is_past_due_and_since_when(place):
    owes_two = add_account(place)
    for n, due in ((1, JAN), (2, FEB), (3, MAR)):
        bill(owes_two, n, "100.00", due)
    partly = add_account(place)
    for n, due in ((1, JAN), (2, FEB), (3, MAR)):
        bill(partly, n, "100.00", due)
    pay(partly, "130.00")  # January paid, 30 of February
    not_due = add_account(place)
    bill(not_due, 3, "100.00", MAR)
    cancelled = add_account(place)
    services.ledger_reverse(entry=bill(cancelled, 1, "100.00", JAN))
    overpaid = add_account(place)
    bill(overpaid, 1, "100.00", JAN)
    pay(overpaid, "150.00")

    assert delinquency_refresh(day=TODAY) == 2
    rows = {d.account_id: d for d in AccountDelinquency.objects.all()}
    assert set(rows) == {owes_two.pk, partly.pk}
    first = rows[owes_two.pk]
    assert (first.balance, first.overdue, first.oldest_due) == (D("300.00"), D("200.00"), JAN)
    assert (first.days_overdue, first.periods_overdue) == ((TODAY - JAN).days, 2)
    second = rows[partly.pk]
    assert (second.balance, second.overdue, second.oldest_due) == (D("170.00"), D("70.00"), FEB)
    assert (second.days_overdue, second.periods_overdue) == ((TODAY - FEB).days, 1)


def test_refreshing_replaces_the_snapshot_after_a_payment(place):
    account = add_account(place)
    bill(account, 1, "100.00", JAN)
    delinquency_refresh(day=TODAY)
    pay(account, "100.00")
    assert delinquency_refresh(day=TODAY) == 0
    assert not AccountDelinquency.objects.exists()


def test_zones_are_the_clusters_of_long_overdue_accounts(place):
    # Seven accounts 30 m apart in a row (each within 100 m of at least four others: a
    # cluster) and two far apart (noise).
    cluster = [add_account(place, service_point=at(30 * i, 0)) for i in range(7)]
    lonely = [add_account(place, service_point=at(3000 + 900 * i, 900)) for i in range(2)]
    for account in cluster + lonely:
        bill(account, 1, "250.00", JAN)
    recent = add_account(place, service_point=at(15, 10))  # overdue, but only a few days
    bill(recent, 1, "50.00", TODAY - dt.timedelta(days=5))
    delinquency_refresh(day=TODAY)

    assert zones_refresh(day=TODAY, eps_m=100, min_points=5, min_days=31) == 1
    zone = DelinquencyZone.objects.get()
    assert (zone.accounts, zone.overdue, zone.mean_days_overdue) == (
        7,
        D("1750.00"),
        (TODAY - JAN).days,
    )
    assert all(zone.geom.contains(a.service_point) for a in cluster)
    assert not any(zone.geom.contains(a.service_point) for a in lonely)


def test_the_nightly_task_refreshes_the_snapshot_and_then_the_zones(place):
    for i in range(6):
        bill(add_account(place, service_point=at(20 * i, 0)), 1, "80.00", dt.date(2025, 1, 31))
    assert delinquency_refresh_task() == {"accounts": 6, "zones": 1}


def test_a_collector_sees_the_delinquent_account_on_the_map_with_its_bucket(place, client):
    from django.contrib.auth.models import Group

    from core import roles
    from tests.factories import UserFactory
    from tests.tiles.vector_helpers import features, tile_of, tile_url

    account = add_account(place, service_point=at(40, 40))
    bill(account, 1, "120.00", JAN)
    delinquency_refresh(day=TODAY)
    collector = UserFactory()
    collector.groups.add(Group.objects.get(name=roles.COLLECTOR))
    client.force_login(collector)
    shown = features(
        client.get(tile_url("delinquent_accounts", *tile_of(account.service_point, 16))),
        "delinquent_accounts",
    )
    assert shown[account.pk]["bucket"] == "31-60"
    assert shown[account.pk]["overdue"] == pytest.approx(120.0)
    assert registry.get("delinquent_accounts").heat_weights["debt"] == "overdue"
