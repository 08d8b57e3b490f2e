"""The map shell in Chromium: tiles drawn on canvas, search, the info panel, an edit showing on
the next tile request, measuring, the permalink, the language switch and a phone screen."""

import io
import os
import re

import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, Point, Polygon
from PIL import Image

from cadastre.models import LandUse, StreetSegment
from cadastre.services import parcel_update_attributes
from core import roles
from tests.cadastre.factories_search import (
    CustomerFactory,
    MeterFactory,
    OwnershipFactory,
    ServiceAccountFactory,
)
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
SRID = settings.CAUDAL_SRID
# The map's paper tone (static/css/map-shell.css), where nothing is drawn.
BACKGROUND = (0xE9, 0xE6, 0xDF)


def wgs84(x: float, y: float) -> tuple[float, float]:
    """(lat, lon) of a storage-CRS point."""
    p = Point(x, y, srid=SRID).transform(4326, clone=True)
    return p.y, p.x


def rect(x, y, width, height) -> Polygon:
    return Polygon(
        ((x, y), (x + width, y), (x + width, y + height), (x, y + height), (x, y)), srid=SRID
    )


@pytest.fixture
def city():
    """A 100 m block with four 20 x 30 m parcels in a row (x 10..90, y 40..70), a named avenue
    along its south side, and an account with a meter on parcel 2."""
    block = BlockFactory(
        locality=LocalityFactory(code="0042", name="Centro"), code="017", geom=square(X0, Y0, 100)
    )

    def parcel(i, land_use=LandUse.RESIDENTIAL):
        x = X0 + 10 + 20 * (i - 1)
        return ParcelFactory(
            block=block,
            cadastral_key=f"0042-017-00{i}",
            land_use=land_use,
            address=f"Avenida Hidalgo {10 * i}",
            geom=rect(x, Y0 + 40, 20, 30),
        )

    parcels = [parcel(1), parcel(2), parcel(3, LandUse.COMMERCIAL), parcel(4)]
    StreetSegment.objects.create(
        name="Avenida Hidalgo",
        street_class="avenue",
        geom=LineString((X0 - 50, Y0 - 8), (X0 + 150, Y0 - 8), srid=SRID),
    )
    account = ServiceAccountFactory(
        parcel=parcels[1],
        number="000777001",
        customer=CustomerFactory(name="Rosa", first_surname="Campos", second_surname="Luna"),
        service_point=Point(X0 + 40, Y0 + 41, srid=SRID),
    )
    MeterFactory(account=account, serial="MTR-0777001")
    OwnershipFactory(parcel=parcels[1])
    return {"block": block, "parcels": parcels, "account": account}


def sign_in(page, live_server, username="lectora", role=roles.METER_READER):
    UserFactory(username=username, roles=[role])
    page.goto(f"{live_server.url}/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def open_map(page, live_server, *, x, y, zoom=19, layers="blocks,streets,parcels", extra=""):
    lat, lon = wgs84(x, y)
    page.goto(f"{live_server.url}/map/#map={zoom}/{lat:.7f}/{lon:.7f}&layers={layers}{extra}")
    page.wait_for_selector("#map-shell[data-ready='true']", timeout=15_000)
    wait_idle(page)


def wait_idle(page):
    page.evaluate("() => window.caudalMap.whenIdle()")


def pixel_of(page, x, y) -> tuple[int, int]:
    """The page pixel where a storage-CRS point is drawn."""
    lat, lon = wgs84(x, y)
    return tuple(
        page.evaluate(
            """([lat, lon]) => {
                const map = window.caudalMap.map;
                const p = map.latLngToContainerPoint([lat, lon]);
                const box = map.getContainer().getBoundingClientRect();
                return [Math.round(box.left + p.x), Math.round(box.top + p.y)];
            }""",
            [lat, lon],
        )
    )


def screenshot(page) -> Image.Image:
    shot = page.screenshot()
    if path := os.environ.get("CAUDAL_MAP_SCREENSHOT"):  # e.g. /tmp/map.png
        with open(path, "wb") as f:
            f.write(shot)
    return Image.open(io.BytesIO(shot)).convert("RGB")


def near(colour, target, tolerance=12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour, target, strict=True))


def test_the_map_loads_and_draws_parcel_tiles(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50, layers="parcels")
    assert page.get_by_role("heading", level=1).inner_text() == "Mapa"
    # The tiles answered and carried the four parcels (a tile may repeat a parcel at its edge).
    assert page.evaluate("() => window.caudalMap.layers.get('parcels').featureCount()") >= 4
    image = screenshot(page)
    box = page.locator("#map").bounding_box()
    area = image.crop(
        (int(box["x"]), int(box["y"]), int(box["x"] + box["width"]), int(box["y"] + box["height"]))
    )
    # Parcel outlines in the layer's stroke colour (#b07d48) and fills over the paper.
    stroke = sum(1 for px in area.get_flattened_data() if near(px, (0xB0, 0x7D, 0x48), 30))
    assert stroke > 500
    inside = image.getpixel(pixel_of(page, X0 + 20, Y0 + 55))
    assert not near(inside, BACKGROUND, 3)
    outside = image.getpixel(pixel_of(page, X0 + 50, Y0 + 20))  # in the block, no parcel
    assert near(outside, BACKGROUND, 3)


