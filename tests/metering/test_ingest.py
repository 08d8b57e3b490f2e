"""Bulk readings files: validated with the sync's rules, a per-row report, replays are no-ops,
malformed files write nothing."""

from decimal import Decimal

import pytest

from metering.ingest import readings_file_ingest, rejections_csv
from metering.models import IngestBatch, IngestRejection, Reading, ReadingSource
from metering.services import MeteringError
from tests.metering.factories import history, local, meter

pytestmark = pytest.mark.django_db


def csv_of(*rows, header="meter_serial,value,observation,captured_at"):
    return (header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def ts(y, m, d):
    return local(y, m, d).isoformat()


def test_a_file_stores_its_good_rows_and_reports_each_bad_one(periods, lector):
    a, b = meter(serial="A-1"), meter(serial="B-1")
    history(lector, a, [100])
    history(lector, b, [500])
    data = csv_of(
        ("A-1", "112", "", ts(2025, 2, 10)),
        ("B-1", "", "no_access", ts(2025, 2, 10)),
        ("ZZ-9", "10", "", ts(2025, 2, 10)),
        ("A-1", "12.5.1", "", ts(2025, 2, 11)),
        ("B-1", "520", "", ts(2025, 3, 10)),
    )

    report = readings_file_ingest(period_code="2025-02", fileobj=data, name="feb.csv")

    assert (report.batch.rows, report.batch.accepted, report.batch.rejected) == (5, 2, 3)
    got = {(r["row"], r["meter"], r["code"]) for r in report.as_dict()["rejections"]}
    assert got == {
        (3, "ZZ-9", "unknown_meter"),
        (4, "A-1", "value_invalid"),
        (5, "B-1", "outside_period"),
    }
    assert "ZZ-9" in IngestRejection.objects.get(row_no=3).message
    stored = Reading.objects.get(meter=a, source=ReadingSource.FILE)
    assert (stored.consumption, stored.batch_id) == (Decimal("12.000"), report.batch.pk)


def test_the_same_file_twice_applies_nothing_the_second_time(periods, lector):
    a = meter(serial="A-1")
    data = csv_of(("A-1", "112", "", ts(2025, 2, 10)))
    first = readings_file_ingest(period_code="2025-02", fileobj=data, name="feb.csv")
    second = readings_file_ingest(period_code="2025-02", fileobj=data, name="feb-copy.csv")
    assert (first.replay, second.replay) == (False, True)
    assert second.batch.pk == first.batch.pk
    assert Reading.objects.filter(meter=a).count() == 1


def test_the_same_rows_in_another_file_are_duplicates(periods, lector):
    a = meter(serial="A-1")
    row = ("A-1", "112", "", ts(2025, 2, 10))
    readings_file_ingest(period_code="2025-02", fileobj=csv_of(row), name="one.csv")
    other = csv_of(row, ("A-1", "113", "", ts(2025, 2, 12)))
    report = readings_file_ingest(period_code="2025-02", fileobj=other, name="two.csv")
    assert (report.batch.accepted, report.batch.duplicates) == (1, 1)
    # The corrected row is a second reading of the meter in the period: both kept, flagged.
    assert sorted(Reading.objects.filter(meter=a).values_list("flags", flat=True)) == [
        ["conflict"],
        ["conflict"],
    ]


def test_a_file_with_a_broken_row_writes_nothing(periods):
    meter(serial="A-1")
    data = csv_of(("A-1", "112", "", ts(2025, 2, 10)), ("A-1", "1", "x", "y", "extra"))
    with pytest.raises(MeteringError) as err:
        readings_file_ingest(period_code="2025-02", fileobj=data, name="bad.csv")
    assert err.value.code == "file_malformed"
    assert not IngestBatch.objects.exists()
    assert not Reading.objects.exists()


def test_an_unknown_column_is_named(periods):
    with pytest.raises(MeteringError, match="lecturista"):
        readings_file_ingest(
            period_code="2025-02",
            fileobj=csv_of(("A-1", "1", ts(2025, 2, 1)), header="serie,lectura,lecturista"),
            name="x.csv",
        )


def test_spanish_headers_and_semicolons_are_understood(periods):
    a = meter(serial="A-1")
    data = f"serie;lectura;fecha\nA-1;7;{ts(2025, 2, 3)}\n".encode()
    report = readings_file_ingest(period_code="2025-02", fileobj=data, name="x.csv")
    assert report.batch.accepted == 1
    assert Reading.objects.get(meter=a).value == Decimal("7.000")


def test_a_period_that_is_not_open_is_refused(periods):
    with pytest.raises(MeteringError) as err:
        readings_file_ingest(period_code="2031-01", fileobj=csv_of(), name="x.csv")
    assert err.value.code == "period_not_open"


def test_the_rejection_report_is_a_csv(periods):
    data = csv_of(("ZZ-9", "10", "", ts(2025, 2, 10)))
    report = readings_file_ingest(period_code="2025-02", fileobj=data, name="x.csv")
    import io

    out = io.StringIO()
    rejections_csv(batch=report.batch, out=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("1,ZZ-9,unknown_meter,")


def test_the_same_row_twice_in_one_file_is_stored_once(periods, lector):
    a = meter(serial="A-1")
    row = ("A-1", "112", "", ts(2025, 2, 10))
    report = readings_file_ingest(
        period_code="2025-02",
        fileobj=csv_of(row, ("A-1", "113", "", ts(2025, 2, 12)), row),
        name="twice.csv",
    )
    assert (report.batch.rows, report.batch.accepted, report.batch.duplicates) == (3, 2, 1)
    assert sorted(Reading.objects.filter(meter=a).values_list("value", flat=True)) == [
        Decimal("112"),
        Decimal("113"),
    ]


def test_a_device_id_stored_in_another_period_is_a_duplicate_in_a_file(periods, lector):
    """Files with their own client ids keep the insert's check against every stored reading
    (the resolve step looks only among the file's period); derived ids carry their period."""
    a = meter(serial="A-1")
    history(lector, a, [100])  # January, synced by the field app
    january = Reading.objects.get(meter=a)
    data = csv_of(
        (str(january.client_id), "A-1", "112", "", ts(2025, 2, 10)),
        header="client_id,meter_serial,value,observation,captured_at",
    )
    report = readings_file_ingest(period_code="2025-02", fileobj=data, name="feb.csv")
    assert (report.batch.rows, report.batch.accepted, report.batch.duplicates) == (1, 0, 1)
    assert Reading.objects.filter(meter=a).count() == 1


def test_a_write_colliding_with_a_stored_reading_refuses_the_file_and_writes_nothing(
    periods, lector
):
    """A file's derived ids are looked up among its period's readings only; a stored reading
    that no longer sits in that period (moved by hand here) makes the insert collide. The
    clerk gets a message to act on, and neither the batch nor any row stays."""
    from metering.models import ReadingPeriod

    a, b = meter(serial="A-1"), meter(serial="B-1")
    row = ("A-1", "112", "", ts(2025, 2, 10))
    readings_file_ingest(period_code="2025-02", fileobj=csv_of(row), name="one.csv")
    Reading.objects.filter(meter=a).update(
        period=ReadingPeriod.objects.get(code="2025-03", cycle=a.account.billing_cycle)
    )
    batches, readings = IngestBatch.objects.count(), Reading.objects.count()
    other = csv_of(row, ("B-1", "520", "", ts(2025, 2, 12)))
    with pytest.raises(MeteringError) as err:
        readings_file_ingest(period_code="2025-02", fileobj=other, name="two.csv")
    assert err.value.code == "file_conflict"
    assert "nothing was written" in err.value.message
    assert (IngestBatch.objects.count(), Reading.objects.count()) == (batches, readings)
    assert not Reading.objects.filter(meter=b).exists()
