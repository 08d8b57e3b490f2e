"""What metering tells the map's info panel (see gis_core.info): the meters on a parcel with
their last readings, and the water balance of the district the parcel lies in.

Last readings carry the reading's status and flags, which are office information: the section
shows them to users who may view readings, never to meter readers (``can_see_expected``).
"""

from django.db import connection
from django.utils.translation import gettext_lazy as _

from gis_core.info import (
    EMPTY,
    InfoContent,
    InfoField,
    InfoTable,
    display_date,
    display_number,
    section,
)
from metering.models import Meter, MeterStatus
from metering.selectors import can_see_expected, last_readings, water_balance_history
from sectors.models import Dma

LAST_READINGS = 3  # per meter: enough to see a trend or a jump at a glance
BALANCE_MONTHS = 12


@section(key="meters", title=_("Meters"), order=30, permission="metering.view_meter")
def meters_section(user, parcel) -> InfoContent | None:
    """The meters installed on the parcel's service accounts (removed ones are history)."""
    meters = (
        Meter.objects.filter(account__parcel=parcel, status=MeterStatus.INSTALLED)
        .select_related("account")
        .order_by("account__number", "serial")
    )
    rows = [
        {
            "serial": m.serial,
            "account": m.account.number,
            "make": " ".join(p for p in (m.brand, m.model) if p) or EMPTY,
            "diameter_mm": str(m.diameter_mm),
            "installed_on": display_date(m.installed_on),
        }
        for m in meters
    ]
    tables = [
        InfoTable(
            key="meters",
            columns=(
                ("serial", _("serial number")),
                ("account", _("service account")),
                ("make", _("brand and model")),
                ("diameter_mm", _("diameter (mm)")),
                ("installed_on", _("installed on")),
            ),
            rows=rows,
        )
    ]
    if rows and can_see_expected(user):
        tables.append(_last_readings([m.pk for m in meters]))
    return InfoContent(
        tables=tables,
        note="" if rows else str(_("No meter is installed on this parcel.")),
    )


def _last_readings(meter_ids: list[int]) -> InfoTable:
    """The last readings of each meter, from one query over the meters' ids."""
    readings = last_readings(meter_ids=meter_ids, per_meter=LAST_READINGS)
    rows = [
        {
            "serial": r.meter.serial,
            "captured_at": display_date(r.captured_at),
            "value": display_number(r.value, 0),
            "consumption": display_number(r.consumption, 0),
            "status": str(r.get_status_display()),
            "flags": ", ".join(r.flags) or EMPTY,
        }
        for r in readings
    ]
    return InfoTable(
        key="last_readings",
        title=_("Last readings"),
        columns=(
            ("serial", _("serial number")),
            ("captured_at", _("captured at")),
            ("value", _("reading")),
            ("consumption", _("consumption (m³)")),
            ("status", _("status")),
            ("flags", _("flags")),
        ),
        rows=rows,
    )


@section(
    key="water_balance",
    title=_("Water balance of the district"),
    order=35,
    permission="metering.view_waterbalance",
)
def water_balance_section(user, parcel) -> InfoContent | None:
    """The district metered area the parcel lies in and its last months' balances; nothing
    for a parcel outside every district."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.id FROM sectors_dma d WHERE ST_Intersects(d.geom, ST_PointOnSurface(%s))"
            " ORDER BY d.code LIMIT 1",
            [parcel.geom.ewkb],
        )
        found = cur.fetchone()
    if found is None:
        return None
    dma = Dma.objects.get(pk=found[0])
    history = water_balance_history(dma=dma, months=BALANCE_MONTHS)
    rows = [
        {
            "month": f"{b.month:%Y-%m}",
            "input_m3": display_number(b.system_input_m3, 0),
            "billed_m3": display_number(b.billed_metered_m3 + b.billed_unmetered_m3, 0),
            "nrw_m3": display_number(b.non_revenue_m3, 0),
            "nrw_pct": EMPTY
            if b.non_revenue_pct is None
            else display_number(b.non_revenue_pct, 1) + " %",
        }
        for b in history
    ]
    return InfoContent(
        fields=[InfoField("dma", _("district metered area"), f"{dma.code} — {dma.name}")],
        tables=[
            InfoTable(
                key="water_balance",
                columns=(
                    ("month", _("month")),
                    ("input_m3", _("system input (m³)")),
                    ("billed_m3", _("billed (m³)")),
                    ("nrw_m3", _("non-revenue water (m³)")),
                    ("nrw_pct", _("non-revenue water (%)")),
                ),
                rows=rows,
            )
        ],
        note="" if rows else str(_("No water balance has been computed for this district yet.")),
    )
