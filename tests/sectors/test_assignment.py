"""The assignment engine: every account once per level, from its service point, in one pass."""

import pghistory.models
import pytest
from django.db import connection

from sectors.assignment import assign_accounts, assign_all
from sectors.models import AccountSectors
from sectors.selectors import unassigned_accounts, unassigned_counts
from tests.sectors.factories import accounts_at, build_town, pt

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    return build_town()


def _row(account):
    s = AccountSectors.objects.get(account=account)
    return (s.zone_id, s.sector_id, s.book_id, s.dma_id, s.tariff_zone_id)


def _events(label=None):
    events = pghistory.models.Events.objects.filter(pgh_obj_model="sectors.AccountSectors")
    return events.filter(pgh_label=label) if label else events


def test_each_account_gets_the_chain_of_areas_its_service_point_lies_in(town):
    in_b1, in_b2, in_s2, in_z2, nowhere = accounts_at(
        [(100, 100), (100, 700), (700, 100), (1600, 500), (2500, 500)]
    )
    result = assign_all()
    assert result.accounts == 5 and result.inserted == 5 and result.updated == 0
    t = town
    assert _row(in_b1) == (t.z1.pk, t.s1.pk, t.b1.pk, t.d1.pk, t.t1.pk)
    assert _row(in_b2) == (t.z1.pk, t.s1.pk, t.b2.pk, t.d1.pk, t.t1.pk)
    assert _row(in_s2) == (t.z1.pk, t.s2.pk, None, t.d1.pk, t.t1.pk)
    assert _row(in_z2) == (t.z2.pk, None, None, None, t.t1.pk)
    assert _row(nowhere) == (None, None, None, None, None)


def test_every_account_is_assigned_exactly_once_per_level_even_on_shared_boundaries(town):
    # On the edge between B1 and B2, between S1 and S2, and on the corner of four areas.
    accounts = accounts_at([(250, 500), (500, 250), (500, 500), (1000, 500), (0, 0)])
    assign_all()
    assert AccountSectors.objects.filter(account__in=accounts).count() == len(accounts)
    with connection.cursor() as cursor:
        # A book implies its sector and that sector's zone: one chain per account.
        cursor.execute(
            """SELECT count(*) FROM sectors_accountsectors s
                 JOIN sectors_commercialarea b ON b.id = s.book_id
                 JOIN sectors_commercialarea c ON c.id = s.sector_id
                WHERE b.parent_id <> s.sector_id OR c.parent_id <> s.zone_id"""
        )
        assert cursor.fetchone()[0] == 0
    # Ties go to the lower id, every time.
    on_edge = AccountSectors.objects.get(account=accounts[0])
    assert on_edge.book_id == min(town.b1.pk, town.b2.pk)


def test_a_second_pass_over_unchanged_data_writes_nothing(town):
    accounts_at([(100, 100), (700, 100)])
    assign_all()
    before = _events().count()
    result = assign_all()
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 2)
    assert _events().count() == before


def test_changed_assignments_are_recorded_in_history_with_the_service(town):
    moving, staying = accounts_at([(100, 100), (700, 100)])
    assign_all()
    with connection.cursor() as cursor:  # move the first account into B2, behind the engine
        cursor.execute(
            "UPDATE cadastre_serviceaccount SET service_point = ST_Translate(service_point, 0, 500)"
            " WHERE id = %s",
            [moving.pk],
        )
    result = assign_all()
    assert result.updated == 1
    updates = _events("update")
    assert [e.pgh_obj_id for e in updates] == [str(moving.pk)]
    event = updates.get()
    assert event.pgh_diff["book_id"] == [town.b1.pk, town.b2.pk]
    assert event.pgh_context["service"] == "assign_all"
    assert not _events("update").filter(pgh_obj_id=str(staying.pk)).exists()


def test_accounts_in_no_polygon_are_reported_per_kind(town):
    in_b1, in_s2, nowhere = accounts_at([(100, 100), (700, 100), (2500, 500)])
    never_assigned = accounts_at([(100, 100)])[0]
    assign_accounts(account_ids=[in_b1.pk, in_s2.pk, nowhere.pk])
    counts = unassigned_counts()
    assert counts["accounts"] == 4
    assert counts["zone"] == 2  # nowhere + never assigned
    assert counts["book"] == 3  # + the one in S2, which has no books
    assert counts["dma"] == 2
    assert set(unassigned_accounts(kind="book")) == {in_s2, nowhere, never_assigned}
    assert set(unassigned_accounts(kind="tariff_zone")) == {nowhere, never_assigned}


def test_assign_accounts_assigns_only_the_given_accounts(town):
    first, second = accounts_at([(100, 100), (700, 100)])
    result = assign_accounts(account_ids=[second.pk, 999_999_999])
    assert result.accounts == 1 and result.inserted == 1
    assert not AccountSectors.objects.filter(account=first).exists()
    assert _row(second)[1] == town.s2.pk


def test_with_history_paused_the_engine_records_no_events_either(town):
    from django.db import transaction

    from core.history import history_paused

    accounts_at([(100, 100), (700, 100)])
    with transaction.atomic(), history_paused(AccountSectors):
        result = assign_all()
    assert result.inserted == 2
    assert not _events().exists()
    assign_all()  # and with history on again, nothing changed, nothing recorded
    assert not _events().exists()


def test_each_kind_has_its_own_partial_index_on_the_pieces():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sectors_areapiece'"
            " AND indexdef LIKE '%%USING gist%%'"
        )
        indexes = dict(cursor.fetchall())
    assert set(indexes) == {
        f"areapiece_{kind}_geom" for kind in ("zone", "sector", "book", "dma", "tariff_zone")
    }
    assert all(f"'{name[10:-5]}'" in definition for name, definition in indexes.items())


def test_an_account_opened_or_moved_through_the_roll_services_is_assigned_at_once(town):
    from cadastre.roll_services import service_account_create, service_account_update
    from tests.cadastre.factories_census import CustomerFactory
    from tests.factories import ParcelFactory, square
    from tests.sectors.factories import pt

    parcel = ParcelFactory(geom=square(pt(100, 100).x - 10, pt(100, 100).y - 10, 20))
    account = service_account_create(
        number="S-0001", customer=CustomerFactory(), parcel=parcel, service_point=pt(100, 100)
    )
    assert _row(account) == (town.z1.pk, town.s1.pk, town.b1.pk, town.d1.pk, town.t1.pk)
    other = ParcelFactory(geom=square(pt(100, 600).x - 10, pt(100, 600).y - 10, 20))
    service_account_update(account=account, parcel=other, service_point=pt(100, 600))
    assert AccountSectors.objects.get(account=account).book_id == town.b2.pk


@pytest.mark.django_db
def test_an_account_moved_to_another_book_leaves_the_old_books_reading_order():
    from sectors.models import AccountSectors

    town = build_town()
    (account,) = accounts_at([(100, 100)])  # in book B1
    assign_accounts(account_ids=[account.pk])
    AccountSectors.objects.filter(pk=account.pk).update(reading_sequence=7)
    account.service_point = pt(100, 900)  # now in book B2
    account.save(update_fields=["service_point"])
    assign_accounts(account_ids=[account.pk])
    row = AccountSectors.objects.get(pk=account.pk)
    assert row.book == town.b2 and row.reading_sequence is None
    # The engine's own history row records the move as it is: new book, no place in it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT book_id, reading_sequence FROM sectors_accountsectorsevent"
            " WHERE pgh_obj_id = %s ORDER BY pgh_id DESC LIMIT 1",
            [account.pk],
        )
        assert cursor.fetchone() == (town.b2.pk, None)
