"""metering.macrometers: readings by hand, CSV and telemetry, checked as a whole batch."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from metering.macrometers import (
    MacrometerBatchError,
    MacrometerRow,
    macrometer_readings_record,
    macrometer_rows_from_csv,
)
from metering.models import MacrometerImport, MacrometerReading
from metering.services import MeteringError
from tests.metering.balance_factories import at, district, macrometer, registers

pytestmark = pytest.mark.django_db

GOOD_FILE = (
    b"macrometer,read_at,forward_m3\n"
    b"M1,2025-03-01T00:00:00-06:00,100.5\n"
    b"M1,2025-03-02 00:00,180\n"  # no offset: the utility's time zone
    b"M1,2025-03-03T00:00:00-06:00,260.125\n"
)


@pytest.fixture
def m1():
    return macrometer("M1", dma_in=district("D1"))


def record(content: bytes, source="file", **kwargs):
    return macrometer_readings_record(
        rows=macrometer_rows_from_csv(content), source=source, content=content, **kwargs
    )


def refused(content: bytes) -> list[str]:
    with pytest.raises(MacrometerBatchError) as error:
        record(content)
    return error.value.errors


def test_a_file_is_stored_with_instants_without_offset_in_local_time(m1):
    report = record(GOOD_FILE, name="scada.csv")
    assert (report.rows, report.added, report.duplicates, report.replay) == (3, 3, 0, False)
    stored = list(MacrometerReading.objects.order_by("read_at"))
    assert [r.forward_m3 for r in stored] == [
        Decimal("100.500"),
        Decimal("180.000"),
        Decimal("260.125"),
    ]
    assert stored[1].read_at == at(2025, 3, 2)
    assert {r.batch_id for r in stored} == {report.batch_id}


def test_the_same_file_again_adds_nothing_and_answers_the_first_figures(m1):
    first = record(GOOD_FILE)
    again = record(GOOD_FILE)
    assert again.replay and (again.batch_id, again.added) == (first.batch_id, 3)
    assert MacrometerReading.objects.count() == 3
    assert MacrometerImport.objects.count() == 1


def test_readings_already_stored_identically_count_as_duplicates(m1):
    record(GOOD_FILE)
    overlapping = GOOD_FILE + b"M1,2025-03-04T00:00:00-06:00,300\n"
    report = record(overlapping)
    assert (report.added, report.duplicates) == (1, 3)
    assert MacrometerReading.objects.count() == 4


def test_a_register_going_down_refuses_the_whole_file_and_names_the_line(m1):
    bad = GOOD_FILE + b"M1,2025-03-04T00:00:00-06:00,250\n"
    errors = refused(bad)
    assert len(errors) == 1
    assert errors[0].startswith("Line 5:") and "goes down" in errors[0]
    assert MacrometerReading.objects.count() == 0


def test_a_register_below_a_stored_later_reading_is_refused(m1):
    registers(m1, (at(2025, 3, 10), 1000))
    errors = refused(b"macrometer,read_at,forward_m3\nM1,2025-03-05T00:00:00-06:00,1200\n")
    assert len(errors) == 1 and errors[0].startswith("Line 2:") and "1200" in errors[0]


def test_a_stored_reading_with_other_registers_at_the_same_instant_is_refused(m1):
    registers(m1, (at(2025, 3, 1), 100))
    errors = refused(b"macrometer,read_at,forward_m3\nM1,2025-03-01T00:00:00-06:00,101\n")
    assert len(errors) == 1 and "already has a reading" in errors[0]


def test_the_same_instant_twice_in_a_file_with_other_registers_is_refused(m1):
    errors = refused(
        b"macrometer,read_at,forward_m3\n"
        b"M1,2025-03-01T00:00:00-06:00,100\n"
        b"M1,2025-03-01T00:00:00-06:00,105\n"
    )
    assert errors == ["Line 3: Line 2 gives macrometer “M1” other registers at the same instant."]


def test_the_same_reading_twice_in_a_file_is_stored_once(m1):
    row = b"M1,2025-03-01T00:00:00-06:00,100\n"
    report = record(b"macrometer,read_at,forward_m3\n" + row + row)
    assert report.added == 1 and MacrometerReading.objects.count() == 1


def test_every_bad_line_is_reported_with_its_reason(m1):
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    errors = refused(
        b"macrometer;read_at;forward_m3;reverse_m3\n"
        b"M9;2025-03-01T00:00:00-06:00;1;\n"
        b"M1;yesterday;1;\n"
        b"M1;" + future.encode() + b";1;\n"
        b"M1;2025-03-01T00:00:00-06:00;-4;\n"
        b"M1;2025-03-02T00:00:00-06:00;12,5;\n"
        b"M1;2025-03-03T00:00:00-06:00;1.2345;\n"
        b"M1;2025-03-04T00:00:00-06:00;7;3\n"
    )
    assert [e.split(":")[0] for e in errors] == [f"Line {n}" for n in range(2, 9)]
    assert "no macrometer “M9”" in errors[0]
    assert "not a date and time" in errors[1]
    assert "in the future" in errors[2]
    assert "cannot be negative" in errors[3]
    assert "is not a number" in errors[4]
    assert "more than 3 decimals" in errors[5]
    assert "not bidirectional" in errors[6]
    assert MacrometerReading.objects.count() == 0


def test_an_instant_outside_the_meters_service_is_refused():
    retired = macrometer("OLD", dma_in=district("D2"), in_service_until=at(2025, 3, 1))
    errors = refused(b"macrometer,read_at,forward_m3\nOLD,2025-03-05T00:00:00-06:00,10\n")
    assert "was not in service" in errors[0]
    assert not retired.readings.exists()


def test_a_reverse_register_is_kept_for_a_bidirectional_meter():
    macrometer("BI", dma_in=district("D3"), bidirectional=True)
    record(b"macrometer,read_at,forward_m3,reverse_m3\nBI,2025-03-01T00:00:00-06:00,10,2.5\n")
    assert MacrometerReading.objects.get().reverse_m3 == Decimal("2.500")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\xff\xfe\x00bad", "macrometer_file_encoding"),
        (b"meter,when,value\nM1,2025-03-01,1\n", "macrometer_file_columns"),
        (b"macrometer,read_at,forward_m3\n\n", "macrometer_file_empty"),
    ],
)
def test_a_file_that_is_not_a_readings_csv_is_refused(content, code):
    with pytest.raises(MeteringError) as error:
        macrometer_rows_from_csv(content)
    assert error.value.code == code


def test_a_manual_reading_is_stored_without_a_batch(m1):
    row = MacrometerRow(where="Reading", macrometer="M1", read_at=at(2025, 3, 1), forward_m3="7")
    report = macrometer_readings_record(rows=[row], source="manual")
    assert report.batch_id is None and report.added == 1
    assert MacrometerReading.objects.get().source == "manual"