def test_the_base_map_draws_blocks_and_named_streets(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 20, zoom=18)
    layers = page.evaluate(
        "() => ['blocks', 'streets', 'parcels'].map(n => window.caudalMap.layers.get(n).featureCount())"
    )
    assert all(count >= 1 for count in layers)
    image = screenshot(page)
    # The block's fill (#f2efe9) inside the block, outside every parcel.
    assert near(image.getpixel(pixel_of(page, X0 + 50, Y0 + 20)), (0xF2, 0xEF, 0xE9), 3)
    # The avenue: white with its casing, and its name written along it (dark label pixels).
    along = [
        image.getpixel(pixel_of(page, x, Y0 - 8)) for x in range(int(X0) - 40, int(X0) + 141, 5)
    ]
    assert sum(1 for px in along if near(px, (0xFF, 0xFF, 0xFF), 8)) > len(along) // 3
    left, top = pixel_of(page, X0 - 50, Y0 - 8)
    right, _ = pixel_of(page, X0 + 150, Y0 - 8)
    band = image.crop((left, top - 6, right, top + 6))
    label = sum(1 for px in band.get_flattened_data() if max(px) < 110)
    assert label > 40
    legend = page.locator("#legend")
    assert legend.locator("[data-legend='streets']").inner_text() == "Calles"


def test_search_zooms_to_an_account_and_updates_the_permalink(page, live_server, city):
    sign_in(page, live_server, "servicio", roles.CUSTOMER_SERVICE)
    open_map(page, live_server, x=X0 + 600, y=Y0 + 600, zoom=15)
    page.fill("#search-input", "000777001")
    hit = page.locator(".search-hit[data-kind='account']")
    hit.wait_for(timeout=10_000)
    assert hit.locator(".hit-kind").text_content() == "Cuenta de servicio"
    assert "Rosa Campos Luna" in hit.inner_text()
    hit.click()
    page.wait_for_selector("#map-shell[data-info='ready']", timeout=10_000)

    lat, lon = wgs84(X0 + 40, Y0 + 41)  # the account's service point
    zoom, centre = page.evaluate(
        "() => [window.caudalMap.map.getZoom(), window.caudalMap.map.getCenter()]"
    )
    assert zoom == 19
    assert centre["lat"] == pytest.approx(lat, abs=1e-6)
    assert centre["lng"] == pytest.approx(lon, abs=1e-6)
    view = page.evaluate("() => new URLSearchParams(location.hash.slice(1)).get('map')")
    z, hash_lat, hash_lon = view.split("/")
    assert z == "19"
    assert float(hash_lat) == pytest.approx(lat, abs=1e-6)
    assert float(hash_lon) == pytest.approx(lon, abs=1e-6)
    # The account's parcel is outlined and described.
    assert page.locator("#info-title").inner_text() == "0042-017-002"
    assert page.locator(".leaflet-cd-highlight-pane path.map-highlight").count() == 1
    assert page.locator(".leaflet-cd-highlight-pane path.map-highlight-point").count() == 1


def test_clicking_a_parcel_shows_its_key_and_its_account(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50)
    page.mouse.click(*pixel_of(page, X0 + 40, Y0 + 60))  # inside parcel 2
    page.wait_for_selector("#map-shell[data-info='ready']", timeout=10_000)
    panel = page.locator("#info-panel")
    assert page.locator("#info-title").inner_text() == "0042-017-002"
    sections = panel.locator(".info-section").evaluate_all("els => els.map(e => e.dataset.section)")
    assert sections == ["cadastre", "accounts", "meters", "orders"]
    assert panel.locator("[data-field='land_use'] dd").inner_text() == "Habitacional"
    accounts = panel.locator("[data-table='accounts']")
    assert accounts.locator("td[data-column='number']").inner_text() == "000777001"
    assert accounts.locator("td[data-column='customer']").inner_text() == "Rosa Campos Luna"
    assert panel.locator("[data-table='meters'] td[data-column='serial']").inner_text() == (
        "MTR-0777001"
    )
    assert page.locator(".leaflet-cd-highlight-pane path.map-highlight").count() == 1

    # Outside every parcel: the panel says so, and nothing stays outlined.
    page.mouse.click(*pixel_of(page, X0 + 50, Y0 + 20))
    page.wait_for_selector("#map-shell[data-info='empty']", timeout=10_000)
    assert page.locator("#info-status").inner_text() == (
        "Aquí no hay ningún predio. Haga clic dentro de un predio."
    )
    assert page.locator(".leaflet-cd-highlight-pane path").count() == 0


