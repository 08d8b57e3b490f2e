"""The route planner page: pick a book, set the parameters, run, compare, edit and publish.

All the work is the routing API's (``routing.api``); the page draws what it answers. Users
who may view runs see the page; the run, edit and publish controls appear for those who may
add and change runs (planners and admins). Without the view permission the page answers 403.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from routing.selectors import book_choices

CAN_VIEW = "routing.view_optimizationrun"


@login_required
@permission_required(CAN_VIEW, raise_exception=True)
def route_planner(request):
    user = request.user
    detail = reverse("routing:run-detail", args=[0]).replace("/0/", "/{id}/")
    config = {
        "urls": {
            "create": reverse("routing:run-create"),
            "detail": detail,
            "move": detail + "move/",
            "lock": detail + "lock/",
            "publish": detail + "publish/",
        },
        "canRun": user.has_perm("routing.add_optimizationrun"),
        "canEdit": user.has_perm("routing.change_optimizationrun"),
        "center": [settings.CAUDAL_DEMO_CENTER[1], settings.CAUDAL_DEMO_CENTER[0]],
        "zoom": 15,
        "messages": {
            "pickBook": _("Pick a reading book."),
            "queued": _("Waiting for a worker…"),
            "running": _("Optimizing… %(progress)s%%"),
            "done": _("Plan ready: %(routes)s routes, %(km)s km, %(minutes)s minutes."),
            "failed": _("The optimization failed: %(message)s"),
            "published": _("Published: the field app reads the book in this order."),
            "networkError": _("The server could not be reached; nothing was saved."),
            "serverError": _("The server could not do it (error %(status)s)."),
            "route": _("Route %(n)s"),
            "moveHint": _("Meter %(number)s selected: pick the route to move it to."),
            "moved": _("Meter moved."),
            "locked": _("locked"),
            "current": _("current books"),
            "proposed": _("proposed routes"),
            "saved": _("saved"),
            "confirmPublish": _(
                "Publish these routes? They become the reading order of the field app."
            ),
        },
    }
    return render(
        request,
        "routing/planner.html",
        {"planner_config": config, "books": book_choices()},
    )
