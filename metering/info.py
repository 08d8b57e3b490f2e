"""What metering tells the map's info panel (see gis_core.info): the meters on a parcel.

Hook for issue 6 (readings): add a "last_readings" table to this section — the last few
readings of each meter (date, value, consumption, anomaly) from one query over the meters'
ids — or a section of its own at order 35. Nothing else changes: the panel renders any
fields and tables a section returns.
"""

from django.utils.translation import gettext_lazy as _

from gis_core.info import EMPTY, InfoContent, InfoTable, display_date, section
from metering.models import Meter, MeterStatus


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
    return InfoContent(
        tables=[
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
        ],
        note="" if rows else str(_("No meter is installed on this parcel.")),
    )
