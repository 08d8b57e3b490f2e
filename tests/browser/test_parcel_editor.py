"""The parcel editor as cadastre staff use it in Chromium: select, edit attributes, draw, split."""

import json
import os

import pytest
from django.contrib.gis.geos import LineString

from cadastre.models import LandUse, Parcel, ParcelStatus
from core import roles
from tests.factories import (
    ORIGIN_X,
    ORIGIN_Y,
    BlockFactory,
    LocalityFactory,
    ParcelFactory,
    UserFactory,
    square,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

X0, Y0 = ORIGIN_X, ORIGIN_Y


def role_user(username, role):
    """A user holding one of the migrated roles (groups and grants as migrations made them)."""
    return UserFactory(username=username, roles=[role])


@pytest.fixture
def two_parcels():
    """A 100 m block with two 20 m parcels side by side (A: x 10..30, B: x 30..50)."""
    block = BlockFactory(
        locality=LocalityFactory(code="0007"), code="012", geom=square(X0, Y0, 100)
    )
    a = ParcelFactory(block=block, cadastral_key="0007-012-001", geom=square(X0 + 10, Y0 + 10, 20))
    b = ParcelFactory(block=block, cadastral_key="0007-012-002", geom=square(X0 + 30, Y0 + 10, 20))
    return a, b


def latlngs(geom) -> list:
    """A geometry's vertices as Leaflet [lat, lng] pairs (outer ring for polygons)."""
    g = geom.transform(4326, clone=True)
    coords = g.coords[0] if g.geom_type == "Polygon" else g.coords
    return [[lat, lon] for lon, lat in coords]


def open_editor(page, live_server, parcel, expected_parcels):
    role_user("catastro", roles.CADASTRE_EDITOR)
    page.goto(f"{live_server.url}/login/?next=/cadastre/editor/%3Fparcel%3D{parcel.pk}")
    page.fill("#id_username", "catastro")
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url("**/cadastre/editor/**")
    page.wait_for_selector(f"#editor-map[data-parcels='{expected_parcels}']", timeout=15_000)


def test_editor_selects_a_parcel_and_saves_its_land_use(page, live_server, two_parcels):
    a, _b = two_parcels
    open_editor(page, live_server, a, 2)
    assert page.locator("#editor-map .leaflet-overlay-pane path.parcel").count() == 2
    assert page.get_by_role("heading", level=1).inner_text() == "Editor de predios"

    page.click(f"path.parcel-{a.pk}")
    assert page.input_value("#f-cadastral-key") == "0007-012-001"
    assert page.locator("#f-cadastral-key").get_attribute("readonly") is not None
    # Land uses are offered with their Spanish labels.
    assert page.locator("#f-land-use option[value='commercial']").inner_text() == "Comercial"
    page.select_option("#f-land-use", "commercial")
    page.fill("#f-address", "Av. Hidalgo 40")
    page.click("#form-save")
    page.wait_for_selector("#editor-notice:has-text('Guardado.')")

    a.refresh_from_db()
    assert a.land_use == LandUse.COMMERCIAL
    assert a.address == "Av. Hidalgo 40"


def test_overlapping_drawing_shows_where_in_red_and_why_in_spanish(page, live_server, two_parcels):
    a, _b = two_parcels
    open_editor(page, live_server, a, 2)
    before = list(Parcel.objects.order_by("pk").values_list("pk", "geom", "status", "land_use"))

    # Overlaps parcel B (x 30..50) on x 45..50.
    drawn = square(X0 + 45, Y0 + 10, 20)
    page.evaluate("(ll) => window.caudalEditor.drawnPolygon(ll)", latlngs(drawn))
    assert page.locator("#form-title").text_content() == "Predio nuevo"
    page.fill("#f-address", "Calle Allende 7")
    page.click("#form-save")

    alert = page.get_by_role("alert")
    alert.wait_for(state="visible", timeout=10_000)
    if screenshot := os.environ.get("CAUDAL_EDITOR_SCREENSHOT"):  # e.g. /tmp/editor.png
        page.screenshot(path=screenshot)
    assert "predio" in page.locator("#editor-alert-message").inner_text().lower()
    assert page.locator(".leaflet-problems-pane path").count() >= 1
    stroke = page.locator(".leaflet-problems-pane path").first.get_attribute("stroke")
    assert stroke == "#d00000"
    # The drawn outline is gone from the map: only the stored parcels remain.
    assert page.locator("#editor-map .leaflet-overlay-pane path.parcel").count() == 2
    after = list(Parcel.objects.order_by("pk").values_list("pk", "geom", "status", "land_use"))
    assert after == before


def test_split_through_the_editor_makes_two_parcels(page, live_server, two_parcels):
    a, b = two_parcels
    open_editor(page, live_server, a, 2)
    page.click(f"path.parcel-{a.pk}")
    page.click("#tool-split")
    assert page.locator("#tool-hint").inner_text().startswith("Trace una línea")
    line = LineString((X0 + 20, Y0 + 5), (X0 + 20, Y0 + 35), srid=a.geom.srid)
    page.evaluate("(ll) => window.caudalEditor.drawnLine(ll)", latlngs(line))
    page.wait_for_selector("#editor-map[data-parcels='3']", timeout=10_000)
    assert "Predio subdividido en 2 predios" in page.locator("#editor-notice").inner_text()

    a.refresh_from_db()
    assert a.status == ParcelStatus.RETIRED
    children = Parcel.objects.filter(status=ParcelStatus.ACTIVE).exclude(pk=b.pk)
    assert children.count() == 2
    assert sorted(round(float(c.land_area_m2)) for c in children) == [200, 200]
    # The map shows the children instead of the parent.
    assert page.locator(f"path.parcel-{a.pk}").count() == 0
    assert json.loads(page.evaluate("JSON.stringify(window.caudalEditor.selection)"))


def test_merge_of_two_parcels_selected_with_the_mouse(page, live_server, two_parcels):
    a, b = two_parcels
    open_editor(page, live_server, a, 2)
    page.click(f"path.parcel-{a.pk}")
    page.click(f"path.parcel-{b.pk}", modifiers=["Control"])
    assert "2 predios seleccionados" in page.locator("#form-empty").inner_text()
    page.click("#tool-merge")
    page.wait_for_selector("#editor-map[data-parcels='1']", timeout=10_000)

    merged = Parcel.objects.get(status=ParcelStatus.ACTIVE)
    assert merged.land_area_m2 == pytest.approx(800, abs=1)
    assert page.input_value("#f-cadastral-key") == merged.cadastral_key


def test_meter_reader_sees_the_map_without_editing_tools(page, live_server, two_parcels):
    a, _b = two_parcels
    role_user("lecturista", roles.METER_READER)
    page.goto(f"{live_server.url}/login/?next=/cadastre/editor/%3Fparcel%3D{a.pk}")
    page.fill("#id_username", "lecturista")
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_selector("#editor-map[data-parcels='2']", timeout=15_000)
    assert page.locator(".leaflet-pm-toolbar").count() == 0
    assert page.locator("#tool-draw").count() == 0
    page.click(f"path.parcel-{a.pk}")
    assert page.locator("#f-land-use").is_disabled()
    # Far out, the parcels are not loaded and the map says to zoom in.
    page.evaluate("window.caudalEditor.map.setZoom(14, {animate: false})")
    page.wait_for_selector("#editor-notice:has-text('Acerque el mapa')")


def test_dragging_a_vertex_and_saving_reshapes_the_parcel(page, live_server, two_parcels):
    a, _b = two_parcels
    open_editor(page, live_server, a, 2)
    page.click(f"path.parcel-{a.pk}")
    page.click("#tool-edit")
    page.wait_for_selector(".leaflet-marker-pane .marker-icon")
    # Screen position of the parcel's first vertex (its south-west corner).
    x, y = page.evaluate(
        """(id) => {
            const e = window.caudalEditor;
            const ll = e.parcels.get(id).layer.getLatLngs()[0][0];
            const p = e.map.latLngToContainerPoint(ll);
            const r = e.map.getContainer().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        a.pk,
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 15, y, steps=5)
    page.mouse.move(x - 30, y, steps=5)
    page.mouse.up()
    page.click("#tool-edit-save")
    page.wait_for_selector("#editor-notice:has-text('Nuevo contorno del predio 0007-012-001')")

    a.refresh_from_db()
    assert a.status == ParcelStatus.ACTIVE
    assert a.land_area_m2 > 420  # the south-west corner moved about 4 m west


def test_drawing_a_parcel_with_mouse_clicks_creates_it(page, live_server, two_parcels):
    a, _b = two_parcels
    open_editor(page, live_server, a, 2)
    page.click("#tool-draw")
    corners = latlngs(square(X0 + 60, Y0 + 40, 20))[:4]
    points = page.evaluate(
        """(corners) => {
            const e = window.caudalEditor;
            const r = e.map.getContainer().getBoundingClientRect();
            return corners.map((ll) => {
                const p = e.map.latLngToContainerPoint(ll);
                return [r.left + p.x, r.top + p.y];
            });
        }""",
        corners,
    )
    for x, y in [*points, points[0]]:  # clicking the first vertex again closes the ring
        page.mouse.click(x, y)
    assert page.locator("#form-title").text_content() == "Predio nuevo"
    page.select_option("#f-land-use", "vacant")
    page.fill("#f-address", "Calle Juárez 9")
    page.click("#form-save")
    page.wait_for_selector("#editor-notice:has-text('creado')", timeout=10_000)

    created = Parcel.objects.exclude(pk__in=[a.pk, _b.pk]).get()
    assert created.land_use == LandUse.VACANT
    assert created.address == "Calle Juárez 9"
    # Clicks land on whole pixels (about 0.5 m at this zoom): close to 20 m by 20 m, not exact.
    assert created.land_area_m2 == pytest.approx(400, abs=15)
    assert page.locator(f"path.parcel-{created.pk}").count() == 1
