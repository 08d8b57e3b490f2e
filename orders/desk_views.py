"""The service desk page (atención a usuarios) under /desk/: find a customer, see the 360°
view (accounts, balances, bills, payments, readings, orders, tickets), receive a request and
act on it. All the work is the desk API's (``orders.desk_api``); the page draws its answers.
Staff who may view tickets see the page; the forms appear for those who may add/change them.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from orders.models import TicketKind, TicketStatus


def _id_url(name: str) -> str:
    """The URL of ``name`` with an ``{id}`` placeholder the page fills in."""
    return reverse(name, args=[0]).replace("/0/", "/{id}/")


@login_required
@permission_required("orders.view_ticket", raise_exception=True)
def service_desk(request):
    user = request.user
    ticket = _id_url("orders:ticket-detail")
    config = {
        "urls": {
            "search": reverse("cadastre:search"),
            "tickets": reverse("orders:tickets"),
            "ticket": ticket,
            "action": ticket + "{action}/",
            "letter": _id_url("orders:ticket-feasibility-letter"),
            "customer": _id_url("orders:customer-overview"),
            "account": _id_url("orders:account-overview"),
            "receipt": _id_url("billing:bill-receipt"),
        },
        "canOpen": user.has_perm("orders.add_ticket"),
        "canAct": user.has_perm("orders.change_ticket"),
        "center": [settings.CAUDAL_DEMO_CENTER[1], settings.CAUDAL_DEMO_CENTER[0]],
        "kinds": dict(TicketKind.choices),
        "statuses": dict(TicketStatus.choices),
        "messages": {
            "searching": _("Searching…"),
            "nothingFound": _("Nothing found."),
            "networkError": _("The server could not be reached; nothing was saved."),
            "serverError": _("The server could not do it (error %(status)s)."),
            "opened": _("Request %(number)s received."),
            "done": _("Done."),
            "late": _("late"),
            "reversed": _("bounced"),
            "balance": _("Balance owed"),
            "bills": _("Bills"),
            "payments": _("Payments"),
            "readings": _("Last readings"),
            "orders": _("Open work orders"),
            "tickets": _("Requests"),
            "none": _("none"),
            "letter": _("Feasibility letter"),
            "receipt": _("receipt"),
            "askReason": _("Why?"),
            "askText": _("Message to the customer:"),
            "askResolution": _("Resolution:"),
        },
    }
    return render(request, "orders/desk.html", {"desk_config": config})
