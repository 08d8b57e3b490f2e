"""Meter changes: the removal and installation readings keep consumption right across a swap."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from metering.estimation import consumption_compute
from metering.models import AccountConsumption, Meter, MeterStatus, Reading, ReadingKind
from metering.services import MeteringError, meter_change
from tests.factories import UserFactory
from tests.metering.factories import history, item, local, meter, sync

pytestmark = pytest.mark.django_db


def stock_meter(serial="NEW-0001", dials=6):
    return Meter.objects.create(serial=serial, dials=dials, status=MeterStatus.IN_STOCK)


def test_a_swap_in_mid_period_counts_both_meters(periods, lector):
    old = meter()
    account = old.account
    history(lector, old, [1000, 1010])  # January, February
    new = stock_meter()
    # March 15: the old meter shows 1018 when removed; the new one starts at 2.
    change = meter_change(
        account=account,
        user=UserFactory(),
        changed_at=local(2025, 3, 15),
        removal_value="1018",
        new_meter=new,
        installation_value="2",
    )
    sync(lector, item(new, 9, local(2025, 3, 28)))
    consumption_compute(period=periods[2])

    removal = Reading.objects.get(pk=change.removal_reading_id)
    installation = Reading.objects.get(pk=change.installation_reading_id)
    assert (removal.kind, removal.consumption) == (ReadingKind.REMOVAL, Decimal("8.000"))
    assert (installation.kind, installation.consumption) == (
        ReadingKind.INSTALLATION,
        Decimal("0.000"),
    )
    assert Reading.objects.get(meter=new, captured_at=local(2025, 3, 28)).consumption == 7
    march = AccountConsumption.objects.get(account=account, period=periods[2])
    assert (march.volume_m3, march.method) == (Decimal("15.000"), "measured")  # 8 + 7
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status, new.account_id) == (
        MeterStatus.REMOVED,
        MeterStatus.INSTALLED,
        account.pk,
    )


def test_a_removed_meter_takes_no_more_readings(periods, lector):
    old = meter()
    history(lector, old, [1000])
    meter_change(
        account=old.account, user=UserFactory(), changed_at=local(2025, 2, 1), removal_value="1005"
    )
    result = sync(lector, item(old, 1010, local(2025, 2, 10)))
    assert result.results[0].code == "meter_not_installed"


def test_a_removal_reading_below_the_last_one_is_refused_and_nothing_changes(periods, lector):
    old = meter()
    history(lector, old, [1000, 1010])
    with pytest.raises(MeteringError) as err:
        meter_change(
            account=old.account,
            user=UserFactory(),
            changed_at=local(2025, 3, 5),
            removal_value="1004",
            new_meter=stock_meter(),
            installation_value="0",
        )
    assert err.value.code == "removal_below_previous"
    old.refresh_from_db()
    assert old.status == MeterStatus.INSTALLED
    assert Reading.objects.filter(meter=old).count() == 2


def test_a_meter_that_is_not_in_stock_cannot_be_installed(periods):
    old, other = meter(), meter()
    with pytest.raises(MeteringError) as err:
        meter_change(
            account=old.account,
            user=UserFactory(),
            changed_at=local(2025, 3, 5),
            removal_value="10",
            new_meter=other,
        )
    assert err.value.code == "meter_not_in_stock"


def test_a_change_dated_before_the_last_reading_is_refused(periods, lector):
    old = meter()
    history(lector, old, [1000, 1010])
    with pytest.raises(MeteringError) as err:
        meter_change(
            account=old.account,
            user=UserFactory(),
            changed_at=local(2025, 1, 20),
            removal_value="1005",
        )
    assert err.value.code == "change_before_last_reading"


def insert_raw_readings(*, meter_ids, account_id, value=1, observation_id=None):
    """Readings written by plain SQL, past the services: what the database alone allows. One
    statement, one row per meter id."""
    with connection.cursor() as cur:
        cur.execute(
            """INSERT INTO metering_reading (client_id, meter_id, account_id, kind, source,
                   value, observation_id, captured_at, received_at, device_id, photo_expected,
                   photo, rollover, flags, status, review_note)
               SELECT gen_random_uuid(), x, %s, 'regular', 'office', %s, %s, now(), now(),
                      '', FALSE, '', FALSE, '{}', 'valid', ''
                 FROM unnest(%s::bigint[]) AS x""",
            [account_id, value, observation_id, meter_ids],
        )


def test_the_database_refuses_a_reading_of_a_meter_that_does_not_exist(periods):
    m = meter()
    with (
        pytest.raises(IntegrityError, match="no such row in metering_meter"),
        transaction.atomic(),
    ):
        insert_raw_readings(meter_ids=[m.pk + 1000], account_id=m.account_id)


def test_the_database_refuses_to_delete_a_meter_that_has_readings(periods, lector):
    m = meter()
    history(lector, m, [100])
    with (
        pytest.raises(IntegrityError, match="still referred to by metering_reading"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("DELETE FROM metering_meter WHERE id = %s", [m.pk])
    assert Meter.objects.filter(pk=m.pk).exists()


def test_every_reference_of_a_reading_is_checked_per_statement_not_per_row():
    """No row-level foreign key is left on readings: each queued a check per inserted row,
    even for NULL columns (migration 0015)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'metering_reading'::regclass AND contype = 'f'"
        )
        assert cur.fetchall() == []


def test_the_database_refuses_a_reading_with_an_unknown_observation_code(periods):
    m = meter()
    with (
        pytest.raises(IntegrityError, match="no such row in metering_observationcode"),
        transaction.atomic(),
    ):
        insert_raw_readings(
            meter_ids=[m.pk], account_id=m.account_id, value=None, observation_id="no-such-code"
        )


def test_the_database_refuses_to_delete_a_reader_or_an_observation_code_in_use(periods, lector):
    m = meter()
    history(lector, m, [100])
    reading = Reading.objects.get(meter=m)
    with (
        pytest.raises(IntegrityError, match=r"still referred to by metering_reading\.reader_id"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("DELETE FROM auth_user WHERE id = %s", [lector.pk])
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE metering_reading SET observation_id = 'no_access', value = NULL WHERE id = %s",
            [reading.pk],
        )
    with (
        pytest.raises(
            IntegrityError, match=r"still referred to by metering_reading\.observation_id"
        ),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("DELETE FROM metering_observationcode WHERE code = 'no_access'")


def test_a_statement_with_several_dangling_meters_is_refused_naming_the_smallest(periods):
    """The per-statement check reads the whole set of new rows (migration 0015)."""
    m = meter()
    with (
        pytest.raises(IntegrityError, match=rf"meter_id = {m.pk + 1000}: there is no such row"),
        transaction.atomic(),
    ):
        insert_raw_readings(meter_ids=[m.pk + 2000, m.pk, m.pk + 1000], account_id=m.account_id)
