"""The network editor as planners use it in Chromium: the map loads the pipes, a drawn pipe
joins the network (T-junction), a refused valve shows where and why in Spanish."""

import pytest

from core import roles
from network.models import Pipe, Valve
from tests.factories import UserFactory
from tests.network.factories import pipe, pt

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def latlng(x, y) -> list:
    p = pt(x, y).transform(4326, clone=True)
    return [p.y, p.x]


@pytest.fixture
def main():
    return pipe("M1", (0, 0), (100, 0))


def open_editor(page, live_server, main, username="planeacion", role=roles.PLANNER):
    UserFactory(username=username, roles=[role])
    page.goto(f"{live_server.url}/login/?next=/network/editor/%3Fpipe%3D{main.pk}")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url("**/network/editor/**")
    page.wait_for_selector("#editor-map[data-pipes='1']", timeout=15_000)


def test_editor_loads_the_pipes_and_shows_a_pipe_s_attributes(page, live_server, main):
    open_editor(page, live_server, main)
    assert page.get_by_role("heading", level=1).inner_text() == "Editor de red"
    page.click(f"path.pipe-{main.pk}")
    assert page.input_value("#p-code") == "M1"
    assert page.input_value("#p-diameter") == "100"


def test_drawn_pipe_joins_the_main_and_splits_it(page, live_server, main):
    open_editor(page, live_server, main)
    page.click("#tool-pipe")
    page.click("#tool-cancel")
    page.evaluate(
        "(ll) => window.caudalNetworkEditor.drawnLine(ll)", [latlng(50, 0.3), latlng(50, 40)]
    )
    assert page.locator("#form-title").text_content() == "Tubería nueva"
    page.select_option("#p-material", "pe")
    page.fill("#p-diameter", "150")
    page.fill("#p-year", "2025")
    page.click("#pipe-save")
    page.wait_for_selector("#editor-map[data-pipes='3']", timeout=10_000)
    assert "se dividieron" in page.locator("#editor-notice").inner_text()

    drawn = Pipe.objects.get(material="pe")
    assert (drawn.diameter_mm, drawn.install_year) == (150, 2025)
    assert Pipe.objects.filter(code__startswith="M1").count() == 2
    assert drawn.geom.distance(Pipe.objects.get(code="M1").geom) < 1e-6


def test_valve_off_the_network_is_refused_with_the_place_and_the_reason(page, live_server, main):
    open_editor(page, live_server, main)
    page.evaluate("(ll) => window.caudalNetworkEditor.placedValve(ll)", latlng(40, 6))
    page.select_option("#v-normal", "closed")
    page.click("#valve-save")
    alert = page.get_by_role("alert")
    alert.wait_for(state="visible", timeout=10_000)
    assert "No hay tubería" in page.locator("#editor-alert-message").inner_text()
    assert page.locator(".leaflet-problems-pane path").count() >= 1
    assert Valve.objects.count() == 0


def test_phone_width_shows_map_and_panel_and_a_reader_gets_no_tools(chromium, live_server, main):
    context = chromium.new_context(locale="es-MX", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        open_editor(page, live_server, main, username="cajero", role=roles.CUSTOMER_SERVICE)
        assert page.locator("#tool-pipe").count() == 0
        box = page.locator("#editor-map").bounding_box()
        assert box["width"] <= 390 and box["height"] > 300
        page.click(f"path.pipe-{main.pk}")
        assert page.locator("#p-material").is_disabled()
    finally:
        context.close()
