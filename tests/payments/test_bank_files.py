"""Bank collection files: all or nothing, once per file (SHA-256), once per bank authorization
(a line re-sent in another file posts nothing), errors named by line."""

import pytest
from django.utils import timezone

from billing.payments.bank_files import BankFileError, bank_file_import
from billing.payments.errors import PaymentError
from billing.payments.models import BankFile, BankFileLine, Channel, Method, Payment
from core import roles
from tests.payments.factories import billed_town, cashier

pytestmark = pytest.mark.django_db

HEADER = "referencia,importe,fecha,hora,sucursal,autorizacion\n"


@pytest.fixture
def bills():
    return billed_town(2)[1]


@pytest.fixture
def clerk():
    return cashier("cobranza", roles.BILLING_CLERK)


def csv(*lines):
    return (HEADER + "".join(line + "\n" for line in lines)).encode()


def mistyped(reference):
    """The reference with its last check digit changed: MOD 97-10 catches it."""
    return reference[:-1] + str((int(reference[-1]) + 1) % 10)


def test_a_valid_file_posts_one_bank_transfer_per_line(bills, clerk):
    a, b = bills
    content = csv(
        f"{a.payment_reference},100.00,15/04/2026,10:30:00,0123,AUT001",
        f"{b.payment_reference},55.50,15/04/2026,11:00:00,0123,AUT002",
    )
    result = bank_file_import(bank="BBVA", file_name="bbva-0415.csv", content=content, user=clerk)
    assert len(result.posted) == 2
    assert result.duplicates == []
    f = BankFile.objects.get()
    assert (f.lines_total, f.lines_posted, str(f.amount_total)) == (2, 2, "155.50")
    payment = Payment.objects.get(account=a.account)
    assert (payment.channel, payment.method, payment.reference) == (
        Channel.BANK,
        Method.TRANSFER,
        "BBVA:AUT001",
    )
    # The bank's times are the utility's local time (America/Mexico_City, UTC-6).
    assert timezone.localtime(payment.received_at).strftime("%Y-%m-%d %H:%M") == "2026-04-15 10:30"
    assert payment.received_at.isoformat() == "2026-04-15T16:30:00+00:00"


def test_a_reimported_file_posts_nothing_and_says_when_and_by_whom(bills, clerk):
    a, _b = bills
    content = csv(f"{a.payment_reference},100.00,15/04/2026,10:30:00,0123,AUT001")
    bank_file_import(bank="BBVA", file_name="bbva-0415.csv", content=content, user=clerk)
    with pytest.raises(PaymentError) as refused:
        bank_file_import(bank="BBVA", file_name="copia.csv", content=content, user=clerk)
    assert (refused.value.code, refused.value.status) == ("already_imported", 409)
    assert "cobranza" in refused.value.message
    assert "bbva-0415.csv" in refused.value.message
    assert Payment.objects.count() == 1


def test_the_same_line_in_another_file_posts_nothing(bills, clerk):
    a, b = bills
    first = csv(f"{a.payment_reference},100.00,15/04/2026,10:30:00,0123,AUT001")
    bank_file_import(bank="BBVA", file_name="dia-15.csv", content=first, user=clerk)
    second = csv(
        f"{a.payment_reference},100.00,15/04/2026,10:30:00,0123,AUT001",
        f"{b.payment_reference},20.00,16/04/2026,09:00:00,0456,AUT777",
    )
    result = bank_file_import(bank="BBVA", file_name="dia-16.csv", content=second, user=clerk)
    assert [line.authorization for line in result.posted] == ["AUT777"]
    assert [d["line"] for d in result.duplicates] == [2]
    assert "dia-15.csv" in result.duplicates[0]["message"]
    assert Payment.objects.count() == 2
    assert BankFile.objects.get(file_name="dia-16.csv").lines_duplicate == 1
    # Another bank may use the same authorization number: it is another payment.
    third = csv(f"{a.payment_reference},100.00,15/04/2026,10:30:00,01,AUT001")
    bank_file_import(bank="BANORTE", file_name="banorte.csv", content=third, user=clerk)
    assert Payment.objects.count() == 3


def test_a_file_with_one_bad_line_posts_nothing_and_names_the_line(bills, clerk):
    a, b = bills
    content = csv(
        f"{a.payment_reference},100.00,15/04/2026,10:30:00,0123,AUT001",
        f"{mistyped(b.payment_reference)},50.00,15/04/2026,10:31:00,0123,AUT002",
    )
    with pytest.raises(BankFileError) as refused:
        bank_file_import(bank="BBVA", file_name="malo.csv", content=content, user=clerk)
    assert refused.value.code == "invalid_file"
    [error] = refused.value.errors
    assert (error["line"], error["field"]) == (3, "referencia")
    assert Payment.objects.count() == 0
    assert BankFile.objects.count() == 0
    assert BankFileLine.objects.count() == 0


def test_every_kind_of_bad_line_is_reported_with_its_line_number(bills, clerk):
    a, _b = bills
    unknown = "0000000999" + "2604"
    unknown += f"{98 - int(unknown + '00') % 97:02d}"
    content = csv(
        f"{a.payment_reference},100.00,15/04/2026,10:30:00,0123,AUT001",
        f"{a.payment_reference},1e3,15/04/2026,10:30:00,0123,AUT002",
        f"{a.payment_reference},10.00,31/02/2026,10:30:00,0123,AUT003",
        f"{a.payment_reference},10.00,15/04/2026,10:30:00,0123,AUT001",
        f"{unknown},10.00,15/04/2026,10:30:00,0123,AUT005",
        f"{a.payment_reference},10.00,15/04/2026,10:30:00,0123",
    )
    with pytest.raises(BankFileError) as refused:
        bank_file_import(bank="BBVA", file_name="malo.csv", content=content, user=clerk)
    found = [(e["line"], e["field"]) for e in refused.value.errors]
    assert found == [
        (3, "importe"),
        (4, "fecha"),
        (5, "autorizacion"),
        (6, "referencia"),
        (7, ""),
    ]
    assert "2" in refused.value.errors[2]["message"]  # repeats line 2
    assert Payment.objects.count() == 0


def test_a_file_without_the_header_is_refused(clerk):
    with pytest.raises(BankFileError) as refused:
        bank_file_import(bank="BBVA", file_name="x.csv", content=b"a,b\n1,2\n", user=clerk)
    assert refused.value.errors[0]["line"] == 1
