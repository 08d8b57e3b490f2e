"""The landing page as a person sees it in Chromium: sign in, overview map, language."""

import pytest
from django.contrib.gis.geos import MultiPolygon

from core import roles
from tests.factories import LocalityFactory, UserFactory, square

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_signed_in_planner_sees_the_neighbourhoods_drawn_on_the_map(page, live_server):
    UserFactory(username="planeadora", roles=[roles.PLANNER])
    LocalityFactory(
        code="0001",
        name="Centro",
        kind="centro",
        geom=MultiPolygon(square(300_000, 2_270_000, 800)),
    )
    LocalityFactory(
        code="0002", name="San Juan", geom=MultiPolygon(square(300_800, 2_270_000, 800))
    )
    _sign_in(page, live_server, "planeadora")
    # The summary reads planner statistics; a fresh test database has none until ANALYZE.
    page.wait_for_selector("#city-map[data-features='2']", timeout=15_000)
    assert page.locator("#city-map .leaflet-overlay-pane path").count() == 2
    assert "Planeador" in page.locator("#my-roles").inner_text()
    page.hover("#city-map .leaflet-overlay-pane path >> nth=0")
    assert "Centro" in page.locator(".leaflet-tooltip").inner_text()


def test_choosing_english_in_the_language_menu_translates_the_page(page, live_server):
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "es-mx"
    assert page.get_by_role("link", name="Iniciar sesión").first.is_visible()
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Cadastre, commercial and network management for water utilities"
    )
