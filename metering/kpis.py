"""Metering's dashboard figures (see core.kpis): the city's non-revenue water in the latest
month whose input was measured in every district, and readings waiting for review."""

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from core.kpis import kpi
from metering.models import NrwClass, Reading, ReadingStatus, WaterBalance

GROUP = _("Metering")


@kpi(
    key="nrw_pct_latest_month",
    label=_("Non-revenue water, latest measured month"),
    group=GROUP,
    unit="pct",
    permission="metering.view_waterbalance",
    order=30,
)
def nrw_latest_month():
    # The latest month with no district left unmeasured (a month in progress is not a figure).
    months = (
        WaterBalance.objects.values("month")
        .exclude(
            month__in=WaterBalance.objects.filter(
                nrw_class=NrwClass.UNKNOWN, accounts__gt=0
            ).values("month")
        )
        .order_by("-month")
    )
    latest = months.first()
    if latest is None:
        return None
    totals = WaterBalance.objects.filter(month=latest["month"]).aggregate(
        siv=Sum("system_input_m3"), nrw=Sum("non_revenue_m3")
    )
    if not totals["siv"]:
        return None
    return round(100 * totals["nrw"] / totals["siv"], 1)


@kpi(
    key="readings_to_review",
    label=_("Readings waiting for review"),
    group=GROUP,
    unit="count",
    permission="metering.change_reading",
    order=31,
)
def readings_to_review():
    return Reading.objects.filter(status=ReadingStatus.FLAGGED).count()
