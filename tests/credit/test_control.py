"""The credit-control decision table: crafted situations at each point of service give an
exact decision and exact reasons (standard level unless said), and every check is logged."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from billing.credit import control
from billing.credit.models import CreditCheck, CreditError
from cadastre.models import AccountStatus
from core import roles
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.credit.factories import ON, at, breached_agreement, broken_promise, debt, payment
from tests.factories import ParcelFactory, UserFactory

pytestmark = pytest.mark.django_db

DAYS = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# Each situation builds the subject and answers the kwargs of credit_check plus the expected
# reasons (which may name the account or the parcel).


def clean_customer():
    customer = CustomerFactory()
    ServiceAccountFactory(customer=customer)
    return {"customer": customer, "parcel": ParcelFactory()}, [
        "No past-due debt or history that calls for attention at this point of service."
    ]


def small_recent_debt():
    account = ServiceAccountFactory()
    debt(account, "200.00", due=ON - 30 * DAYS)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "The customer owes $200.00 past due."
    ]


def large_debt():
    account = ServiceAccountFactory()
    debt(account, "900.00", due=ON - 40 * DAYS)
    debt(account, "600.00", due=ON - 10 * DAYS)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "The customer owes $1,500.00 past due."
    ]


def old_small_debt():
    account = ServiceAccountFactory()
    debt(account, "100.00", due=ON - 120 * DAYS)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "Days past due of the oldest debt: 120.",
        "The customer owes $100.00 past due.",
    ]


def two_accounts_owing():
    customer = CustomerFactory()
    for _ in range(2):
        debt(ServiceAccountFactory(customer=customer), "50.00", due=ON - 20 * DAYS)
    return {"customer": customer, "parcel": ParcelFactory()}, [
        "Accounts of the customer with past-due debt: 2.",
        "The customer owes $100.00 past due.",
    ]


def suspended_account_without_debt():
    customer = CustomerFactory()
    ServiceAccountFactory(customer=customer, status=AccountStatus.SUSPENDED)
    return {"customer": customer, "parcel": ParcelFactory()}, [
        "Suspended or cut-off accounts of the customer: 1."
    ]


def debts_left_on_the_parcel():
    parcel = ParcelFactory()
    debt(ServiceAccountFactory(parcel=parcel), "300.00", due=ON - 60 * DAYS)
    return {"customer": CustomerFactory(), "parcel": parcel}, [
        f"The accounts on parcel {parcel.cadastral_key} owe $300.00 past due."
    ]


def debt_not_yet_due():
    account = ServiceAccountFactory()
    debt(account, "5000.00", due=ON)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "No past-due debt or history that calls for attention at this point of service."
    ]


def debt_paid_by_an_unapplied_payment():
    account = ServiceAccountFactory()
    debt(account, "500.00", due=ON - 50 * DAYS)
    payment(account, "500.00", when=at(ON - 5 * DAYS))
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "No past-due debt or history that calls for attention at this point of service."
    ]


def two_broken_promises():
    account = ServiceAccountFactory()
    collector = UserFactory()
    broken_promise(account, collector, decided=ON - 60 * DAYS)
    broken_promise(account, collector, decided=ON - 200 * DAYS)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "Promises of payment broken in the last 12 months: 2."
    ]


def broken_promises_too_long_ago():
    account = ServiceAccountFactory()
    collector = UserFactory()
    broken_promise(account, collector, decided=ON - 400 * DAYS)
    broken_promise(account, collector, decided=ON - 500 * DAYS)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "No past-due debt or history that calls for attention at this point of service."
    ]


def transferred_account_with_debt():
    account = ServiceAccountFactory()
    debt(account, "10.00", due=ON - 5 * DAYS)
    return {"account": account, "customer": CustomerFactory()}, [
        f"Account {account.number} owes $10.00 past due."
    ]


def transfer_to_a_holder_with_debts():
    account = ServiceAccountFactory()
    holder = CustomerFactory()
    debt(ServiceAccountFactory(customer=holder), "250.00", due=ON - 5 * DAYS)
    return {"account": account, "customer": holder}, ["The customer owes $250.00 past due."]


def transfer_to_a_new_customer_from_a_holder_with_debts():
    account = ServiceAccountFactory()
    debt(ServiceAccountFactory(customer=account.customer), "900.00", due=ON - 100 * DAYS)
    return {"account": account}, [
        "No past-due debt or history that calls for attention at this point of service."
    ]


def agreement_breached_last_year():
    account = ServiceAccountFactory()
    breached_agreement(account, UserFactory(), closed=ON - 100 * DAYS)
    return {"account": account}, ["Payment agreements breached in the last 12 months: 1."]


def two_agreements_breached():
    account = ServiceAccountFactory()
    user = UserFactory()
    breached_agreement(account, user, closed=ON - 100 * DAYS)
    breached_agreement(account, user, closed=ON - 500 * DAYS)
    return {"account": account}, ["Payment agreements breached in the last 24 months: 2."]


def parcel_only_with_debts():
    parcel = ParcelFactory()
    debt(ServiceAccountFactory(parcel=parcel), "80.00", due=ON - 5 * DAYS)
    return {"parcel": parcel}, [
        f"The accounts on parcel {parcel.cadastral_key} owe $80.00 past due."
    ]


def customer_owing_at_feasibility():
    account = ServiceAccountFactory()
    debt(account, "80.00", due=ON - 5 * DAYS)
    return {"customer": account.customer, "parcel": ParcelFactory()}, [
        "The customer owes $80.00 past due."
    ]


TABLE = [
    ("new_contract", "standard", clean_customer, "inform"),
    ("new_contract", "standard", small_recent_debt, "warn"),
    ("new_contract", "standard", large_debt, "authorize"),
    ("new_contract", "standard", old_small_debt, "authorize"),
    ("new_contract", "standard", two_accounts_owing, "refuse"),
    ("new_contract", "standard", suspended_account_without_debt, "refuse"),
    ("new_contract", "standard", debts_left_on_the_parcel, "authorize"),
    ("new_contract", "standard", debt_not_yet_due, "inform"),
    ("new_contract", "standard", debt_paid_by_an_unapplied_payment, "inform"),
    ("new_contract", "standard", two_broken_promises, "warn"),
    ("new_contract", "standard", broken_promises_too_long_ago, "inform"),
    ("new_contract", "strict", small_recent_debt, "authorize"),
    ("new_contract", "lenient", small_recent_debt, "inform"),
    ("new_contract", "lenient", two_accounts_owing, "authorize"),
    ("ownership_transfer", "standard", transferred_account_with_debt, "refuse"),
    ("ownership_transfer", "standard", transfer_to_a_holder_with_debts, "warn"),
    (
        "ownership_transfer",
        "standard",
        transfer_to_a_new_customer_from_a_holder_with_debts,
        "inform",
    ),
    ("agreement", "standard", agreement_breached_last_year, "authorize"),
    ("agreement", "standard", two_agreements_breached, "refuse"),
    ("feasibility", "standard", parcel_only_with_debts, "warn"),
    ("feasibility", "standard", customer_owing_at_feasibility, "inform"),
]


@pytest.mark.parametrize(
    ("point", "level", "situation", "decision"),
    TABLE,
    ids=[f"{p}-{lv}-{s.__name__}-{d}" for p, lv, s, d in TABLE],
)
def test_credit_decision_table(point, level, situation, decision):
    subject, reasons = situation()
    answer = control.credit_check(point=point, level=level, on=ON, **subject)
    assert (answer.decision, answer.reasons) == (decision, reasons)
    logged = CreditCheck.objects.get(pk=answer.check_id)
    assert (logged.point, logged.level, logged.decision, logged.reasons) == (
        point,
        level,
        decision,
        reasons,
    )


def test_figures_are_shown_with_money_as_strings():
    account = ServiceAccountFactory()
    debt(account, "120.50", due=ON - 45 * DAYS)
    answer = control.credit_check(point="new_contract", account=account, on=ON)
    assert answer.figures["overdue_amount"] == "120.50"
    assert answer.figures["days_overdue"] == 45
    assert answer.figures["overdue_accounts"] == 1
    assert answer.figures["broken_promises_12m"] == 0
    assert answer.rules == [
        {
            "figure": "parcel_overdue",
            "value": "120.50",
            "threshold": "0.01",
            "months": None,
            "decision": "authorize",
        },
        {
            "figure": "overdue_amount",
            "value": "120.50",
            "threshold": "0.01",
            "months": None,
            "decision": "warn",
        },
    ]


def test_configured_level_is_read_from_settings(settings):
    account = ServiceAccountFactory()
    debt(account, "200.00", due=ON - 30 * DAYS)
    settings.CAUDAL_CREDIT = {"level": "strict"}
    answer = control.credit_check(point="new_contract", customer=account.customer, on=ON)
    assert (answer.level, answer.decision) == ("strict", "authorize")


def test_a_check_needs_a_subject_and_a_known_point():
    with pytest.raises(CreditError) as refused:
        control.credit_check(point="new_contract")
    assert refused.value.code == "subject_required"
    with pytest.raises(CreditError) as refused:
        control.credit_check(point="lunch", customer=CustomerFactory())
    assert refused.value.code == "point_unknown"


# --- authorization ------------------------------------------------------------------------------


def authorize_situation():
    account = ServiceAccountFactory()
    debt(account, "1500.00", due=ON - 10 * DAYS)
    return account


def test_authorization_is_recorded_by_another_user_with_the_permission():
    clerk = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    manager = UserFactory(roles=[roles.MANAGER])
    account = authorize_situation()
    answer = control.credit_check(point="new_contract", customer=account.customer, user=clerk)
    assert answer.decision == "authorize"
    check = control.credit_authorize(
        check_id=answer.check_id, user=manager, note="Cliente conocido"
    )
    assert (check.authorized_by, check.authorization_note) == (manager, "Cliente conocido")
    assert check.authorized_at is not None


def test_the_clerk_who_ran_the_check_cannot_authorize_it():
    manager = UserFactory(roles=[roles.MANAGER])
    answer = control.credit_check(
        point="new_contract", customer=authorize_situation().customer, user=manager
    )
    with pytest.raises(CreditError) as refused:
        control.credit_authorize(check_id=answer.check_id, user=manager, note="yo mismo")
    assert refused.value.code == "own_check"
    assert CreditCheck.objects.get(pk=answer.check_id).authorized_by is None


def test_the_database_refuses_a_self_authorization_too():
    manager = UserFactory(roles=[roles.MANAGER])
    answer = control.credit_check(
        point="new_contract", customer=authorize_situation().customer, user=manager
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditCheck.objects.filter(pk=answer.check_id).update(
            authorized_by=manager, authorized_at=at(ON)
        )


def test_a_user_without_the_permission_cannot_authorize():
    clerk = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    other = UserFactory(roles=[roles.BILLING_CLERK])
    answer = control.credit_check(
        point="new_contract", customer=authorize_situation().customer, user=clerk
    )
    with pytest.raises(CreditError) as refused:
        control.credit_authorize(check_id=answer.check_id, user=other, note="ok")
    assert (refused.value.code, refused.value.status) == ("not_allowed", 403)


def test_only_an_authorize_decision_is_authorized_and_only_once():
    clerk = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    manager = UserFactory(roles=[roles.MANAGER])
    warn = control.credit_check(
        point="new_contract", customer=CustomerFactory(), parcel=ParcelFactory(), user=clerk
    )
    with pytest.raises(CreditError) as refused:
        control.credit_authorize(check_id=warn.check_id, user=manager, note="ok")
    assert refused.value.code == "not_authorizable"
    answer = control.credit_check(
        point="new_contract", customer=authorize_situation().customer, user=clerk
    )
    control.credit_authorize(check_id=answer.check_id, user=manager, note="ok")
    with pytest.raises(CreditError) as refused:
        control.credit_authorize(check_id=answer.check_id, user=manager, note="otra vez")
    assert refused.value.code == "already_authorized"


def test_enforce_refuses_asks_authorization_and_accepts_an_authorized_check():
    clerk = UserFactory(roles=[roles.CUSTOMER_SERVICE])
    manager = UserFactory(roles=[roles.MANAGER])
    customer = authorize_situation().customer
    with pytest.raises(CreditError) as asked:
        control.credit_enforce(point="new_contract", customer=customer, user=clerk)
    assert asked.value.code == "authorization_required"
    first = CreditCheck.objects.filter(customer=customer).latest("pk")
    control.credit_authorize(check_id=first.pk, user=manager, note="ok")
    passed = control.credit_enforce(
        point="new_contract", customer=customer, user=clerk, authorization=first.pk
    )
    assert passed.decision == "authorize"
    # An authorization covers its own subject only.
    with pytest.raises(CreditError):
        control.credit_enforce(
            point="new_contract",
            customer=authorize_situation().customer,
            user=clerk,
            authorization=first.pk,
        )

    owing = CustomerFactory()
    for _ in range(2):
        debt(ServiceAccountFactory(customer=owing), "50.00", due=ON - 20 * DAYS)
    with pytest.raises(CreditError) as refused:
        control.credit_enforce(point="new_contract", customer=owing, user=clerk)
    assert refused.value.code == "credit_refused"
    assert "Accounts of the customer with past-due debt: 2." in refused.value.message
