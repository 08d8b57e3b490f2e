"""Pages of the meter readers' field app: the app shell, its web manifest and its service worker.

The shell is the only page; everything else it shows comes from the field API
(metering/field_api.py) and the phone's IndexedDB. The manifest and the service worker are
served without a session on purpose: browsers fetch a manifest without cookies, and a service
worker update check after the session expired must not turn into a login redirect (which would
fail the update and keep a stale worker). Neither says anything about the user.
"""

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from metering.field_api import PHOTO_MAX_SIDE_PX, SYNC_BATCH_SIZE, is_meter_reader

THEME_COLOUR = "#12304a"
BACKGROUND_COLOUR = "#f6f8fa"
# What the phone needs to open the app with no network (the shell page itself is added by URL).
PRECACHED_STATIC = (
    "vendor/idb/umd.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
    "js/field-common.js",
    "js/field-app.js",
    "js/field-orders.js",
    "css/field-app.css",
    "field/icon-192.png",
    "field/icon-512.png",
)
# The worker's own code: FieldQueue (in field-app.js) sends the queue for Background Sync.
WORKER_SCRIPTS = ("vendor/idb/umd.js", "js/field-app.js", "js/field-sw.js")
# Retry of a failed sync: doubles from the base up to the ceiling, back to the base on success.
RETRY_BASE_MS = 15_000
RETRY_MAX_MS = 5 * 60_000
PHOTO_JPEG_QUALITY = 0.85


def _messages() -> dict[str, str]:
    """Every sentence the page's script shows, translated here (JavaScript has no catalog)."""
    return {
        "online": _("Online"),
        "offline": _("Offline"),
        "pending": _("Pending"),
        "synced": _("Synced"),
        "syncedConflict": _("Synced · conflict"),
        "rejected": _("Rejected"),
        "notRead": _("Not read"),
        "visited": _("Already read"),
        "syncing": _("Sending…"),
        "sent": _("Readings sent: %(count)s."),
        "saved": _("Reading saved on the phone."),
        "willSend": _("No network: the readings stay on the phone and are sent when it returns."),
        "willRetry": _("The server could not be reached; trying again shortly."),
        "signInAgain": _("Your session has ended: sign in again to send the readings."),
        "serverError": _("The server did not accept the sending; trying again shortly."),
        "noWorkCopy": _("Today's work could not be loaded and there is no copy on this phone."),
        "noRoutes": _("You have no route assigned today."),
        "stopsToday": _("Meters to read today: %(count)s."),
        "workCopy": _("(copy from %(time)s, no network)"),
        "noAddress": _("No address"),
        "accountMeter": _("Account %(account)s · meter %(serial)s"),
        "valueIs": _("reading %(value)s"),
        "photo": _("Photo of the meter"),
        "photoProcessing": _("Preparing the photo…"),
        "photoUnreadable": _("The photo could not be read. Take it again."),
        "photoRejected": _("The reading arrived; its photo was refused: %(reason)s"),
        "signOutPending": _(
            "Some readings have not been sent yet. They stay on this phone and are sent when you "
            "sign in again. Sign out anyway?"
        ),
        "gpsWaiting": _("Getting the GPS position…"),
        "gpsFix": _("GPS position within %(accuracy)s m."),
        "gpsDenied": _("GPS not allowed: the reading is saved without a position."),
        "gpsUnavailable": _("No GPS position: the reading is saved without one."),
        "valueDigits": _("Type only the digits of the meter."),
        "valueTooLong": _("This meter has %(dials)s digits."),
        "valueOrObservation": _("Type the reading or choose an observation."),
    }


def _forbidden(request):
    message = _("The field app is for meter readers. Ask an administrator for the role.")
    return render(
        request,
        "metering/field_app.html",
        {"forbidden": message, "theme_colour": THEME_COLOUR},
        status=403,
    )


@login_required
@never_cache
def field_app(request):
    """The app shell. The service worker caches it for offline use, so nothing in it may go
    stale within a day: today's work comes from the API, not from the page."""
    if not is_meter_reader(request.user):
        if request.user.has_perm("orders.add_workorderstep"):
            # A crew member opened the app's start page: their page is the work orders'.
            return redirect("field:orders")
        return _forbidden(request)
    scope = reverse("field:app")
    lon, lat = settings.CAUDAL_DEMO_CENTER
    config = {
        "user": {"id": request.user.pk},
        "urls": {
            "work": reverse("field:api-work"),
            "sync": reverse("field:api-sync"),
            "photo": reverse("field:api-photo"),
            "sw": reverse("field:service-worker"),
            "scope": scope,
            "login": f"{reverse('login')}?{urlencode({'next': scope})}",
        },
        "center": [lat, lon],
        "photoMaxSide": PHOTO_MAX_SIDE_PX,
        "photoQuality": PHOTO_JPEG_QUALITY,
        "syncBatch": SYNC_BATCH_SIZE,
        "retry": {"baseMs": RETRY_BASE_MS, "maxMs": RETRY_MAX_MS},
        "messages": _messages(),
    }
    return render(
        request,
        "metering/field_app.html",
        {"field_config": config, "theme_colour": THEME_COLOUR},
    )


def manifest(request):
    """The web app manifest that makes the shell installable (standalone, portrait)."""
    scope = reverse("field:app")
    icons = [
        {"src": static(f"field/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    # The drop sits inside the central 80 % of the icon, so the same files serve as maskable.
    icons += [{**icon, "purpose": "maskable"} for icon in icons]
    data = {
        "id": scope,
        "name": _("Caudal — meter readings"),
        "short_name": _("Readings"),
        "description": _("Today's reading routes, offline capture of readings and photos."),
        "lang": get_language(),
        "start_url": scope,
        "scope": scope,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": BACKGROUND_COLOUR,
        "theme_color": THEME_COLOUR,
        "icons": icons,
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


def _assets_version(paths) -> str:
    """A digest of the cached files' contents: a new deployment of any of them changes the
    worker's bytes, so browsers install the new worker and drop the old cache. (Production URLs
    are content-hashed anyway; development and test URLs are not.)"""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode())
        found = finders.find(path)
        if found:
            digest.update(Path(found).read_bytes())
    return digest.hexdigest()[:16]


@never_cache
def service_worker(request):
    """The worker script, at the app's URL so that its scope is the app (a script under
    /static/ could only control /static/)."""
    scope = reverse("field:app")
    # Two pages, one app: meter readers' readings and crews' work orders.
    shells = [scope, reverse("field:orders")]
    config = {
        "version": _assets_version(sorted({*PRECACHED_STATIC, *WORKER_SCRIPTS})),
        "shells": shells,
        "staticPrefix": settings.STATIC_URL
        if settings.STATIC_URL.startswith("/")
        else "/" + settings.STATIC_URL,
        "precache": [reverse("field:manifest")] + [static(p) for p in PRECACHED_STATIC],
    }
    imports = ", ".join(json.dumps(static(p)) for p in WORKER_SCRIPTS)
    script = (
        "// Caudal field app service worker (metering.field_views.service_worker).\n"
        f"self.FIELD_SW = {json.dumps(config)};\n"
        f"importScripts({imports});\n"
    )
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = scope
    return response
