"""The isolation trace on hand-made networks whose answers were worked out on paper."""

import pytest

from network.models import NetworkError
from network.selectors import isolation_trace
from tests.network.factories import connected_account, pipe, pt, valve

pytestmark = pytest.mark.django_db


@pytest.fixture
def main_line():
    """A(0,0) ─p1─ B(100,0) ─p2─ C(200,0) ─p3─ D(300,0); valves at x=50, 150, 250.

    Accounts: a30 and a80 on p1, a140 and a170 on p2, a280 on p3."""
    p1 = pipe("P1", (0, 0), (100, 0))
    p2 = pipe("P2", (100, 0), (200, 0))
    p3 = pipe("P3", (200, 0), (300, 0))
    v = {x: valve(f"V{x}", x, 0) for x in (50, 150, 250)}
    accounts = {
        x: connected_account(p, x, 0)
        for x, p in ((30, p1), (80, p1), (140, p2), (170, p2), (280, p3))
    }
    return {"pipes": (p1, p2, p3), "valves": v, "accounts": accounts}


def test_break_between_two_operable_valves_closes_those_two(main_line):
    p1, p2, _p3 = main_line["pipes"]
    v, a = main_line["valves"], main_line["accounts"]
    trace = isolation_trace(point=pt(120, 3))
    assert trace.pipe_id == p2.pk
    assert trace.valves == sorted([v[50].pk, v[150].pk])
    assert trace.pipes == sorted([p1.pk, p2.pk])
    assert trace.accounts == sorted([a[80].pk, a[140].pk])
    assert trace.passed_valves == []
    assert not trace.unbounded


def test_inoperable_valve_is_passed_and_the_section_extends_to_the_next(main_line):
    p1, p2, p3 = main_line["pipes"]
    v, a = main_line["valves"], main_line["accounts"]
    v[150].operable = False
    v[150].save()
    trace = isolation_trace(point=pt(120, 0))
    assert trace.valves == sorted([v[50].pk, v[250].pk])
    assert trace.passed_valves == [v[150].pk]
    assert trace.pipes == sorted([p1.pk, p2.pk, p3.pk])
    assert trace.accounts == sorted([a[80].pk, a[140].pk, a[170].pk])


def test_closed_valve_bounds_the_section_without_being_listed_to_close(main_line):
    v, a = main_line["valves"], main_line["accounts"]
    v[50].current_status = "closed"
    v[50].save()
    trace = isolation_trace(point=pt(120, 0))
    assert trace.valves == [v[150].pk]
    assert trace.closed_valves == [v[50].pk]
    assert trace.accounts == sorted([a[80].pk, a[140].pk])


def test_section_without_valve_to_a_dead_end_is_unbounded(main_line):
    v, a = main_line["valves"], main_line["accounts"]
    trace = isolation_trace(point=pt(10, 0))
    assert trace.valves == [v[50].pk]
    assert trace.accounts == [a[30].pk]
    assert trace.unbounded


def test_loop_valve_reached_from_both_sides_is_not_closed():
    """Square A(0,0) B(100,0) C(100,100) D(0,100) with a valve on AB at x=20, and a branch
    B─E(200,0) with a valve at x=150. A break on CD reaches the AB valve from A and from B:
    the whole loop is isolated and only the branch valve must be closed."""
    ab = pipe("AB", (0, 0), (100, 0))
    bc = pipe("BC", (100, 0), (100, 100))
    cd = pipe("CD", (100, 100), (0, 100))
    da = pipe("DA", (0, 100), (0, 0))
    be = pipe("BE", (100, 0), (200, 0))
    valve("VAB", 20, 0)
    vbe = valve("VBE", 150, 0)
    on_loop = connected_account(da, 0, 50)
    beyond = connected_account(be, 180, 0)
    before = connected_account(be, 120, 0)
    trace = isolation_trace(point=pt(50, 100))
    assert trace.pipe_id == cd.pk
    assert trace.valves == [vbe.pk]
    assert trace.pipes == sorted([ab.pk, bc.pk, cd.pk, da.pk, be.pk])
    assert trace.accounts == sorted([on_loop.pk, before.pk])
    assert beyond.pk not in trace.accounts


def test_valve_at_a_pipe_junction_bounds_every_branch():
    """A valve exactly on the vertex where three pipes meet stops the trace there."""
    pipe("W", (0, 0), (100, 0))
    east = pipe("E", (100, 0), (200, 0))
    pipe("N", (100, 0), (100, 100))
    center = valve("VC", 100, 0)
    trace = isolation_trace(point=pt(150, 0))
    assert trace.valves == [center.pk]
    assert trace.pipes == [east.pk]


def test_break_far_from_every_pipe_is_refused():
    pipe("P", (0, 0), (100, 0))
    with pytest.raises(NetworkError) as error:
        isolation_trace(point=pt(50, 500))
    assert error.value.code == "no_pipe_near"


def test_trace_sees_a_valve_added_after_the_last_build(main_line):
    isolation_trace(point=pt(120, 0))
    extra = valve("V110", 110, 0)
    trace = isolation_trace(point=pt(120, 0))
    assert extra.pk in trace.valves
    assert main_line["accounts"][80].pk not in trace.accounts


def test_point_in_an_unknown_coordinate_system_is_refused():
    from django.contrib.gis.geos import Point

    pipe("P", (0, 0), (100, 0))
    with pytest.raises(NetworkError) as error:
        isolation_trace(point=Point(1, 1, srid=999999))
    assert error.value.code == "srid_invalid"
