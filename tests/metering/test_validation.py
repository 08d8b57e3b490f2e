"""The validation rules on arrival: each flags its own case and only its case; rejections say
what is wrong; thresholds come from the ValidationRule table."""

from decimal import Decimal

import pytest
from django.db import connection

from metering.models import Reading, ReadingStatus, RuleCode, ValidationRule
from metering.validation import RuleParamsError, _window_sql, rule_params_clean
from tests.metering.factories import history, item, local, lonlat, meter, sync

pytestmark = pytest.mark.django_db


def flags_of(result, index=-1):
    return result.results[index].flags


def last_reading(m):
    return Reading.objects.filter(meter=m).order_by("-captured_at", "-id").first()


def test_a_plain_reading_raises_no_flag(periods, lector):
    m = meter()
    history(lector, m, [100, 110, 121, 130])
    result = sync(lector, item(m, 141, local(2025, 5, 10)))
    assert flags_of(result) == []
    assert last_reading(m).status == ReadingStatus.VALID


def test_reading_below_previous_is_flagged_below_previous_only(periods, lector):
    m = meter()
    history(lector, m, [100, 110, 121])
    result = sync(lector, item(m, 95, local(2025, 4, 10)))
    assert flags_of(result) == ["below_previous"]
    reading = last_reading(m)
    assert (reading.status, reading.consumption, reading.rollover) == (
        ReadingStatus.FLAGGED,
        Decimal("-26.000"),
        False,
    )


def test_rollover_is_not_below_previous(periods, lector):
    m = meter(dials=5)
    history(lector, m, [99_950, 99_990])
    result = sync(lector, item(m, 30, local(2025, 3, 10)))
    assert flags_of(result) == []
    assert (last_reading(m).consumption, last_reading(m).rollover) == (Decimal("40.000"), True)


def test_a_wrap_larger_than_the_rollover_share_is_below_previous(periods, lector):
    # 10^4 register: from 9,000 to 5,000 would be a 6,000 m³ wrap (60 % of the register).
    m = meter(dials=4)
    history(lector, m, [8_990, 9_000])
    result = sync(lector, item(m, 5_000, local(2025, 3, 10)))
    assert flags_of(result) == ["below_previous"]


def test_zero_consumption_flags_from_the_third_zero_period_on(periods, lector):
    m = meter()
    history(lector, m, [500, 510, 510, 510])  # two zero periods so far: no flag yet
    assert Reading.objects.filter(meter=m, status=ReadingStatus.FLAGGED).count() == 0
    result = sync(lector, item(m, 510, local(2025, 5, 10)))
    assert flags_of(result) == ["zero_consumption"]


def test_consumption_far_above_history_is_flagged_high_consumption(periods, lector):
    m = meter()
    history(lector, m, [1000, 1010, 1020, 1030, 1040])  # 10 m³ a month
    result = sync(lector, item(m, 1080, local(2025, 6, 10)))  # 40 m³: 4x and +30 m³
    assert flags_of(result) == ["high_consumption"]


def test_high_percentage_but_small_absolute_excess_is_not_flagged(periods, lector):
    m = meter()
    history(lector, m, [1000, 1002, 1004, 1006, 1008])  # 2 m³ a month
    result = sync(lector, item(m, 1016, local(2025, 6, 10)))  # 8 m³: 4x but only +6 m³
    assert flags_of(result) == []


def test_high_consumption_needs_enough_history(periods, lector):
    m = meter()
    history(lector, m, [1000, 1010, 1020])  # two consumptions known, three needed
    result = sync(lector, item(m, 1100, local(2025, 4, 10)))
    assert flags_of(result) == []


def test_reader_far_from_the_meter_is_flagged_gps_far(periods, lector):
    m = meter()
    history(lector, m, [100, 110])
    far = item(m, 120, local(2025, 3, 10), position=lonlat(m.location, 400, 0), accuracy_m=5)
    near = item(m, 130, local(2025, 4, 10), position=lonlat(m.location, 20, 0), accuracy_m=5)
    assert flags_of(sync(lector, far)) == ["gps_far"]
    assert flags_of(sync(lector, near)) == []


def test_poor_gps_accuracy_widens_the_allowed_distance_up_to_a_cap(periods, lector):
    m = meter()
    history(lector, m, [100, 110])
    # 80 m away: beyond 50 m, but within 50 m + 40 m of reported accuracy.
    fuzzy = item(m, 120, local(2025, 3, 10), position=lonlat(m.location, 80, 0), accuracy_m=40)
    # 150 m away with 500 m "accuracy": only 50 m of it counts.
    vague = item(m, 130, local(2025, 4, 10), position=lonlat(m.location, 150, 0), accuracy_m=500)
    assert flags_of(sync(lector, fuzzy)) == []
    assert flags_of(sync(lector, vague)) == ["gps_far"]


def test_observation_that_requires_a_photo_without_one_is_flagged(periods, lector):
    m = meter()
    history(lector, m, [100, 110])
    with_photo = item(m, 120, local(2025, 3, 10), observation="leak", photo=True)
    without = item(m, 130, local(2025, 4, 10), observation="leak", photo=False)
    assert flags_of(sync(lector, with_photo)) == ["observation"]
    assert flags_of(sync(lector, without)) == ["photo_missing", "observation"]


