"""Receipts: a Spanish PDF per bill with lines, chart and payment reference; bulk and e-mail."""

import pytest
from django.core import mail

from billing import receipts, services
from billing.models import Bill
from core import roles
from tests.billing.factories import add_account, town
from tests.cadastre.factories_census import CustomerFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed():
    t = town()
    account = add_account(t, m3=25, history=[(12, "measured"), (14, "measured"), (9, "measured")])
    account.customer.email = "cliente@example.com"
    account.customer.save()
    add_account(t, m3=10, customer=CustomerFactory())
    run = services.billing_run_start(period=t.period, enqueue=False)
    return services.billing_run_execute(run_id=run.pk), account


def test_receipt_is_a_spanish_pdf_with_lines_reference_and_history(billed):
    _run, account = billed
    bill = Bill.objects.get(account=account)
    pdf = receipts.receipt_for_bill(bill_id=bill.pk)
    assert pdf.startswith(b"%PDF")
    text = pdf.decode("latin-1")
    for needle in (account.number, bill.payment_reference, "Drenaje", "Saneamiento", "$286.00"):
        assert needle in text, needle


def test_run_receipts_have_a_page_per_issued_bill(billed):
    run, _account = billed
    pdf = receipts.receipts_for_run(run_id=run.pk)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 2


def test_receipts_are_emailed_to_customers_with_an_address(billed):
    run, account = billed
    assert receipts.receipts_email(run_id=run.pk) == 1
    (message,) = mail.outbox
    assert message.to == ["cliente@example.com"]
    assert account.number in message.subject
    assert message.attachments[0][2] == "application/pdf"


def test_clerk_downloads_a_receipt(client, billed):
    _run, account = billed
    client.force_login(UserFactory(username="cajero", roles=[roles.BILLING_CLERK]))
    bill = Bill.objects.get(account=account)
    response = client.get(f"/api/billing/bills/{bill.pk}/receipt/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
