"""Pre-billing holds: each rule holds the bill (not posted), clerks release or correct it."""

from decimal import Decimal as D

import pytest

from billing import selectors, services
from billing.errors import BillingError
from billing.models import Bill, BillStatus, HoldPolicy, LedgerEntry
from tests.billing.factories import add_account, town
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bill_all(t):
    run = services.billing_run_start(period=t.period, enqueue=False)
    return services.billing_run_execute(run_id=run.pk)


def hold_of(account):
    bill = Bill.objects.get(account=account, status__in=["issued", "held"])
    return bill.hold_reason if bill.status == BillStatus.HELD else None


def test_each_rule_holds_its_bill_and_only_it():
    t = town()
    HoldPolicy.objects.create(use_type="domestic", amount_cap=D("700.00"))
    cases = {
        "no_tariff": add_account(t, use="industrial", m3=10),
        "no_tariff_flat": add_account(t, use="commercial", m3=None),  # no flat rate
        "negative": add_account(t, use="public", m3=2),  # -100 + 10
        "amount_cap": add_account(t, m3=60),  # 30 + 50 + 80 + 480 (+30 %) = 832 > 700
        "high": add_account(t, m3=45, history=[(10, "measured")] * 3),
        "estimated": add_account(t, m3=10, method="estimated", history=[(9, "estimated")] * 2),
        "ok_history": add_account(t, m3=25, history=[(10, "measured")] * 3),  # < 3 x 10
        "ok_small_jump": add_account(t, m3=7, history=[(2, "measured")] * 3),  # < 10 m³ above
        "ok_estimated_twice": add_account(
            t, m3=10, method="estimated", history=[(9, "measured"), (9, "estimated")]
        ),
        "ok": add_account(t, m3=12),
    }
    run = bill_all(t)
    got = {name: hold_of(account) for name, account in cases.items()}
    assert got == {
        "no_tariff": "no_tariff",
        "no_tariff_flat": "no_tariff",
        "negative": "negative",
        "amount_cap": "amount_cap",
        "high": "high_consumption",
        "estimated": "estimated_in_row",
        "ok_history": None,
        "ok_small_jump": None,
        "ok_estimated_twice": None,
        "ok": None,
    }
    assert (run.bills_issued, run.bills_held) == (4, 6)
    # Held bills are not posted.
    held_ids = Bill.objects.filter(status=BillStatus.HELD).values_list("pk", flat=True)
    assert not LedgerEntry.objects.filter(document_type="bill", document_id__in=held_ids).exists()
    assert selectors.account_balance(account=cases["amount_cap"]) == 0


def test_policy_changes_the_thresholds_per_use_type():
    t = town()
    HoldPolicy.objects.create(use_type="domestic", history_factor=D("5"), estimated_in_row=2)
    high = add_account(t, m3=45, history=[(10, "measured")] * 3)  # 45 < 5 x 10
    estimated = add_account(t, m3=10, method="estimated", history=[(9, "estimated")])
    bill_all(t)
    assert hold_of(high) is None
    assert hold_of(estimated) == "estimated_in_row"


def test_release_issues_the_held_bill_and_posts_it():
    t = town()
    account = add_account(t, m3=45, history=[(10, "measured")] * 3)
    run = bill_all(t)
    clerk = UserFactory()
    bill = Bill.objects.get(account=account)
    with pytest.raises(BillingError) as refused:
        services.bill_release(bill=bill, user=clerk, reason=" ")
    assert refused.value.code == "reason_required"
    released = services.bill_release(bill=bill, user=clerk, reason="fuga confirmada")
    assert released.status == BillStatus.ISSUED
    assert released.resolved_by == clerk
    assert selectors.account_balance(account=account) == released.total
    run.refresh_from_db()
    assert (run.bills_issued, run.bills_held, run.amount_issued) == (1, 0, released.total)
    with pytest.raises(BillingError) as refused:
        services.bill_release(bill=released, user=clerk, reason="otra vez")
    assert refused.value.code == "not_held"


def test_correct_replaces_the_held_bill_with_a_repriced_one():
    t = town()
    account = add_account(t, m3=45, history=[(10, "measured")] * 3)
    bill_all(t)
    held = Bill.objects.get(account=account)
    clerk = UserFactory()
    new = services.bill_correct(
        bill=held, user=clerk, reason="lectura mal capturada", consumption_m3=D("25")
    )
    held.refresh_from_db()
    assert held.status == BillStatus.CORRECTED
    assert new.corrects == held
    assert new.status == BillStatus.ISSUED
    assert new.total == D("286.00")
    assert selectors.account_balance(account=account) == D("286.00")
    assert Bill.objects.filter(account=account, status__in=["issued", "held"]).count() == 1


def test_bill_without_tariff_cannot_be_released_nor_corrected_until_a_tariff_exists():
    t = town()
    account = add_account(t, use="industrial", m3=10)
    bill_all(t)
    held = Bill.objects.get(account=account)
    clerk = UserFactory()
    for call in (
        lambda: services.bill_release(bill=held, user=clerk, reason="x"),
        lambda: services.bill_correct(bill=held, user=clerk, reason="x", consumption_m3=D("10")),
    ):
        with pytest.raises(BillingError) as refused:
            call()
        assert refused.value.code == "no_tariff"
    assert Bill.objects.get(pk=held.pk).status == BillStatus.HELD


def test_dashboard_counts_held_bills_and_the_latest_run():
    from billing import kpis

    t = town()
    add_account(t, m3=45, history=[(10, "measured")] * 3)
    add_account(t, m3=25)
    assert kpis.latest_run_issued() is None
    bill_all(t)
    assert kpis.bills_held() == 1
    assert kpis.latest_run_issued() == D("286.00")


def test_run_counters_stay_equal_to_its_bills_through_release_and_correct():
    """The run row's counters are kept beside its bills; they must say what the bills say."""
    from django.db.models import Count, Q, Sum

    t = town()
    first = add_account(t, m3=45, history=[(10, "measured")] * 3)
    second = add_account(t, m3=50, history=[(10, "measured")] * 3)
    add_account(t, m3=25)
    run = bill_all(t)
    clerk = UserFactory()

    def bills_say():
        totals = Bill.objects.filter(run=run).aggregate(
            issued=Count("pk", filter=Q(status="issued")),
            held=Count("pk", filter=Q(status="held")),
            amount=Sum("total", filter=Q(status="issued"), default=D("0.00")),
        )
        run.refresh_from_db()
        return (run.bills_issued, run.bills_held, run.amount_issued), (
            totals["issued"],
            totals["held"],
            totals["amount"],
        )

    counters, truth = bills_say()
    assert counters == truth == (1, 2, D("286.00"))
    services.bill_release(bill=Bill.objects.get(account=first), user=clerk, reason="fuga")
    counters, truth = bills_say()
    assert counters == truth
    services.bill_correct(
        bill=Bill.objects.get(account=second), user=clerk, reason="lectura", consumption_m3=D("20")
    )
    counters, truth = bills_say()
    assert counters == truth
    assert counters[1] == 0
    # Every issued bill is in the ledger, once.
    issued = Bill.objects.filter(run=run, status="issued")
    assert sum(selectors.account_balance(account=b.account_id) for b in issued) == counters[2]