def test_no_access_observation_is_stored_without_value_and_without_flags(periods, lector):
    m = meter()
    history(lector, m, [100, 110])
    result = sync(lector, item(m, None, local(2025, 3, 10), observation="no_access"))
    assert result.results[0].status == "accepted"
    assert flags_of(result) == []
    reading = last_reading(m)
    assert (reading.value, reading.consumption, reading.observation_id) == (
        None,
        None,
        "no_access",
    )
    # The next reading counts from the last one with a value.
    sync(lector, item(m, 131, local(2025, 4, 10)))
    assert last_reading(m).consumption == Decimal("21.000")


def test_a_disabled_rule_flags_nothing(periods, lector):
    ValidationRule.objects.filter(code=RuleCode.BELOW_PREVIOUS).update(enabled=False)
    m = meter()
    history(lector, m, [100, 110])
    assert flags_of(sync(lector, item(m, 90, local(2025, 3, 10)))) == []


def test_thresholds_come_from_the_rule_table(periods, lector):
    ValidationRule.objects.filter(code=RuleCode.GPS_FAR).update(
        params={"max_distance_m": 500, "max_accuracy_m": 0}
    )
    m = meter()
    history(lector, m, [100, 110])
    far = item(m, 120, local(2025, 3, 10), position=lonlat(m.location, 400, 0))
    assert flags_of(sync(lector, far)) == []


def test_rule_params_are_checked_with_a_clear_message():
    with pytest.raises(RuleParamsError, match="max_distance_m"):
        rule_params_clean(RuleCode.GPS_FAR, {"max_distance_m": -3})
    with pytest.raises(RuleParamsError, match="Unknown parameters"):
        rule_params_clean(RuleCode.GPS_FAR, {"radius": 3})
    assert rule_params_clean(RuleCode.ZERO_CONSUMPTION, {}) == {"periods": 3}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"value": "12.5.3"}, "value_invalid"),
        ({"value": "1.2345"}, "value_invalid"),
        ({"value": "1e3"}, "value_invalid"),
        ({"value": "12345678"}, "value_too_large"),
        ({"captured_at": "2025-02-30T10:00:00-06:00"}, "captured_at_invalid"),
        ({"captured_at": "2025-03-04T10:00:00"}, "captured_at_invalid"),
        ({"captured_at": "2099-03-04T10:00:00Z"}, "captured_in_future"),
        ({"captured_at": "2024-06-04T10:00:00Z"}, "before_installation"),
        ({"client_id": "not-a-uuid"}, "client_id_invalid"),
        ({"observation": "ufo"}, "observation_unknown"),
        ({"value": None}, "value_required"),
        ({"observation": "no_access"}, "value_not_allowed"),
        ({"position": {"lon": 500, "lat": 20}}, "position_invalid"),
        ({"accuracy_m": "-4"}, "accuracy_invalid"),
        ({"meter_id": None}, "meter_missing"),
    ],
)
def test_impossible_items_are_rejected_with_their_reason(periods, lector, changes, code):
    m = meter()
    result = sync(lector, {**item(m, 100, local(2025, 3, 10)), **changes})
    answer = result.results[0]
    assert (answer.status, answer.code) == ("rejected", code)
    assert answer.message
    assert not Reading.objects.filter(meter=m).exists()


def test_a_reading_outside_every_period_is_rejected(lector):
    m = meter()
    result = sync(lector, item(m, 100, local(2025, 3, 10)))
    assert result.results[0].code == "no_period"
    assert "2025-03-10" in result.results[0].message


def test_a_bad_value_beside_good_ones_does_not_spoil_the_batch(periods, lector):
    # One uncastable value sends the batch through the row-by-row parse; the others still land.
    m1, m2 = meter(), meter()
    result = sync(
        lector,
        item(m1, 100, local(2025, 3, 10)),
        {**item(m2, 100, local(2025, 3, 10)), "captured_at": "2025-02-29T10:00:00Z"},
        item(m2, 100, local(2025, 3, 11)),
    )
    assert [r.status for r in result.results] == ["accepted", "rejected", "accepted"]
    assert result.results[1].code == "captured_at_invalid"


def test_the_chain_probe_reads_the_index_alone(periods, lector):
    """The last readings of a meter come from the chain index without visiting the table
    (migration 0014): everything the chain and the rules read is in the index."""
    m = meter()
    history(lector, m, [100, 110, 121])
    window = _window_sql(False, 6, bounded=True)
    sql = f"""SELECT w.* FROM (SELECT 130::numeric AS value, %s::bigint AS meter_id,
                                      NULL::bigint AS period_id, now() AS captured_at) c,
                              (SELECT false AS in_order) o,
                              LATERAL ({window}) w"""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, [m.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, [m.pk])
        prev_value, *_rest = cursor.fetchone()
    assert "Index Only Scan Backward using reading_meter_time" in plan
    assert prev_value == Decimal("121")
