"""Cadastre pages: the map editor of cadastre staff."""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.gis.db.models.functions import PointOnSurface, Transform
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from cadastre.models import LandUse, Parcel, ParcelStatus
from gis_core.srid import WGS84

# Below this zoom a view holds too many parcels to draw and edit; the map asks to zoom in.
EDITOR_MIN_ZOOM = 17
EDITOR_START_ZOOM = 18


def _start_point(request) -> tuple[float, float]:
    """Where the editor opens (lon, lat): ``?parcel=<id>``, else the first active parcel, else
    the configured city centre. One indexed row, never a scan of the parcel table."""
    qs = Parcel.objects.filter(status=ParcelStatus.ACTIVE).annotate(
        at=Transform(PointOnSurface("geom"), WGS84)
    )
    wanted = request.GET.get("parcel", "")
    row = None
    if wanted.isdigit():
        row = qs.filter(pk=int(wanted)).values_list("at", flat=True).first()
    if row is None:
        row = qs.order_by("pk").values_list("at", flat=True).first()
    if row is None:
        return settings.CAUDAL_DEMO_CENTER
    return (row.x, row.y)


@login_required
@permission_required("cadastre.view_parcel", raise_exception=True)
def parcel_editor(request):
    lon, lat = _start_point(request)
    config = {
        "urls": {
            "parcels": reverse("cadastre:edit-parcels"),
            "blocks": reverse("cadastre:edit-blocks"),
            "merge": reverse("cadastre:edit-parcel-merge"),
            # The editor fills in the id.
            "reshape": reverse("cadastre:edit-parcel-reshape", args=[0]).replace("/0/", "/{id}/"),
            "split": reverse("cadastre:edit-parcel-split", args=[0]).replace("/0/", "/{id}/"),
            "attributes": reverse("cadastre:edit-parcel-attributes", args=[0]).replace(
                "/0/", "/{id}/"
            ),
        },
        "canEdit": request.user.has_perm("cadastre.change_parcel"),
        "center": [lat, lon],
        "zoom": EDITOR_START_ZOOM,
        "minZoom": EDITOR_MIN_ZOOM,
        "snapDistancePx": 15,
        "landUses": {value: str(label) for value, label in LandUse.choices},
        "messages": {
            "zoomIn": _("Zoom in to see and edit parcels."),
            "loading": _("Loading parcels…"),
            "loaded": _("%(count)s parcels in view."),
            "capped": _("Showing the first %(count)s parcels of this view: zoom in to see all."),
            "loadFailed": _("The parcels could not be loaded. Try again."),
            "saving": _("Saving…"),
            "saved": _("Saved."),
            "created": _("Parcel %(key)s created."),
            "reshaped": _("New outline of parcel %(key)s saved."),
            "split": _("Parcel split into %(count)s parcels: %(keys)s."),
            "merged": _("Parcels merged into %(key)s."),
            "networkError": _("The server could not be reached; nothing was saved."),
            "serverError": _("The server could not save the change (error %(status)s)."),
            "newParcel": _("New parcel"),
            "drawHint": _("Click to place the vertices; click the first vertex to close it."),
            "splitHint": _(
                "Draw a line across the selected parcel; click its last point again to finish."
            ),
            "editHint": _("Drag the vertices (they snap to neighbours); then save the outline."),
            "mergeHint": _("Ctrl-click (or ⌘-click) to select more parcels to merge."),
            "selectOne": _("Select a parcel on the map."),
            "selected": _("%(count)s parcels selected."),
            "noSelection": _("No parcel selected."),
            "rejected": _("The change was rejected"),
            "drawParcel": _("Draw a new parcel"),
            "editVertices": _("Edit the outline of the selected parcel"),
            "splitParcel": _("Split the selected parcel with a line"),
            "mergeParcels": _("Merge the selected parcels"),
        },
    }
    return render(request, "cadastre/editor.html", {"editor_config": config})
