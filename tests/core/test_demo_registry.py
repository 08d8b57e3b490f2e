import pytest

from core import demo


@pytest.fixture
def isolated_registry(monkeypatch):
    monkeypatch.setattr(demo, "_steps", {})
    monkeypatch.setattr(demo, "discover", lambda: None)
    return demo


def test_steps_run_after_the_steps_they_name(isolated_registry):
    reg = isolated_registry
    reg.demo_step("metering.meters", after=("cadastre.accounts",))(lambda ctx: {})
    reg.demo_step("cadastre.base_map")(lambda ctx: {})
    reg.demo_step("cadastre.accounts", after=("cadastre.base_map",))(lambda ctx: {})
    names = [step.name for step in reg.ordered_steps()]
    assert names == ["cadastre.base_map", "cadastre.accounts", "metering.meters"]


def test_a_step_needing_a_missing_step_is_reported_by_name(isolated_registry):
    reg = isolated_registry
    reg.demo_step("billing.bills", after=("billing.tariffs",))(lambda ctx: {})
    with pytest.raises(demo.DemoError, match=r"billing\.tariffs"):
        reg.ordered_steps()


def test_the_cadastre_base_map_step_is_discovered():
    assert "cadastre.base_map" in [step.name for step in demo.ordered_steps()]


@pytest.mark.django_db
def test_only_runs_the_named_steps_and_what_they_need(isolated_registry):
    from core.services import demo_city_build

    ran = []
    for name, after in (("a", ()), ("b", ("a",)), ("c", ("b",)), ("d", ())):
        isolated_registry.demo_step(name, after=after)(lambda ctx, name=name: ran.append(name))
    ctx = demo.DemoContext(accounts=10, seed=1, srid=32614, center_lonlat=(-100.8, 20.5))
    demo_city_build(ctx=ctx, only=("b",), log=lambda _m: None)
    assert ran == ["a", "b"]
    with pytest.raises(demo.DemoError, match="zz"):
        demo_city_build(ctx=ctx, only=("zz",), log=lambda _m: None)


@pytest.mark.django_db
def test_replace_other_rebuilds_only_when_the_city_differs(isolated_registry):
    from core.services import demo_city_build

    ran = []
    isolated_registry.demo_step("a")(lambda ctx: ran.append(ctx.seed))
    first = demo.DemoContext(accounts=10, seed=1, srid=32614, center_lonlat=(-100.8, 20.5))
    demo_city_build(ctx=first, log=lambda _m: None)
    demo_city_build(ctx=first, replace_other=True, log=lambda _m: None)
    assert ran == [1]  # the same city is kept
    other = demo.DemoContext(accounts=10, seed=2, srid=32614, center_lonlat=(-100.8, 20.5))
    with pytest.raises(demo.DemoError):
        demo_city_build(ctx=other, log=lambda _m: None)
    demo_city_build(ctx=other, replace_other=True, log=lambda _m: None)
    assert ran == [1, 2]
