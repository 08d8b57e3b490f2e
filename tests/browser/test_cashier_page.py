"""The cashier window in Chromium, in Spanish: open a session with a float, find the account by
its bill's payment reference, take a cash payment (applied to the bill), see it in the
session's figures, print its receipt, and close the session with the drawer's count."""

from decimal import Decimal as D

import pytest
from django.utils import translation

from billing.payments.models import CashSession, Payment
from tests.payments.factories import billed_town, cashier


def es(message: str) -> str:
    with translation.override("es-mx"):
        return translation.gettext(message)


pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_cashier_takes_a_payment_and_closes_the_session(page, live_server):
    [bill] = billed_town(1)[1]
    cashier(username="cajera")
    page.goto(f"{live_server.url}/login/?next=/pay/cashier/")
    page.fill("#id_username", "cajera")
    page.fill("#id_password", "secret-pass-123")
    page.click("form[action^='/login/'] button[type=submit]")
    page.wait_for_url("**/pay/cashier/")
    # The page is in Spanish (es-MX); the expectations follow the compiled catalog.
    assert page.get_by_role("heading", level=1).inner_text() == es("Cashier window")
    page.wait_for_selector(".cashier-shell[data-session='none']")

    page.fill("#session-window", "Caja 3")
    page.fill("#session-float", "200.00")
    page.click("#session-open")
    page.wait_for_selector(".cashier-shell[data-session='open']")

    page.fill("#account-query", bill.payment_reference)
    page.click("#account-search")
    page.wait_for_selector("#account-panel:not([hidden])")
    assert page.locator("#account-balance").inner_text() == str(bill.total)

    page.select_option("#pay-method", "01")
    page.fill("#pay-amount", "50.00")
    page.click("#pay-submit")
    page.wait_for_selector("#pay-result:not([hidden])")
    payment = Payment.objects.get()
    assert page.locator("#pay-result").get_attribute("data-payment") == str(payment.pk)
    assert page.locator("#pay-result-text").inner_text() == es(
        "Payment %(id)s posted: %(amount)s."
    ) % {"id": payment.pk, "amount": "50.00"}
    assert page.locator("#pay-allocation tbody tr").count() >= 1
    assert payment.amount == D("50.00")
    page.wait_for_function(
        "() => document.getElementById('session-expected').textContent == '250.00'"
    )
    # The account's balance is refreshed from the ledger.
    expected_balance = f"{bill.total - D('50.00'):.2f}"
    page.wait_for_function(
        "(b) => document.getElementById('account-balance').textContent == b",
        arg=expected_balance,
    )

    receipt = page.context.new_page()
    receipt.goto(f"{live_server.url}/pay/receipt/{payment.pk}/")
    assert es("Payment receipt") in receipt.content()
    receipt.close()

    page.fill("#session-close-form input[data-face='200.00']", "1")
    page.fill("#session-close-form input[data-face='20.00']", "2")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#session-close")
    page.wait_for_selector("#session-result:not([hidden])")
    # 200 float + 50 cash expected; 240 counted: 10 short.
    assert page.locator("#result-difference").inner_text() == "-10.00"
    session = CashSession.objects.get()
    assert (session.status, session.difference) == ("closed", D("-10.00"))
