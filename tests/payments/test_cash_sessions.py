"""Cash sessions: one open per cashier, payments at the window need an open session of their
cashier, and the close reconciles float + cash taken - cash handed back against the count."""

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from billing.payments import services
from billing.payments.errors import PaymentError
from billing.payments.models import CashSession, Channel, Method, Payment, SessionStatus
from core import roles
from tests.billing.factories import add_account, town
from tests.payments.factories import JAN, cashier, debit

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    a = add_account(town(), m3=10)
    debit(a, 1, "water", "5000.00", JAN)
    return a


def take(account, user, session, amount, method=Method.CASH, reference=""):
    return services.payment_post(
        account=account,
        amount=D(amount),
        channel=Channel.CASHIER,
        method=method,
        user=user,
        cash_session=session,
        reference=reference,
    )


def test_a_cashier_has_one_open_session_at_a_time():
    user = cashier()
    services.cash_session_open(user=user, window="Caja 1", opening_float=D("500.00"))
    with pytest.raises(PaymentError) as refused:
        services.cash_session_open(user=user, window="Caja 2")
    assert (refused.value.code, refused.value.status) == ("session_open", 409)
    # The partial unique index holds even when the service check is bypassed.
    with pytest.raises(IntegrityError), transaction.atomic():
        CashSession.objects.create(cashier=user, window="Caja 3")


def test_the_close_reconciles_float_cash_and_reversals_and_shows_a_shortfall(account):
    user = cashier()
    clerk = cashier("cobranza", roles.BILLING_CLERK)
    session = services.cash_session_open(user=user, window="Caja 1", opening_float=D("500.00"))
    take(account, user, session, "350.00")
    take(account, user, session, "200.50")
    mistake = take(account, user, session, "100.00")
    take(account, user, session, "1000.00", Method.DEBIT_CARD, "VISA 1234")
    take(account, user, session, "800.00", Method.CHEQUE, "Banorte 0042")
    # The cash taken by mistake is handed back from this drawer (the cashier's own session).
    services.payment_reverse(payment=mistake, reason="capturado dos veces", user=user)
    figures = services.cash_session_reconcile(session=session)
    # 500 float + 650.50 cash taken - 100 handed back.
    assert figures["expected_cash"] == D("1050.50")
    cash = figures["methods"][Method.CASH]
    assert (cash["count"], cash["total"], cash["reversed_total"], cash["net"]) == (
        3,
        D("650.50"),
        D("100.00"),
        D("550.50"),
    )
    assert figures["methods"][Method.DEBIT_CARD]["total"] == D("1000.00")
    assert figures["methods"][Method.CHEQUE]["count"] == 1
    # The drawer holds 20.50 less than it should: 2x500 + 1x20 + 1x10 + 2x5 + 1x0.50 = 1040.50.
    closed = services.cash_session_close(
        session=session,
        user=user,
        counted={"500": 2, "20": 1, "10": 1, "5": 2, "0.50": 1},
        note="faltante",
    )
    assert closed.status == SessionStatus.CLOSED
    assert (closed.counted_cash, closed.expected_cash, closed.difference) == (
        D("1040.50"),
        D("1050.50"),
        D("-10.00"),
    )
    assert closed.reconciliation[Method.CASH]["net"] == "550.50"
    assert clerk is not None


def test_a_closed_session_refuses_payments(account):
    user = cashier()
    session = services.cash_session_open(user=user, window="Caja 1")
    services.cash_session_close(session=session, user=user, counted={})
    with pytest.raises(PaymentError) as refused:
        take(account, user, session, "10.00")
    assert (refused.value.code, refused.value.status) == ("session_closed", 409)
    assert Payment.objects.count() == 0


def test_a_window_payment_needs_a_session_of_its_own_cashier(account):
    user = cashier()
    other = cashier("otra")
    with pytest.raises(PaymentError) as refused:
        take(account, user, None, "10.00")
    assert refused.value.code == "no_session"
    session = services.cash_session_open(user=other, window="Caja 2")
    with pytest.raises(PaymentError) as refused:
        take(account, user, session, "10.00")
    assert (refused.value.code, refused.value.status) == ("no_session", 403)


def test_a_reversal_of_a_closed_sessions_payment_counts_in_the_reversing_users_session(account):
    user = cashier()
    first = services.cash_session_open(user=user, window="Caja 1")
    payment = take(account, user, first, "300.00")
    services.cash_session_close(session=first, user=user, counted={"100": 3})
    second = services.cash_session_open(user=user, window="Caja 1", opening_float=D("400.00"))
    services.payment_reverse(payment=payment, reason="billete falso", user=user)
    first.refresh_from_db()
    # The closed count is never changed; the cash leaves today's drawer.
    assert first.difference == D("0.00")
    figures = services.cash_session_reconcile(session=second)
    assert figures["expected_cash"] == D("100.00")


def test_a_cash_reversal_needs_an_open_session_but_a_cheque_does_not(account):
    user = cashier()
    clerk = cashier("cobranza", roles.BILLING_CLERK)
    session = services.cash_session_open(user=user, window="Caja 1")
    cash = take(account, user, session, "50.00")
    cheque = take(account, user, session, "70.00", Method.CHEQUE, "0042")
    with pytest.raises(PaymentError) as refused:
        services.payment_reverse(payment=cash, reason="error", user=clerk)
    assert (refused.value.code, refused.value.status) == ("no_session", 409)
    bounced = services.payment_reverse(payment=cheque, reason="cheque devuelto", user=clerk)
    assert bounced.reversed_in_session is None


def test_counts_of_unknown_denominations_are_refused():
    user = cashier()
    session = services.cash_session_open(user=user, window="Caja 1")
    with pytest.raises(PaymentError) as refused:
        services.cash_session_close(session=session, user=user, counted={"300": 1})
    assert refused.value.code == "bad_denomination"
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN
