"""Adjustments: approval by amount and role, four eyes, what approval posts and how it is
applied, reversal, and the managers' report by requester, reason and sector."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.contrib.gis.geos import MultiPolygon
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from billing import selectors as billing_selectors
from billing import services as billing_services
from billing import settlement
from billing.agreements import selectors, services
from billing.agreements.errors import AgreementError
from billing.agreements.models import (
    Adjustment,
    AdjustmentReason,
    AdjustmentStatus,
    ApprovalRule,
)
from billing.models import Bill
from core import roles
from sectors.models import AccountSectors, CommercialArea
from tests.agreements.factories import FEB, JAN, debit, opened, pay
from tests.billing.factories import add_account
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory, square

pytestmark = pytest.mark.django_db


def request(account, user, amount, kind="credit_note", reason="reading_error", **kw):
    return services.adjustment_request(
        account=account, kind=kind, amount=D(amount), reason=reason, user=user, **kw
    )


def refused(call, **kwargs):
    with pytest.raises(AgreementError) as error:
        call(**kwargs)
    return error.value.code, error.value.status


# --- approval rules ------------------------------------------------------------------------------


def test_the_seeded_catalogue_has_reasons_for_credit_and_debit_notes():
    codes = dict(AdjustmentReason.objects.values_list("code", "kind"))
    assert codes["hidden_leak"] == "credit_note"
    assert codes["reconnection_fee"] == "debit_note"
    assert codes["reading_error"] == "both"
    assert set(ApprovalRule.objects.values_list("role", flat=True)) == {
        roles.BILLING_CLERK,
        roles.MANAGER,
        roles.ADMIN,
    }


def test_a_clerk_approves_up_to_their_limit_and_a_manager_above_it(account, desk, clerk, manager):
    debit(account, 1, "water", "9000.00", JAN)
    at_limit = request(account, desk, "5000.00")
    above = request(account, desk, "5000.01")
    at_limit = services.adjustment_approve(adjustment=at_limit, user=clerk)
    assert at_limit.status == "approved"
    assert refused(services.adjustment_approve, adjustment=above, user=clerk) == (
        "not_allowed",
        403,
    )
    approved = services.adjustment_approve(adjustment=above, user=manager, note="visto")
    assert (approved.status, approved.decided_by, approved.decision_note) == (
        "approved",
        manager,
        "visto",
    )
    assert approved.approval_rule.role == roles.MANAGER
    assert at_limit.approval_rule.role == roles.BILLING_CLERK


def test_the_smallest_covering_rule_of_the_approver_is_recorded(account, desk):
    both = UserFactory(username="jefa", roles=[roles.BILLING_CLERK, roles.MANAGER])
    small = request(account, desk, "10.00", kind="debit_note", reason="reconnection_fee")
    small = services.adjustment_approve(adjustment=small, user=both)
    assert small.approval_rule.role == roles.BILLING_CLERK


def test_a_rule_for_one_kind_does_not_cover_the_other(account, desk):
    ApprovalRule.objects.create(kind="debit_note", amount_up_to=D("100.00"), role=roles.CASHIER)
    cashier = UserFactory(username="caja", roles=[roles.CASHIER])
    debit_note = request(account, desk, "50.00", kind="debit_note", reason="reconnection_fee")
    credit_note = request(account, desk, "50.00")
    assert refused(services.adjustment_approve, adjustment=credit_note, user=cashier)[0] == (
        "not_allowed"
    )
    assert services.adjustment_approve(adjustment=debit_note, user=cashier).status == "approved"


def test_customer_service_requests_but_cannot_approve(account, desk):
    other_desk = UserFactory(username="atencion2", roles=[roles.CUSTOMER_SERVICE])
    adjustment = request(account, desk, "10.00")
    assert refused(services.adjustment_approve, adjustment=adjustment, user=other_desk) == (
        "not_allowed",
        403,
    )


def test_nobody_approves_their_own_request(account, manager):
    adjustment = request(account, manager, "10.00")
    assert refused(services.adjustment_approve, adjustment=adjustment, user=manager) == (
        "own_request",
        403,
    )
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Adjustment.objects.filter(pk=adjustment.pk).update(
            status="rejected", decided_by=manager, decided_at=timezone.now()
        )


def test_a_decided_adjustment_cannot_be_decided_again(account, desk, clerk, manager):
    debit(account, 1, "water", "100.00", JAN)
    adjustment = request(account, desk, "10.00")
    services.adjustment_approve(adjustment=adjustment, user=clerk)
    assert refused(services.adjustment_approve, adjustment=adjustment, user=manager) == (
        "not_pending",
        409,
    )
    assert refused(services.adjustment_reject, adjustment=adjustment, user=manager, note="no") == (
        "not_pending",
        409,
    )
    assert billing_selectors.account_balance(account=account) == D("90.00")


def test_a_rejected_adjustment_posts_nothing_and_says_why(account, desk, clerk):
    adjustment = request(account, desk, "10.00")
    assert refused(services.adjustment_reject, adjustment=adjustment, user=clerk, note=" ")[0] == (
        "note_required"
    )
    services.adjustment_reject(adjustment=adjustment, user=clerk, note="sin evidencia")
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.decision_note, adjustment.ledger_entry) == (
        "rejected",
        "sin evidencia",
        None,
    )
    assert billing_selectors.account_balance(account=account) == 0


@pytest.mark.parametrize(
    ("kind", "reason", "code"),
    [
        ("debit_note", "hidden_leak", "reason_kind"),
        ("credit_note", "meter_damage", "reason_kind"),
        ("credit_note", "nope", "unknown_reason"),
        ("gift", "hidden_leak", "invalid_kind"),
    ],
)
def test_a_request_needs_a_reason_of_its_kind(account, desk, kind, reason, code):
    assert refused(request, account=account, user=desk, amount="1.00", kind=kind, reason=reason)[
        0
    ] == (code)


def test_an_inactive_reason_or_a_non_positive_amount_is_refused(account, desk):
    AdjustmentReason.objects.filter(code="other").update(active=False)
    assert refused(request, account=account, user=desk, amount="1.00", reason="other")[0] == (
        "reason_inactive"
    )
    assert refused(request, account=account, user=desk, amount="0.00")[0] == "not_positive"
    assert refused(request, account=account, user=desk, amount="1.001")[0] == "not_cents"


# --- what approval posts -------------------------------------------------------------------------


@pytest.fixture
def billed(account):
    """The account's bill of the town's last period (a real billing run) and an older debt."""
    older = debit(account, 999, "water", "70.00", JAN)
    period = account.consumptions.get().period
    run = billing_services.billing_run_start(period=period, enqueue=False)
    billing_services.billing_run_execute(run_id=run.pk)
    return Bill.objects.get(account=account), older


def test_a_credit_note_pays_the_bill_it_corrects_and_the_rest_stays_credit(
    account, billed, desk, clerk
):
    bill, _older = billed
    adjustment = request(account, desk, str(bill.total + D("25.00")), bill=bill)
    adjustment = services.adjustment_approve(adjustment=adjustment, user=clerk)
    entry = adjustment.ledger_entry
    assert (entry.document_type, entry.document_id, entry.concept, entry.amount) == (
        "adjustment",
        adjustment.pk,
        "adjustment",
        -(bill.total + D("25.00")),
    )
    # The corrected bill is paid; the older debt is not touched; 25.00 stays free credit.
    assert opened(account) == {("bill", 999, "water"): D("70.00")}
    [credit] = settlement.free_credits(account=account)
    assert (credit.entry_id, credit.amount) == (entry.pk, D("25.00"))
    assert billing_selectors.account_balance(account=account) == D("45.00")


def test_a_credit_note_without_a_bill_pays_the_oldest_debt_first(account, desk, clerk):
    debit(account, 1, "water", "100.00", JAN)
    debit(account, 2, "water", "100.00", FEB)
    services.adjustment_approve(adjustment=request(account, desk, "120.00"), user=clerk)
    assert opened(account) == {("bill", 2, "water"): D("80.00")}


def test_a_debit_note_is_owed_with_its_due_date(account, desk, clerk):
    adjustment = request(account, desk, "350.00", kind="debit_note", reason="meter_damage")
    adjustment = services.adjustment_approve(adjustment=adjustment, user=clerk)
    entry = adjustment.ledger_entry
    assert entry.amount == D("350.00")
    assert entry.due_date == timezone.localdate() + dt.timedelta(days=15)
    [item] = settlement.open_items(account=account)
    assert (item.entry_id, item.open, item.due_date) == (entry.pk, D("350.00"), entry.due_date)


def test_the_due_days_of_debit_notes_are_a_setting(account, desk, clerk, settings):
    settings.CAUDAL_ADJUSTMENT_DEBIT_DUE_DAYS = 3
    adjustment = request(account, desk, "1.00", kind="debit_note", reason="reconnection_fee")
    adjustment = services.adjustment_approve(adjustment=adjustment, user=clerk)
    assert adjustment.ledger_entry.due_date == timezone.localdate() + dt.timedelta(days=3)


def test_reversing_an_approved_credit_note_reopens_what_it_paid(account, billed, desk, clerk):
    bill, _older = billed
    adjustment = request(account, desk, str(bill.total), bill=bill)
    adjustment = services.adjustment_approve(adjustment=adjustment, user=clerk)
    assert refused(services.adjustment_cancel, adjustment=adjustment, user=clerk, reason="")[0] == (
        "reason_required"
    )
    services.adjustment_cancel(adjustment=adjustment, user=clerk, reason="se aprobó por error")
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.CANCELLED
    assert adjustment.ledger_entry.reversed_by.note == "se aprobó por error"
    assert sum(opened(account).values()) == bill.total + D("70.00")
    assert refused(services.adjustment_cancel, adjustment=adjustment, user=clerk, reason="x") == (
        "not_approved",
        409,
    )


def test_a_request_for_a_bill_of_another_account_is_refused(place, account, billed, desk):
    bill, _older = billed
    other = add_account(place, m3=5)
    assert refused(request, account=other, user=desk, amount="1.00", bill=bill)[0] == (
        "bill_other_account"
    )


# --- report -------------------------------------------------------------------------------------


def sector(code, zone):
    return CommercialArea.objects.create(
        level="sector",
        code=code,
        name=f"Sector {code}",
        parent=zone,
        parent_level="zone",
        geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 100)),
    )


def test_the_report_groups_by_requester_reason_and_sector_with_exact_sums(
    place, account, desk, clerk, manager
):
    zone = CommercialArea.objects.create(
        level="zone", code="ZR", name="Zona", geom=MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 200))
    )
    north, south = sector("N1", zone), sector("S1", zone)
    other = add_account(place, m3=5)
    AccountSectors.objects.filter(account=account).update(sector=north)
    AccountSectors.objects.filter(account=other).update(sector=south)
    desk2 = UserFactory(username="atencion2", roles=[roles.CUSTOMER_SERVICE])

    def approved(acc, user, amount, kind="credit_note", reason="reading_error"):
        adj = request(acc, user, amount, kind=kind, reason=reason)
        return services.adjustment_approve(adjustment=adj, user=manager)

    approved(account, desk, "100.10")
    approved(account, desk, "50.05")
    approved(account, desk, "30.00", kind="debit_note")
    approved(other, desk, "20.00")
    approved(account, desk2, "7.77", kind="debit_note", reason="meter_damage")
    request(account, desk, "999.00")  # pending: not in the default report
    rejected = request(account, desk, "888.00")
    services.adjustment_reject(adjustment=rejected, user=clerk, note="no")
    old = approved(account, desk, "5.00")
    Adjustment.objects.filter(pk=old.pk).update(requested_at=timezone.now() - dt.timedelta(days=40))

    today = timezone.localdate()
    rows = selectors.adjustments_report(date_from=today - dt.timedelta(days=7), date_to=today)
    got = {
        (r["requested_by_username"], r["reason"], r["sector_code"]): (
            r["credit_count"],
            r["credit_amount"],
            r["debit_count"],
            r["debit_amount"],
        )
        for r in rows
    }
    assert got == {
        ("atencion", "reading_error", "N1"): (2, D("150.15"), 1, D("30.00")),
        ("atencion", "reading_error", "S1"): (1, D("20.00"), 0, D("0.00")),
        ("atencion2", "meter_damage", "N1"): (0, D("0.00"), 1, D("7.77")),
    }
    rejected_rows = selectors.adjustments_report(
        date_from=today, date_to=today, statuses=("rejected",)
    )
    assert [(r["credit_count"], r["credit_amount"]) for r in rejected_rows] == [(1, D("888.00"))]

    out = io.StringIO()
    with translation.override("en"):
        rows = selectors.adjustments_report(date_from=today - dt.timedelta(days=7), date_to=today)
        selectors.adjustments_report_csv(rows, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[1] == "atencion,reading_error,Meter reading error,N1,Sector N1,2,150.15,1,30.00"


def test_reversing_a_paid_debit_note_gives_its_payment_to_the_next_debt(account, desk, clerk):
    adjustment = request(account, desk, "100.00", kind="debit_note", reason="meter_damage")
    adjustment = services.adjustment_approve(adjustment=adjustment, user=clerk)
    debit(account, 5, "water", "200.00", timezone.localdate() + dt.timedelta(days=60))
    pay(account, "150.00")  # the debit note, then 50.00 of the later bill
    services.adjustment_cancel(adjustment=adjustment, user=clerk, reason="no procedía")
    # The payment's 100.00 freed from the debit note pays the later bill too.
    assert opened(account) == {("bill", 5, "water"): D("50.00")}
