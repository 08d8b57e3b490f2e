"""The crews' page of the field app in Chromium, on a phone-sized screen: a crew member goes on
their way, loses the network, checks in and closes the order with a photo, and everything
arrives exactly once when the network returns."""

import pytest
from django.urls import reverse

from orders.models import WorkOrderAttachment, WorkOrderStatus, WorkOrderStep
from tests.browser.test_field_app import PASSWORD, camera_jpeg, screenshot, status
from tests.orders.factories import assigned, crew, member

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def job():
    c = crew("C1", skills=("inspection",))
    worker = member(c, "cuadrilla1")
    order = assigned("inspection", c=c)  # closing needs a note and one photo
    return {"order": order, "worker": worker}


@pytest.fixture
def phone(chromium, job):
    at = job["order"].location.transform(4326, clone=True)
    context = chromium.new_context(
        locale="es-MX",
        timezone_id="America/Mexico_City",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": at.y, "longitude": at.x, "accuracy": 5},
        service_workers="allow",
    )
    yield context
    context.close()


def wait_counts(page, **expected):
    condition = " && ".join(
        f"document.querySelector('#field-status').dataset.{k} === '{v}'"
        for k, v in expected.items()
    )
    page.wait_for_function(condition, timeout=30_000)


def test_a_crew_member_closes_an_order_with_a_photo_offline_and_it_arrives_once(
    phone, live_server, job
):
    order = job["order"]
    page = phone.new_page()
    # The app's start page sends a crew member to the work orders.
    page.goto(f"{live_server.url}/login/?next={reverse('field:app')}")
    page.fill("#id_username", "cuadrilla1")
    page.fill("#id_password", PASSWORD)
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url(f"**{reverse('field:orders')}")
    page.wait_for_selector("#view-list[data-loaded='network']", timeout=20_000)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=20_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Mis órdenes de trabajo"
    item = page.locator("#orders li.stop")
    assert item.count() == 1
    assert order.number in item.inner_text() and "Inspección" in item.inner_text()
    assert item.locator(".badge").inner_text() == "Asignada"

    # On my way, online: sent at once.
    item.locator("button").click()
    page.click("#order-en-route")
    wait_counts(page, synced=1, pending=0)
    assert page.locator("#orders li.stop").first.get_attribute("data-status") == "en_route"

    # No network: arrive, close with a photo and a note.
    phone.set_offline(True)
    page.wait_for_selector("#field-network.off")
    page.locator("#orders li.stop button").first.click()
    page.click("#order-check-in")
    page.locator("#order").wait_for(state="hidden")
    assert page.locator("#orders li.stop").first.get_attribute("data-status") == "in_progress"
    page.locator("#orders li.stop button").first.click()
    page.wait_for_selector("#order-finish:not([hidden])")
    page.select_option("#order-result", "done")
    page.click("#order-save")
    assert "resultado" not in page.locator("#order-error").inner_text()  # result chosen
    assert page.locator("#order-error").inner_text() != ""  # the note and photo are missing
    page.fill("#order-note", "Toma revisada, sin fuga")
    page.set_input_files("#order-photo", files=[camera_jpeg()])
    page.wait_for_function(
        "document.querySelector('#order-photo-count').textContent.includes('1 / 1')"
    )
    screenshot(page, "order-close")
    page.click("#order-save")
    page.locator("#order").wait_for(state="hidden")
    wait_counts(page, pending=3, synced=1)
    assert page.locator("#orders li.stop").first.get_attribute("data-status") == "done"
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.EN_ROUTE  # nothing reached the server

    # Network back: the photo, then both steps; once.
    phone.set_offline(False)
    wait_counts(page, pending=0, synced=4, rejected=0)
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.DONE
    assert order.completion == {"note": "Toma revisada, sin fuga"}
    assert order.visits == 1
    assert WorkOrderAttachment.objects.filter(order=order, kind="photo").count() == 1
    assert list(WorkOrderStep.objects.filter(order=order).values_list("to_status", flat=True)) == [
        "assigned",
        "en_route",
        "in_progress",
        "done",
    ]
    check_in = WorkOrderStep.objects.get(order=order, to_status="in_progress")
    assert check_in.position is not None  # the phone's GPS
    # The closed order leaves the list; sending again changes nothing.
    page.wait_for_function("document.querySelectorAll('#orders li.stop').length === 0")
    page.reload()
    page.wait_for_selector("#view-list[data-loaded='network']", timeout=20_000)
    assert status(page) == {"pending": 0, "synced": 4, "rejected": 0}
    assert WorkOrderStep.objects.filter(order=order).count() == 4


def test_a_meter_reader_is_refused_the_crews_page(client):
    from core import roles
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    response = client.get(reverse("field:orders"), HTTP_ACCEPT_LANGUAGE="es-mx")
    assert response.status_code == 403
    assert "cuadrillas" in response.content.decode()
