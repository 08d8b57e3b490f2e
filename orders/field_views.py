"""The crews' page of the field app (/field/orders/): the same installable app, service worker
and look as the meter readers' page, with the work orders of the signed-in member's crew.

Everything the page shows comes from /field/api/orders/ and the phone's IndexedDB (see
static/js/field-orders.js); the page itself carries only the configuration and translated
messages, so the cached copy works offline for days."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from metering.field_api import PHOTO_MAX_SIDE_PX
from metering.field_views import PHOTO_JPEG_QUALITY, RETRY_BASE_MS, RETRY_MAX_MS, THEME_COLOUR


def _messages() -> dict[str, str]:
    """Every sentence the page's script shows, translated here (JavaScript has no catalog)."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "noCrew": _("You are not in a crew: ask your supervisor."),
        "noOrders": _("No open work orders for your crew."),
        "ordersToday": _("Open work orders: %(count)s."),
        "workCopy": _("(copy from %(time)s, no network)"),
        "noWorkCopy": _("The work orders could not be loaded and there is no copy on this phone."),
        "late": _("Late"),
        "due": _("Due %(time)s"),
        "account": _("Account %(account)s"),
        "noAddress": _("No address"),
        "status_assigned": _("Assigned"),
        "status_en_route": _("En route"),
        "status_in_progress": _("In progress"),
        "status_done": _("Done"),
        "status_failed": _("Failed"),
        "pending": _("Pending"),
        "synced": _("Sent"),
        "rejected": _("Refused"),
        "conflict": _("Sent · conflict"),
        "saved": _("Saved on the phone."),
        "willSend": _("No network: it stays on the phone and is sent when the network returns."),
        "signInAgain": _("Your session has ended: sign in again to send."),
        "serverError": _("The server did not accept the sending; trying again shortly."),
        "needResult": _("Choose how the visit ended."),
        "needField": _("Fill in: %(field)s."),
        "needPhotos": _("Take %(count)s photo(s)."),
        "needSignature": _("The customer must sign."),
        "gpsWaiting": _("Getting the GPS position…"),
        "gpsFix": _("GPS position within %(accuracy)s m."),
        "gpsNone": _("No GPS position: the step is saved without one."),
        "photos": _("Photos: %(count)s"),
    }


@login_required
@never_cache
def field_orders_page(request):
    """The crews' page; users without the field-crew right get a translated 403."""
    if not request.user.has_perm("orders.add_workorderstep"):
        return render(
            request,
            "orders/field_orders.html",
            {
                "forbidden": _("This page is for field crews. Ask an administrator for the role."),
                "theme_colour": THEME_COLOUR,
            },
            status=403,
        )
    scope = reverse("field:orders")
    lon, lat = settings.CAUDAL_DEMO_CENTER
    config = {
        "user": {"id": request.user.pk},
        "urls": {
            "orders": reverse("field:api-orders"),
            "sync": reverse("field:api-orders-sync"),
            "attachment": reverse("field:api-orders-attachment"),
            "sw": reverse("field:service-worker"),
            "scope": reverse("field:app"),
            "login": f"{reverse('login')}?{urlencode({'next': scope})}",
        },
        "center": [lat, lon],
        "photoMaxSide": PHOTO_MAX_SIDE_PX,
        "photoQuality": PHOTO_JPEG_QUALITY,
        "retry": {"baseMs": RETRY_BASE_MS, "maxMs": RETRY_MAX_MS},
        "messages": _messages(),
    }
    return render(
        request,
        "orders/field_orders.html",
        {"field_config": config, "theme_colour": THEME_COLOUR},
    )
