"""Work orders' dashboard figures (see core.kpis): open and late work, and how the last 30
days went (SLA met, first-time fix)."""

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.kpis import kpi
from orders.models import OPEN_STATUSES, WorkOrder, WorkOrderStatus

GROUP = _("Work orders")
PERMISSION = "orders.view_workorder"
WINDOW = dt.timedelta(days=30)


@kpi(
    key="orders_open",
    label=_("Open work orders"),
    group=GROUP,
    unit="count",
    permission=PERMISSION,
    order=50,
)
def orders_open():
    return WorkOrder.objects.filter(status__in=OPEN_STATUSES).count()


@kpi(
    key="orders_late",
    label=_("Late work orders"),
    group=GROUP,
    unit="count",
    permission=PERMISSION,
    order=51,
)
def orders_late():
    return WorkOrder.objects.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now()).count()


@kpi(
    key="orders_sla_met_30d",
    label=_("Orders closed within their SLA, last 30 days"),
    group=GROUP,
    unit="pct",
    permission=PERMISSION,
    order=52,
)
def orders_sla_met():
    closed = WorkOrder.objects.filter(
        status__in=(WorkOrderStatus.DONE, WorkOrderStatus.FAILED),
        finished_at__gte=timezone.now() - WINDOW,
        due_at__isnull=False,
    ).aggregate(n=Count("id"), met=Count("id", filter=Q(finished_at__lte=F("due_at"))))
    return round(100 * closed["met"] / closed["n"], 1) if closed["n"] else None


@kpi(
    key="orders_first_time_fix_30d",
    label=_("First-time fix, last 30 days"),
    group=GROUP,
    unit="pct",
    permission=PERMISSION,
    order=53,
)
def orders_first_time_fix():
    done = WorkOrder.objects.filter(
        status=WorkOrderStatus.DONE, finished_at__gte=timezone.now() - WINDOW
    ).aggregate(n=Count("id"), first=Count("id", filter=Q(visits=1)))
    return round(100 * done["first"] / done["n"], 1) if done["n"] else None
