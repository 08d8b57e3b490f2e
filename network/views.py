"""Network pages: the map editor of planners and administrators."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.gis.db.models.functions import Centroid, Transform
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from gis_core.srid import WGS84
from network.editing import SNAP_TOLERANCE_M
from network.models import AssetStatus, Material, Pipe, ValveState

# Below this zoom a view holds too many pipes to draw and edit; the map asks to zoom in.
EDITOR_MIN_ZOOM = 15
EDITOR_START_ZOOM = 18


def _start_point(request) -> tuple[float, float]:
    """Where the editor opens (lon, lat): ``?pipe=<id>``, else the first pipe, else the
    configured city centre. One indexed row, never a scan of the pipe table."""
    qs = Pipe.objects.annotate(at=Transform(Centroid("geom"), WGS84))
    wanted = request.GET.get("pipe", "")
    row = None
    if wanted.isdigit():
        row = qs.filter(pk=int(wanted)).values_list("at", flat=True).first()
    if row is None:
        row = qs.order_by("pk").values_list("at", flat=True).first()
    if row is None:
        return settings.CAUDAL_DEMO_CENTER
    return (row.x, row.y)


def _edit_url(name: str) -> str:
    return reverse(name, args=[0]).replace("/0/", "/{id}/")


@login_required
@permission_required("network.view_pipe", raise_exception=True)
def network_editor(request):
    user = request.user
    lon, lat = _start_point(request)
    config = {
        "urls": {
            "pipes": reverse("network:edit-pipes"),
            "pipe": _edit_url("network:edit-pipe"),
            "valves": reverse("network:edit-valves"),
            "valve": _edit_url("network:edit-valve"),
            # Block outlines as a background, for those who may see the cadastre.
            "blocks": reverse("cadastre:edit-blocks")
            if user.has_perm("cadastre.view_parcel")
            else "",
        },
        "can": {
            "addPipe": user.has_perm("network.add_pipe"),
            "changePipe": user.has_perm("network.change_pipe"),
            "deletePipe": user.has_perm("network.delete_pipe"),
            "addValve": user.has_perm("network.add_valve"),
            "changeValve": user.has_perm("network.change_valve"),
            "deleteValve": user.has_perm("network.delete_valve"),
        },
        "center": [lat, lon],
        "zoom": EDITOR_START_ZOOM,
        "minZoom": EDITOR_MIN_ZOOM,
        "snapDistancePx": 15,
        "snapToleranceM": SNAP_TOLERANCE_M,
        "materials": {value: str(label) for value, label in Material.choices},
        "statuses": {value: str(label) for value, label in AssetStatus.choices},
        "valveStates": {value: str(label) for value, label in ValveState.choices},
        "messages": {
            "zoomIn": _("Zoom in to see and edit the network."),
            "loading": _("Loading the network…"),
            "loaded": _("%(pipes)s pipes and %(valves)s valves in view."),
            "capped": _("Showing part of the network in this view: zoom in to see all of it."),
            "loadFailed": _("The network could not be loaded. Try again."),
            "saving": _("Saving…"),
            "saved": _("Saved."),
            "pipeCreated": _("Pipe %(code)s created."),
            "pipeSplit": _("Pipe %(code)s created; the pipes it joins were split to connect it."),
            "pipeReshaped": _("New route of pipe %(code)s saved."),
            "pipeDeleted": _("Pipe %(code)s deleted."),
            "valveCreated": _("Valve %(code)s placed on the pipe."),
            "valveMoved": _("Valve %(code)s moved."),
            "valveDeleted": _("Valve %(code)s deleted."),
            "confirmDelete": _("Delete %(code)s? This cannot be undone here."),
            "networkError": _("The server could not be reached; nothing was saved."),
            "serverError": _("The server could not save the change (error %(status)s)."),
            "newPipe": _("New pipe"),
            "newValve": _("New valve"),
            "pipeTitle": _("Pipe %(code)s"),
            "valveTitle": _("Valve %(code)s"),
            "drawPipeHint": _(
                "Click to place the vertices; click the last one again to finish. Ends within "
                "%(tol)s m of a pipe join it."
            ),
            "placeValveHint": _("Click on a pipe to place the valve."),
            "editHint": _("Drag the vertices (ends snap onto other pipes); then save the route."),
            "moveHint": _("Drag the valve along its pipe; then save."),
            "selectOne": _("Select a pipe or a valve on the map."),
            "rejected": _("The change was rejected"),
        },
    }
    return render(request, "network/editor.html", {"editor_config": config})
