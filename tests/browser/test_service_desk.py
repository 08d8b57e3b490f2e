"""The service desk in Chromium, in Spanish: find a customer by account number, see the 360°
view (balance, bills with their receipt, a bounced payment marked), receive a bill
clarification and see it in the request queue."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Bill
from core import roles
from orders.models import Ticket
from tests.billing.factories import add_account, town
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def billed_account():
    account = add_account(town(), m3=14)
    run = services.billing_run_start(period=account.consumptions.get().period, enqueue=False)
    services.billing_run_execute(run_id=run.pk)
    cheque = services.ledger_post(
        account=account,
        document_type="payment",
        document_id=9,
        concept="payment",
        amount=Decimal("-50.00"),
    )
    services.ledger_reverse(entry=cheque, note="cheque devuelto")
    return account


def test_a_clerk_finds_a_customer_sees_the_360_view_and_receives_a_clarification(
    page, live_server, billed_account
):
    bill = Bill.objects.get(account=billed_account)
    UserFactory(username="ventanilla", roles=[roles.CUSTOMER_SERVICE])
    page.goto(f"{live_server.url}/login/?next=/desk/")
    page.fill("#id_username", "ventanilla")
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url("**/desk/")
    assert page.get_by_role("heading", level=1).inner_text() == "Atención a usuarios"

    page.fill("#desk-q", billed_account.number)
    page.locator("#desk-hits button").first.click()
    box = page.locator(f".desk-account[data-account='{billed_account.number}']")
    box.wait_for()
    assert box.locator(".desk-balance").get_attribute("data-balance") == str(bill.total)
    assert bill.period.code in box.inner_text()
    assert box.locator(".bounced").count() == 1  # the cheque that came back
    receipt = box.locator("a", has_text="recibo").first.get_attribute("href")
    assert receipt.endswith(f"/bills/{bill.pk}/receipt/")

    page.select_option("#desk-kind", "clarification")
    page.fill("#desk-description", "El recibo trae un consumo que no reconozco")
    page.click("#desk-open button[type=submit]")
    page.wait_for_selector("#desk-ticket:not([hidden])")
    ticket = Ticket.objects.get(account=billed_account)
    assert ticket.number in page.locator("#desk-ticket-title").inner_text()
    page.wait_for_selector(f"#desk-queue button:has-text('{ticket.number}')")