def blend(colour_hex: str, alpha: float, under=BACKGROUND) -> tuple[int, ...]:
    rgb = tuple(int(colour_hex[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(round(alpha * c + (1 - alpha) * u) for c, u in zip(rgb, under, strict=True))


def test_a_cadastre_edit_is_visible_in_the_next_tile_request(page, live_server, city):
    first = city["parcels"][0]
    sign_in(page, live_server)
    requests = []  # (url, If-None-Match sent, ETag received, body bytes received)

    def record(request):
        if "/tiles/parcels/" in request.url:
            etag = request.response().all_headers().get("etag")
            sent = request.all_headers().get("if-none-match")
            requests.append((request.url, sent, etag, request.sizes()["responseBodySize"]))

    page.on("requestfinished", record)
    open_map(
        page,
        live_server,
        x=X0 + 50,
        y=Y0 + 55,
        layers="parcels",
        extra="&colour=parcels.land_use",
    )
    colours = page.evaluate(
        "() => Object.fromEntries("
        "window.caudalMap.categories('parcels').map(c => [c.value, c.colour]))"
    )
    alpha = page.evaluate("() => window.caudalMap.layers.get('parcels').fillOpacityFor(true)")
    where = pixel_of(page, X0 + 20, Y0 + 55)  # parcel 1's middle
    assert near(screenshot(page).getpixel(where), blend(colours["residential"], alpha), 4)
    etags = {url: etag for url, _sent, etag, _size in requests}
    assert etags

    def reload_tiles():
        requests.clear()
        page.evaluate("() => window.caudalMap.refresh()")
        return {url: (sent, etag, size) for url, sent, etag, size in requests}

    # Nothing changed: every tile is revalidated with its ETag and comes back empty (304).
    again = reload_tiles()
    assert again and set(again) <= set(etags)
    assert all(sent == etags[url] and size == 0 for url, (sent, _e, size) in again.items())

    parcel_update_attributes(parcel=first, land_use=LandUse.COMMERCIAL)
    after = reload_tiles()
    changed = {url for url, (_sent, etag, size) in after.items() if etag != etags[url]}
    # The tiles that hold parcel 1 came back with new content; the others did not.
    assert changed
    assert all(after[url][2] > 0 for url in changed)
    assert all(after[url][2] == 0 for url in set(after) - changed)
    assert near(screenshot(page).getpixel(where), blend(colours["commercial"], alpha), 4)
    # The legend names the colours.
    legend = page.locator("[data-legend='parcels'] li[data-value='commercial']")
    assert legend.inner_text() == "Comercial"


def test_a_layer_filter_asks_the_tiles_for_the_chosen_values_only(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 55, layers="parcels")
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/tiles/parcels/" in r.url else None)
    page.click(".layer-item[data-layer='parcels'] .layer-filters summary")
    filter_box = page.locator("[data-filter='parcels.land_use']")
    assert filter_box.locator("legend").inner_text() == "Uso de suelo"
    filter_box.get_by_label("Comercial").check()
    page.wait_for_function("() => location.hash.includes('f.parcels.land_use=commercial')")
    wait_idle(page)
    assert asked and all(url.endswith("?land_use=commercial") for url in asked)
    image = screenshot(page)
    # Parcel 3 is commercial and still drawn; parcel 1 (residential) is gone.
    assert not near(image.getpixel(pixel_of(page, X0 + 60, Y0 + 55)), BACKGROUND, 3)
    assert near(image.getpixel(pixel_of(page, X0 + 20, Y0 + 55)), BACKGROUND, 3)


def test_an_orthophoto_can_be_laid_under_the_drawn_map(page, live_server, city):
    from gis_core.models import Orthophoto

    photo = Orthophoto.objects.create(
        name="Vuelo 2025",
        file="orthophotos/vuelo-2025.tif",
        bounds=square(X0 - 200, Y0 - 200, 500),
        resolution_m=0.1,
        min_zoom=14,
        max_zoom=21,
        width=5000,
        height=5000,
        size_bytes=1,
    )
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50, zoom=18)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "/tiles/ortho/" in r.url else None)
    page.get_by_label("Vuelo 2025").check()
    page.wait_for_function(f"() => location.hash.includes('bg={photo.pk}')")
    assert any(f"/tiles/ortho/{photo.pk}/18/" in url for url in asked)
    assert page.locator(".leaflet-tile-pane img.leaflet-tile").count() > 0

    # The shell's own readiness is what counts, not the page's "load" event: that one also
    # waits for every tile image the reload starts (here, tiles of an orthophoto whose file
    # does not exist), and in one CI run it had not come after 30 s.
    page.reload(wait_until="domcontentloaded")
    page.wait_for_selector("#map-shell[data-ready='true']", timeout=15_000)
    assert page.is_checked(f"input[name=background][value='{photo.pk}']")
    page.get_by_label("Solo el mapa dibujado").check()
    page.wait_for_function("() => !location.hash.includes('bg=')")
    assert page.locator(".leaflet-tile-pane img.leaflet-tile").count() == 0


def test_measuring_a_distance_and_an_area_in_metres(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50, zoom=20, layers="parcels")
    page.click("[data-measure='distance']")
    page.mouse.click(*pixel_of(page, X0 + 10, Y0 + 40))
    page.mouse.dblclick(*pixel_of(page, X0 + 70, Y0 + 40))  # 60 m east
    result = page.locator("#measure-result")
    assert float(result.get_attribute("data-value")) == pytest.approx(60, rel=0.01)
    assert re.fullmatch(r"Distancia: \d+\.\d m", result.inner_text())
    # Clicks while measuring never open the info panel.
    assert page.locator("#info-panel").is_hidden()

    page.click("[data-measure='area']")
    for x, y in ((X0 + 10, Y0 + 40), (X0 + 30, Y0 + 40), (X0 + 30, Y0 + 70)):
        page.mouse.click(*pixel_of(page, x, y))
    page.mouse.dblclick(*pixel_of(page, X0 + 10, Y0 + 70))  # parcel 1: 20 x 30 m
    assert float(result.get_attribute("data-value")) == pytest.approx(600, rel=0.02)
    assert re.fullmatch(r"Área: \d+\.\d m²", result.inner_text())
    page.click("[data-measure='clear']")
    assert result.inner_text() == ""


def test_the_permalink_restores_the_view_and_the_layers(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50, zoom=18, layers="blocks,parcels")
    assert page.is_checked("#layer-blocks") and not page.is_checked("#layer-streets")
    page.check("#layer-streets")
    page.uncheck("#layer-blocks")
    lat, lon = wgs84(X0 + 80, Y0 + 30)
    page.evaluate("([lat, lon]) => window.caudalMap.map.setView([lat, lon], 20)", [lat, lon])
    page.wait_for_function("() => location.hash.startsWith('#map=20/')")
    hash_ = page.evaluate("() => location.hash")
    assert "layers=streets,parcels" in hash_
    assert hash_.startswith("#map=20/")

    page.reload()
    page.wait_for_selector("#map-shell[data-ready='true']", timeout=15_000)
    zoom, centre = page.evaluate(
        "() => [window.caudalMap.map.getZoom(), window.caudalMap.map.getCenter()]"
    )
    assert zoom == 20
    assert centre["lat"] == pytest.approx(lat, abs=1e-6)
    assert centre["lng"] == pytest.approx(lon, abs=1e-6)
    assert page.is_checked("#layer-streets") and page.is_checked("#layer-parcels")
    assert not page.is_checked("#layer-blocks")


def test_switching_to_english_keeps_the_view(page, live_server, city):
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50, zoom=18)
    assert page.locator("label[for='layer-parcels']").inner_text().strip() == "Predios"
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    page.wait_for_selector("#map-shell[data-ready='true']", timeout=15_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Map"
    assert page.locator("label[for='layer-parcels']").inner_text().strip() == "Parcels"
    assert page.evaluate("() => window.caudalMap.map.getZoom()") == 18
    assert "layers=blocks,streets,parcels" in page.evaluate("() => location.hash")


def test_a_phone_screen_shows_the_map_and_a_drawer_toggle(page, live_server, city):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server)
    open_map(page, live_server, x=X0 + 50, y=Y0 + 50, zoom=18)
    box = page.locator("#map").bounding_box()
    assert box["width"] == 390 and box["height"] > 700
    toggle = page.locator("#drawer-toggle")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    # The panels are tucked away: the map is what the phone shows.
    assert page.locator("#map-drawer").is_hidden()
    image = screenshot(page)
    assert not near(image.getpixel(pixel_of(page, X0 + 40, Y0 + 55)), BACKGROUND, 3)

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.locator("#search-input").wait_for(state="visible")
    assert page.locator("label[for='layer-parcels']").is_visible()
    # Choosing a hit closes the drawer and opens the info sheet.
    page.fill("#search-input", "000777001")
    page.locator(".search-hit").first.click()
    page.wait_for_selector("#map-shell[data-info='ready']", timeout=10_000)
    assert toggle.get_attribute("aria-expanded") == "false"
    sheet = page.locator("#info-panel").bounding_box()
    assert sheet["width"] == 390
    assert sheet["y"] + sheet["height"] == pytest.approx(844, abs=1)
