"""What work orders tell the map's info panel (see gis_core.info): the parcel's open orders."""

from django.db.models import Q
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from gis_core.info import InfoContent, InfoTable, display_date, section
from orders.models import OPEN_STATUSES, WorkOrder

# Orders listed at most: a parcel with more is a case for the orders page, not the panel.
MAX_ORDERS = 20


@section(key="orders", title=_("Open work orders"), order=50, permission="orders.view_workorder")
def open_orders_section(user, parcel) -> InfoContent:
    """Open orders raised on the parcel or on one of its accounts, newest first."""
    orders = (
        WorkOrder.objects.filter(
            Q(parcel=parcel) | Q(account__parcel=parcel), status__in=OPEN_STATUSES
        )
        .select_related("account")
        .order_by("-created_at", "-id")[:MAX_ORDERS]
    )
    rows = [
        {
            "number": o.number,
            "kind": o.kind_label,
            "status": str(o.get_status_display()),
            "account": o.account.number if o.account else "",
            "created_at": display_date(o.created_at),
            "reason": Truncator(o.reason).chars(120),
        }
        for o in orders
    ]
    return InfoContent(
        tables=[
            InfoTable(
                key="orders",
                columns=(
                    ("number", _("order number")),
                    ("kind", _("kind")),
                    ("status", _("status")),
                    ("account", _("service account")),
                    ("created_at", _("created at")),
                    ("reason", _("reason")),
                ),
                rows=rows,
            )
        ],
        note="" if rows else str(_("No open work order on this parcel.")),
    )
