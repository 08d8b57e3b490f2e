"""Billing's dashboard figures (see core.kpis): bills held for review, and what the latest
finished billing run issued."""

from django.utils.translation import gettext_lazy as _

from billing.models import Bill, BillingRun, BillStatus, RunStatus
from core.kpis import kpi

GROUP = _("Billing")


@kpi(
    key="bills_held",
    label=_("Bills held for review"),
    group=GROUP,
    unit="count",
    permission="billing.change_bill",
    order=40,
)
def bills_held():
    # Served by the partial index bill_held.
    return Bill.objects.filter(status=BillStatus.HELD).count()


@kpi(
    key="latest_run_issued",
    label=_("Issued by the latest billing run"),
    group=GROUP,
    unit="mxn",
    permission="billing.view_billingrun",
    order=41,
)
def latest_run_issued():
    run = BillingRun.objects.filter(status=RunStatus.DONE).order_by("-finished_at").first()
    return None if run is None else run.amount_issued
