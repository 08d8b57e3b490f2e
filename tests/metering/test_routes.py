"""Reading assignments and the reader's route: books from sectors, nothing about consumption."""

import datetime as dt

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.utils import timezone

from metering.selectors import assignment_meters, reader_assignments
from metering.services import MeteringError, reading_assignment_set
from sectors.models import AccountSectors, CommercialArea
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory, square
from tests.metering.factories import item, local, meter, sync

pytestmark = pytest.mark.django_db


def book_with(*accounts) -> CommercialArea:
    geom = MultiPolygon(square(ORIGIN_X - 5000, ORIGIN_Y - 5000, 20000))
    zone = CommercialArea.objects.create(level="zone", code="Z1", name="Zona", geom=geom)
    sector = CommercialArea.objects.create(
        level="sector", code="S1", name="Sector", geom=geom, parent=zone, parent_level="zone"
    )
    book = CommercialArea.objects.create(
        level="book", code="B1", name="Libro", geom=geom, parent=sector, parent_level="sector"
    )
    for account in accounts:
        AccountSectors.objects.create(
            account=account, zone=zone, sector=sector, book=book, assigned_at=timezone.now()
        )
    return book


def test_the_reader_gets_the_meters_of_the_book_and_which_are_done(periods, lector):
    m1, m2 = meter(), meter()
    book = book_with(m1.account, m2.account)
    assignment = reading_assignment_set(
        period=periods[2], book=book, reader=lector, scheduled_on=dt.date(2025, 3, 7)
    )
    sync(lector, item(m1, 100, local(2025, 3, 7)))

    assert list(reader_assignments(user=lector)) == [assignment]
    route = assignment_meters(assignment=assignment)
    assert [(r["serial"], r["visited"]) for r in route] == [(m1.serial, True), (m2.serial, False)]
    assert set(route[0]) == {
        "meter_id",
        "serial",
        "account",
        "address",
        "lon",
        "lat",
        "dials",
        "visited",
    }
    assert -180 < route[0]["lon"] < 180 and -90 < route[0]["lat"] < 90


def test_assigning_again_replaces_the_reader(periods, lector):
    other = UserFactory(username="otra", roles=["meter_reader"])
    book = book_with()
    reading_assignment_set(
        period=periods[2], book=book, reader=lector, scheduled_on=dt.date(2025, 3, 7)
    )
    again = reading_assignment_set(
        period=periods[2], book=book, reader=other, scheduled_on=dt.date(2025, 3, 8)
    )
    assert again.reader == other
    assert list(reader_assignments(user=lector)) == []


def test_only_books_readers_and_days_of_the_period_are_accepted(periods, lector):
    book = book_with()
    clerk = UserFactory(username="cajero", roles=["billing_clerk"])
    with pytest.raises(MeteringError) as err:
        reading_assignment_set(
            period=periods[2], book=book.parent, reader=lector, scheduled_on=dt.date(2025, 3, 7)
        )
    assert err.value.code == "not_a_book"
    with pytest.raises(MeteringError) as err:
        reading_assignment_set(
            period=periods[2], book=book, reader=clerk, scheduled_on=dt.date(2025, 3, 7)
        )
    assert err.value.code == "not_a_reader"
    with pytest.raises(MeteringError) as err:
        reading_assignment_set(
            period=periods[2], book=book, reader=lector, scheduled_on=dt.date(2025, 4, 7)
        )
    assert err.value.code == "outside_period"
