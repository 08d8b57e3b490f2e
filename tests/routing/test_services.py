"""Reading plans on a crafted street grid: coverage, balance, caps, stable mode, locks,
moves and publishing into the field app's reading order."""

import datetime as dt

import numpy as np
import pytest

from metering.models import ReadingAssignment
from metering.selectors import assignment_meters
from routing.engine import adjacent_pairs_kept
from routing.models import OptimizationRun, RoutingError, RunKind, RunStatus
from routing.services import (
    hull_overlap,
    params_clean,
    plan_build,
    plan_lock,
    plan_move,
    plan_publish,
)
from sectors.models import AccountSectors
from tests.metering.factories import month_period, reader
from tests.routing.factories import book, meters_at, street_grid, xy

pytestmark = pytest.mark.django_db


def block_side_positions(n, *, seed=1, size=500.0, spacing=100.0):
    """``n`` meters 6 m off the streets of a grid, spread over its block sides."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.5:  # along a horizontal street
            x = rng.uniform(5, size - 5)
            y = spacing * rng.integers(0, int(size / spacing) + 1) + rng.choice([-6, 6])
        else:
            x = spacing * rng.integers(0, int(size / spacing) + 1) + rng.choice([-6, 6])
            y = rng.uniform(5, size - 5)
        out.append((float(x), float(y)))
    return out


@pytest.fixture
def town():
    street_grid(6, 6)  # 500 m x 500 m, 25 blocks
    libro = book("L1")
    accounts = meters_at(block_side_positions(150), in_book=libro)
    return libro, accounts


def plan(libro, **params):
    return plan_build(params=params_clean({"time_limit_s": 4, **params}), book_id=libro.pk)


def done_run(libro, result, **params) -> OptimizationRun:
    return OptimizationRun.objects.create(
        kind=RunKind.READING,
        status=RunStatus.DONE,
        book=libro,
        params=params_clean({"readers": 4, **params}),
        result=result,
    )


@pytest.mark.parametrize("method", ["partition", "vrp"])
def test_every_meter_is_in_exactly_one_route_and_workloads_are_within_ten_percent(town, method):
    libro, accounts = town
    result = plan(libro, readers=4, method=method)
    stops = [a for r in result["routes"] for a in r["stops"]]
    assert sorted(stops) == sorted(a.pk for a in accounts)
    assert len(result["routes"]) == 4
    minutes = [r["minutes"] for r in result["routes"]]
    assert max(abs(m - np.mean(minutes)) for m in minutes) <= 0.10 * np.mean(minutes)
    assert result["totals"]["imbalance"] <= 0.10
    # Figures add up: minutes are travel + service (1 min a meter).
    for r in result["routes"]:
        assert r["service_minutes"] == pytest.approx(r["meters"] * 1.0)
        assert r["minutes"] == pytest.approx(r["travel_minutes"] + r["service_minutes"], abs=0.2)
    assert result["solver"]["name"].startswith("OR-Tools")
    assert result["solver"]["objective"] > 0


def test_the_plan_walks_less_than_the_book_in_account_number_order(town):
    libro, _ = town
    result = plan(libro, readers=1)
    assert result["current"]["totals"]["meters"] == 150
    assert result["totals"]["km"] < 0.5 * result["current"]["totals"]["km"]
    assert result["saved"]["km"] > 0 and result["saved"]["minutes"] > 0


def test_routes_are_compact_not_interleaved(town):
    libro, accounts = town
    result = plan(libro, readers=4)
    points = result["points"]
    # Each meter's nearest other meter is, for most meters, on the same route.
    owner = {a: k for k, r in enumerate(result["routes"]) for a in r["stops"]}
    ids = list(owner)
    lonlat = np.array([[points[str(a)][1], points[str(a)][2]] for a in ids])
    d = np.hypot(*(lonlat[:, None, :] - lonlat[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    same = [owner[ids[i]] == owner[ids[int(np.argmin(d[i]))]] for i in range(len(ids))]
    assert np.mean(same) >= 0.85
    # Their hulls overlap far less than four routes cut from the book in account-number order.
    xy_all = np.array(
        [[a.service_point.x, a.service_point.y] for a in sorted(accounts, key=lambda a: a.number)]
    )
    by_number = hull_overlap(xy_all, np.repeat(np.arange(4), [38, 38, 37, 37]))
    assert result["totals"]["overlap"] < 0.5 * by_number


def test_a_cap_on_meters_per_route_sets_the_number_of_routes(town):
    libro, _ = town
    result = plan(libro, max_meters=40)
    assert len(result["routes"]) == 4  # 150 / 40 → 4
    assert max(r["meters"] for r in result["routes"]) <= 40
    assert result["totals"]["meters"] == 150


def test_a_cap_on_minutes_per_route_is_kept(town):
    libro, _ = town
    result = plan(libro, max_minutes=90)
    assert max(r["minutes"] for r in result["routes"]) <= 90 * 1.02
    assert result["totals"]["meters"] == 150


def test_routes_from_the_office_start_there(town):
    libro, _ = town
    office = list(xy(250, 250))
    from_office = plan(libro, readers=2, start="office", office=office)
    open_routes = plan(libro, readers=2)
    # Walking to and from the office adds distance to every route.
    assert from_office["totals"]["km"] > open_routes["totals"]["km"]


def test_stable_mode_keeps_routes_and_order_after_two_percent_new_meters(town):
    libro, accounts = town
    base = done_run(libro, plan(libro, readers=4))
    new = meters_at(block_side_positions(3, seed=9), in_book=libro)  # 2% more meters
    result = plan_build(
        params=params_clean({"readers": 4, "stable": True, "time_limit_s": 4}),
        book_id=libro.pk,
        base=base.result,
    )
    before = [r["stops"] for r in base.result["routes"]]
    after = [r["stops"] for r in result["routes"]]
    assert sorted(a for r in after for a in r) == sorted(a.pk for a in accounts + new)
    assert adjacent_pairs_kept(before, after) >= 0.90
    owner = {a: k for k, r in enumerate(before) for a in r}
    assert all(owner[a] == k for k, r in enumerate(after) for a in r if a in owner)
    assert result["totals"]["imbalance"] <= 0.15


def test_locked_routes_are_unchanged_when_the_rest_is_optimized_again(town):
    libro, _ = town
    base = done_run(libro, plan(libro, readers=4))
    base = plan_lock(run=base, route=2, locked=True)
    result = plan_build(
        params=params_clean({"readers": 4, "locked_routes": [2], "time_limit_s": 3}),
        book_id=libro.pk,
        base=base.result,
    )
    assert result["routes"][2]["stops"] == base.result["routes"][2]["stops"]
    assert result["routes"][2]["locked"] is True
    assert sorted(a for r in result["routes"] for a in r["stops"]) == sorted(
        a for r in base.result["routes"] for a in r["stops"]
    )


def test_moving_a_meter_updates_both_routes_and_locked_routes_refuse(town):
    libro, _ = town
    run = done_run(libro, plan(libro, readers=3))
    meter = run.result["routes"][0]["stops"][0]
    run = plan_move(run=run, account_id=meter, to_route=1)
    routes = run.result["routes"]
    assert meter not in routes[0]["stops"] and meter in routes[1]["stops"]
    assert routes[1]["meters"] == len(routes[1]["stops"])
    assert run.result["totals"]["meters"] == 150
    plan_lock(run=run, route=1, locked=True)
    with pytest.raises(RoutingError) as err:
        plan_move(run=run, account_id=routes[2]["stops"][0], to_route=1)
    assert err.value.code == "locked"


def test_published_routes_become_the_reading_order_of_the_field_app(town):
    libro, accounts = town
    run = done_run(libro, plan(libro, readers=2))
    assert plan_publish(run=run) == 150
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    period = month_period(2025, 3)
    assignment = ReadingAssignment.objects.create(
        period=period, book=libro, reader=reader(), scheduled_on=dt.date(2025, 3, 5)
    )
    served = [m["account"] for m in assignment_meters(assignment=assignment)]
    numbers = {a.pk: a.number for a in accounts}
    expected = [numbers[a] for r in run.result["routes"] for a in r["stops"]]
    assert served == expected
    # A published plan is not edited again.
    with pytest.raises(RoutingError) as err:
        plan_lock(run=run, route=0, locked=True)
    assert err.value.code == "published"


def test_publishing_clears_old_sequences_of_accounts_left_out_of_the_plan(town):
    libro, accounts = town
    AccountSectors.objects.filter(account=accounts[0]).update(reading_sequence=7)
    result = plan(libro, readers=1)
    result["routes"][0]["stops"].remove(accounts[0].pk)
    plan_publish(run=done_run(libro, result))
    assert AccountSectors.objects.get(account=accounts[0]).reading_sequence is None


def test_parameters_are_checked():
    with pytest.raises(RoutingError) as err:
        params_clean({})
    assert err.value.field == "readers"
    with pytest.raises(RoutingError) as err:
        params_clean({"readers": 2, "start": "office"})
    assert err.value.field == "office"
    with pytest.raises(RoutingError) as err:
        params_clean({"readers": 2, "colour": "red"})
    assert err.value.code == "bad_params"


def test_a_run_is_executed_once_even_if_its_task_arrives_twice(town):
    from routing.services import run_execute

    libro, _ = town
    run = OptimizationRun.objects.create(
        kind=RunKind.READING, book=libro, params=params_clean({"readers": 2, "time_limit_s": 1})
    )
    assert run_execute(run_id=run.pk) == RunStatus.DONE
    first = OptimizationRun.objects.get(pk=run.pk).result
    assert run_execute(run_id=run.pk) == "skipped"
    assert OptimizationRun.objects.get(pk=run.pk).result == first
