"""Payment agreements: schedule to the cent, the ledger of signing, payments in order, breach
(the debt restored exactly), completion, cancellation and the collections selector."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import selectors as billing_selectors
from billing import services as billing_services
from billing import settlement
from billing.agreements import selectors, services
from billing.agreements.errors import AgreementError
from billing.agreements.models import Agreement, AgreementStatus
from billing.models import LedgerEntry
from tests.agreements.factories import FEB, JAN, debit, opened, pay
from tests.billing.factories import add_account

pytestmark = pytest.mark.django_db


def days(n):
    return dt.timedelta(days=n)


@pytest.fixture
def debt(account):
    """1,000.00 owed on two bills: January's water 400.00 + sewer 100.00, February's water
    500.00."""
    return {
        "water1": debit(account, 1, "water", "400.00", JAN),
        "sewer1": debit(account, 1, "sewer", "100.00", JAN),
        "water2": debit(account, 2, "water", "500.00", FEB),
    }


def sign(account, user, **terms):
    today = timezone.localdate()
    defaults = {
        "down_payment": D("100.00"),
        "installments": 3,
        "first_due_date": today + days(30),
    }
    return services.agreement_sign(account=account, user=user, **{**defaults, **terms})


def balance(account):
    return billing_selectors.account_balance(account=account)


def line_states(agreement, today=None):
    return [
        (line.number, line.paid, line.open, line.state)
        for line in selectors.agreement_lines(agreement=agreement, today=today)
    ]


# --- schedule ----------------------------------------------------------------------------------


def test_schedule_without_interest_splits_evenly_and_the_last_takes_the_cents():
    lines = services.schedule_compute(
        debt=D("1100.00"),
        down_payment=D("100.00"),
        installments=3,
        monthly_rate=D("0"),
        first_due_date=dt.date(2027, 1, 31),
        signed_on=dt.date(2027, 1, 10),
    )
    assert [(ln.number, ln.due_date, ln.principal, ln.interest) for ln in lines] == [
        (0, dt.date(2027, 1, 10), D("100.00"), D("0.00")),
        (1, dt.date(2027, 1, 31), D("333.33"), D("0.00")),
        # Months without a 31st fall due on their last day.
        (2, dt.date(2027, 2, 28), D("333.33"), D("0.00")),
        (3, dt.date(2027, 3, 31), D("333.34"), D("0.00")),
    ]
    assert sum(ln.amount for ln in lines) == D("1100.00")
    assert lines[-1].balance == 0


def test_schedule_with_interest_charges_the_rate_on_the_balance_still_financed():
    lines = services.schedule_compute(
        debt=D("1234.56"),
        down_payment=D("234.56"),
        installments=3,
        monthly_rate=D("0.0125"),
        first_due_date=dt.date(2027, 2, 15),
        signed_on=dt.date(2027, 1, 15),
    )
    # 1,000.00 x 1.25 % = 12.50; 666.67 x 1.25 % = 8.333375 → 8.33;
    # 333.34 x 1.25 % = 4.16675 → 4.17 (half up).
    assert [(ln.number, ln.principal, ln.interest, ln.balance) for ln in lines] == [
        (0, D("234.56"), D("0.00"), D("1000.00")),
        (1, D("333.33"), D("12.50"), D("666.67")),
        (2, D("333.33"), D("8.33"), D("333.34")),
        (3, D("333.34"), D("4.17"), D("0.00")),
    ]


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"down_payment": D("1000.00")}, "down_payment"),
        ({"installments": 0}, "installments"),
        ({"monthly_rate": D("-0.01")}, "rate"),
        ({"first_due_date": dt.date(2027, 1, 10)}, "first_due_date"),
        ({"down_payment": D("10.005")}, "not_cents"),
    ],
)
def test_schedule_refuses_impossible_terms(terms, code):
    args = {
        "debt": D("1000.00"),
        "down_payment": D("100.00"),
        "installments": 3,
        "monthly_rate": D("0"),
        "first_due_date": dt.date(2027, 2, 10),
        "signed_on": dt.date(2027, 1, 10),
        **terms,
    }
    with pytest.raises(AgreementError) as refused:
        services.schedule_compute(**args)
    assert refused.value.code == code


# --- signing -----------------------------------------------------------------------------------


def test_signing_leaves_the_balance_unchanged_and_closes_the_covered_debts(account, debt, desk):
    agreement = sign(account, desk)
    assert agreement.debt == D("1000.00")
    assert balance(account) == D("1000.00")
    # The bills' concepts are closed by the transfer; what is owed now are the installments.
    items = settlement.open_items(account=account)
    assert {i.document_type for i in items} == {"agreement"}
    assert [(i.concept, i.open) for i in items] == [
        ("installment", D("100.00")),
        ("installment", D("300.00")),
        ("installment", D("300.00")),
        ("installment", D("300.00")),
    ]
    paid = {
        s.debit_id: s.amount for s in settlement.settled_by_credit(credit=agreement.transfer_entry)
    }
    assert paid == {
        debt["water1"].pk: D("400.00"),
        debt["sewer1"].pk: D("100.00"),
        debt["water2"].pk: D("500.00"),
    }
    assert agreement.transfer_entry.amount == D("-1000.00")
    assert agreement.transfer_entry.concept == "agreement"
    assert agreement.schedule.get(number=0).due_date == timezone.localdate()


def test_signing_with_interest_raises_the_balance_by_the_interest_only(account, debt, desk):
    agreement = sign(account, desk, monthly_rate=D("0.02"))
    assert [(ln.principal, ln.interest) for ln in agreement.schedule.all()] == [
        (D("100.00"), D("0.00")),
        (D("300.00"), D("18.00")),
        (D("300.00"), D("12.00")),
        (D("300.00"), D("6.00")),
    ]
    assert balance(account) == D("1036.00")
    interest = LedgerEntry.objects.filter(
        document_type="agreement", document_id=agreement.pk, concept="interest"
    )
    assert sorted(e.amount for e in interest) == [D("6.00"), D("12.00"), D("18.00")]


def test_signing_covers_only_debts_due_before_the_given_day(account, debt, desk):
    agreement = sign(account, desk, due_before=FEB)
    assert agreement.debt == D("500.00")
    assert opened(account)[("bill", 2, "water")] == D("500.00")
    assert balance(account) == D("1000.00")


def test_free_credit_pays_the_debt_before_it_is_financed(account, debt, desk):
    pay(account, "150.00", settle=False)
    agreement = sign(account, desk)
    assert agreement.debt == D("850.00")
    assert balance(account) == D("850.00")


def test_an_account_has_one_agreement_in_force(account, debt, desk):
    first = sign(account, desk)
    with pytest.raises(AgreementError) as refused:
        sign(account, desk)
    assert (refused.value.code, refused.value.status) == ("agreement_exists", 409)
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(
            account=account,
            debt=D("1.00"),
            down_payment=D("0"),
            installments=1,
            first_due_date=first.first_due_date,
            grace_days=10,
            signed_by=desk,
        )


def test_signing_with_nothing_owed_is_refused(account, desk):
    with pytest.raises(AgreementError) as refused:
        sign(account, desk)
    assert refused.value.code == "nothing_owed"
    assert not Agreement.objects.exists()


def test_simulation_shows_the_schedule_and_writes_nothing(account, debt):
    before = LedgerEntry.objects.count()
    amount, lines = services.agreement_simulate(
        account=account,
        down_payment=D("100.00"),
        installments=3,
        first_due_date=timezone.localdate() + days(30),
    )
    assert amount == D("1000.00")
    assert [ln.amount for ln in lines] == [D("100.00"), D("300.00"), D("300.00"), D("300.00")]
    assert LedgerEntry.objects.count() == before
    assert not Agreement.objects.exists()


# --- payments, breach, completion ---------------------------------------------------------------


def test_payments_pay_the_installments_oldest_first(account, debt, desk):
    agreement = sign(account, desk)
    pay(account, "250.00")
    assert line_states(agreement) == [
        (0, D("100.00"), D("0.00"), "paid"),
        (1, D("150.00"), D("150.00"), "open"),
        (2, D("0.00"), D("300.00"), "open"),
        (3, D("0.00"), D("300.00"), "open"),
    ]


def test_breach_after_the_grace_restores_the_debt_less_what_was_paid(account, debt, desk):
    agreement = sign(account, desk)
    pay(account, "100.00", payment_id=1)  # the down payment
    pay(account, "300.00", payment_id=2)  # installment 1
    due2 = agreement.schedule.get(number=2).due_date
    assert services.agreements_check(today=due2 + days(11)) == {
        "breached": [agreement.pk],
        "completed": [],
    }
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.BREACHED
    assert "2" in agreement.close_reason
    # 1,000.00 owed - 400.00 paid; the 400.00 re-applied to the oldest bill first (its water
    # before its sewer), so January's sewer and February's water are what is owed again.
    assert balance(account) == D("600.00")
    assert opened(account) == {
        ("bill", 1, "sewer"): D("100.00"),
        ("bill", 2, "water"): D("500.00"),
    }
    assert settlement.free_credits(account=account) == []
    assert [state for *_, state in line_states(agreement)] == ["void"] * 4
    assert selectors.agreement_current(account) is None


def test_breach_of_an_agreement_with_interest_keeps_the_interest_paid_and_drops_the_rest(
    account, debt, desk
):
    agreement = sign(account, desk, monthly_rate=D("0.02"))
    pay(account, "418.00")  # down payment 100.00 + installment 1: 300.00 + 18.00 interest
    due2 = agreement.schedule.get(number=2).due_date
    services.agreements_check(today=due2 + days(11))
    # 1,000.00 + 18.00 interest paid - 418.00 paid.
    assert balance(account) == D("600.00")
    assert sum(opened(account).values()) == D("600.00")
    assert {k[0] for k in opened(account)} == {"bill"}
    kept = LedgerEntry.objects.filter(
        document_type="agreement",
        document_id=agreement.pk,
        concept="interest",
        reversal_of__isnull=True,
        reversed_by__isnull=True,
    )
    assert [e.amount for e in kept] == [D("18.00")]


def test_a_partly_paid_installment_frees_its_payment_for_the_old_debt(account, debt, desk):
    agreement = sign(account, desk)
    pay(account, "250.00")  # down payment + 150.00 of installment 1
    due1 = agreement.schedule.get(number=1).due_date
    services.agreements_check(today=due1 + days(11))
    assert balance(account) == D("750.00")
    assert opened(account) == {
        ("bill", 1, "water"): D("150.00"),
        ("bill", 1, "sewer"): D("100.00"),
        ("bill", 2, "water"): D("500.00"),
    }


def test_no_breach_inside_the_grace_days(account, debt, desk):
    agreement = sign(account, desk, grace_days=5)
    pay(account, "100.00")
    due1 = agreement.schedule.get(number=1).due_date
    assert services.agreements_check(today=due1 + days(5)) == {"breached": [], "completed": []}
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.CURRENT
    assert line_states(agreement, today=due1 + days(6))[1][3] == "overdue"
    assert services.agreements_check(today=due1 + days(6))["breached"] == [agreement.pk]


def test_an_unpaid_down_payment_breaks_the_agreement_after_its_grace(account, debt, desk):
    agreement = sign(account, desk)
    today = timezone.localdate()
    assert services.agreements_check(today=today + days(10))["breached"] == []
    assert services.agreements_check(today=today + days(11))["breached"] == [agreement.pk]
    assert balance(account) == D("1000.00")
    assert sum(opened(account).values()) == D("1000.00")


def test_a_payment_not_yet_applied_is_not_a_breach(account, debt, desk):
    agreement = sign(account, desk)
    pay(account, "100.00", settle=False)
    today = timezone.localdate()
    assert services.agreements_check(today=today + days(11))["breached"] == []
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.CURRENT


def test_an_agreement_is_completed_when_every_installment_is_paid(account, debt, desk):
    agreement = sign(account, desk, monthly_rate=D("0.02"))
    pay(account, "1036.00")
    assert services.agreements_check(today=timezone.localdate()) == {
        "breached": [],
        "completed": [agreement.pk],
    }
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.COMPLETED
    assert balance(account) == D("0.00")
    # The bills stay paid by the transfer: nothing is re-opened.
    assert opened(account) == {}
    last_due = agreement.schedule.get(number=3).due_date
    assert services.agreements_check(today=last_due + days(60)) == {
        "breached": [],
        "completed": [],
    }


def test_cancelling_on_request_restores_the_debt_like_a_breach(account, debt, desk):
    agreement = sign(account, desk)
    pay(account, "100.00")
    agreement = services.agreement_cancel(agreement=agreement, user=desk, reason="lo pidió")
    assert agreement.status == AgreementStatus.CANCELLED
    assert balance(account) == D("900.00")
    assert opened(account) == {
        ("bill", 1, "water"): D("300.00"),
        ("bill", 1, "sewer"): D("100.00"),
        ("bill", 2, "water"): D("500.00"),
    }
    with pytest.raises(AgreementError) as refused:
        services.agreement_cancel(agreement=agreement, user=desk, reason="otra vez")
    assert (refused.value.code, refused.value.status) == ("not_current", 409)


def test_a_new_agreement_can_be_signed_after_a_breach(account, debt, desk):
    agreement = sign(account, desk)
    pay(account, "400.00")
    services.agreements_check(today=agreement.schedule.get(number=2).due_date + days(11))
    second = sign(account, desk, down_payment=D("0.00"), installments=2)
    assert second.debt == D("600.00")
    assert balance(account) == D("600.00")
    assert [(i.concept, i.open) for i in settlement.open_items(account=account)] == [
        ("installment", D("300.00")),
        ("installment", D("300.00")),
    ]


# --- collections selector -----------------------------------------------------------------------


def test_collections_see_which_accounts_have_an_agreement_in_force(place, account, debt, desk):
    other = add_account(place, m3=10)
    debit(other, 3, "water", "50.00", JAN)
    agreement = sign(account, desk)
    assert set(selectors.accounts_with_current_agreement()) == {account.pk}
    assert set(selectors.accounts_with_current_agreement([other.pk])) == set()
    assert selectors.agreement_current(account) == agreement
    assert selectors.agreement_current(other) is None
    services.agreement_cancel(agreement=agreement, user=desk, reason="x")
    assert set(selectors.accounts_with_current_agreement()) == set()


def test_a_covered_bill_reversed_after_signing_pays_the_agreement_first(account, debt, desk):
    agreement = sign(account, desk)
    billing_services.ledger_reverse(entry=debt["water2"], note="recibo cancelado")
    # The transfer's 500.00 no longer pays February's water: as the agreement's own credit it
    # pays the agreement's lines, oldest first (billing.settlement's netting rule).
    assert balance(account) == D("500.00")
    assert [(n, state) for n, _paid, _open, state in line_states(agreement)] == [
        (0, "paid"),
        (1, "paid"),
        (2, "open"),
        (3, "open"),
    ]
    pay(account, "500.00")
    assert services.agreements_check(today=timezone.localdate())["completed"] == [agreement.pk]


def test_partly_paid_interest_is_dropped_and_its_payment_goes_to_the_debt(account, debt, desk):
    agreement = sign(account, desk, monthly_rate=D("0.02"))
    pay(account, "110.00")  # down payment + 10.00 of installment 1's 18.00 interest
    services.agreements_check(today=agreement.schedule.get(number=1).due_date + days(11))
    assert balance(account) == D("890.00")
    assert {k[0] for k in opened(account)} == {"bill"}


def test_the_daily_task_checks_as_of_the_given_day(account, debt, desk):
    from billing.agreements.tasks import agreements_check_task

    agreement = sign(account, desk)
    day = (timezone.localdate() + days(11)).isoformat()
    assert agreements_check_task(day) == {"breached": [agreement.pk], "completed": []}
