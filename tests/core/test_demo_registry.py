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
