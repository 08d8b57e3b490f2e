"""The route planner in Chromium, in Spanish: pick a book, optimize (a real Celery worker),
see the routes coloured with their figures beside the current book, move a meter to another
route, lock a route and publish — the field app's reading order is then the plan's."""

import pytest

from core import roles
from sectors.models import AccountSectors
from tests.factories import UserFactory
from tests.routing.factories import book, meters_at, street_grid

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def libro():
    street_grid(4, 4)
    libro = book("LB1")
    # Account numbers follow creation order: a zig-zag across the grid, a poor reading order.
    positions = []
    for i in range(12):
        positions += [(10 + 24 * i, 6), (10 + 24 * i, 206)]
    meters_at(positions, in_book=libro)
    return libro


@pytest.mark.usefixtures("celery_worker_process")
def test_planner_optimizes_moves_locks_and_publishes(page, live_server, libro):
    UserFactory(username="planeacion", roles=[roles.PLANNER])
    page.goto(f"{live_server.url}/login/?next=/routes/")
    page.fill("#id_username", "planeacion")
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url("**/routes/")
    assert page.get_by_role("heading", level=1).inner_text() == "Planificador de rutas"

    page.select_option("#routes-book", str(libro.pk))
    page.fill("#routes-readers", "2")
    page.fill("#routes-time", "2")
    page.click("#routes-run")
    page.wait_for_selector(".routes-shell[data-status='done']", timeout=90_000)

    rows = page.locator("#routes-table tbody tr")
    assert rows.count() == 2
    assert page.locator("path.route-line").count() == 2
    assert page.locator("path.route-stop").count() == 24
    # Beside the current book (in account-number order) the plan walks less.
    saved_km = float(page.locator("#routes-saved td").first.inner_text())
    assert saved_km > 0
    assert "Rutas propuestas" in page.locator("#routes-compare").inner_text() or (
        "rutas propuestas" in page.locator("#routes-compare").inner_text()
    )

    before = [int(rows.nth(k).locator("td").nth(1).inner_text()) for k in range(2)]
    page.locator("path.route-stop.route-0").first.click(force=True)
    page.select_option("#routes-move-to", "1")
    page.click("#routes-move-go")
    page.wait_for_function(
        "(n) => document.querySelector(\"#routes-table tbody tr[data-route='1'] td:nth-child(2)\")"
        ".textContent == String(n)",
        arg=before[1] + 1,
    )

    page.locator("#routes-table tbody tr[data-route='0'] input.route-lock").check()
    page.wait_for_selector("#routes-table tbody tr[data-route='0'].locked")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#routes-publish")
    page.wait_for_selector(".routes-shell[data-status='published']", timeout=20_000)
    assert "Publicado" in page.locator("#routes-status").inner_text()
    sequenced = AccountSectors.objects.filter(book=libro, reading_sequence__isnull=False)
    assert sequenced.count() == 24
