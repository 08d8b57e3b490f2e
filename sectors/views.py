"""Sectorization pages: the planner's map of zones, sectors, books, DMAs and tariff zones.

Every role that may read sectors sees the map, the layers and the coverage gaps; editing tools
(boundary preview/apply, balancing and adopting a proposal) appear only for users who may change
commercial areas (planners and admins). Without the view permission the page answers 403.
All the work is the sectors API's (``sectors.api``, ``sectors.balancing_api``): the page only
draws what it answers.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import Polygon
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from gis_core.srid import WGS84, storage_srid
from sectors.models import KINDS, AreaKind, CommercialArea
from sectors.services import KIND_INFO

CAN_VIEW = "sectors.view_commercialarea"
CAN_PLAN = "sectors.change_commercialarea"


def _extent() -> list[list[float]] | None:
    """Bounds of the commercial areas as Leaflet [[south, west], [north, east]], or None.
    One aggregate over the indexed column; only its four corners are transformed."""
    box = CommercialArea.objects.aggregate(box=Extent("geom"))["box"]
    if box is None:
        return None
    envelope = Polygon.from_bbox(box)
    envelope.srid = storage_srid()
    west, south, east, north = envelope.transform(WGS84, clone=True).extent
    return [[south, west], [north, east]]


def _balance_url() -> str | None:
    """The balancing endpoint, if the project mounts it (``sectors:balance``)."""
    try:
        return reverse("sectors:balance")
    except NoReverseMatch:
        return None


@login_required
@permission_required(CAN_VIEW, raise_exception=True)
def sector_planner(request):
    user = request.user
    can_plan = user.has_perm(CAN_PLAN)
    detail = reverse("sectors:area-list", args=["zone"]).replace("/zone/", "/{kind}/")
    config = {
        "urls": {
            "areas": detail,
            "gaps": reverse("sectors:gaps"),
            "changePreview": reverse("sectors:change-preview"),
            "changeApply": reverse("sectors:change-apply"),
            "proposalPreview": reverse("sectors:proposal-preview"),
            "proposalApply": reverse("sectors:proposal-apply"),
            "balance": _balance_url() if can_plan else None,
        },
        "kinds": {kind: str(AreaKind(kind).label) for kind in KINDS},
        "canEdit": {kind: user.has_perm(KIND_INFO[kind].permission("change")) for kind in KINDS},
        "canPlan": can_plan,
        "extent": _extent(),
        "center": [settings.CAUDAL_DEMO_CENTER[1], settings.CAUDAL_DEMO_CENTER[0]],
        "zoom": 14,
        "messages": {
            "loading": _("Loading areas…"),
            "loaded": _("%(count)s areas of the layer in view."),
            "loadFailed": _("The areas could not be loaded. Try again."),
            "gapsLoaded": _("%(count)s coverage gaps in view (%(accounts)s accounts in them)."),
            "gapsFailed": _("The coverage gaps could not be loaded."),
            "selectOne": _("Select an area on the map."),
            "accounts": _("%(count)s accounts"),
            "working": _("Working…"),
            "editHint": _("Drag the vertices of the boundary, then preview the change."),
            "noChange": _("Edit the boundary first: it is still the stored one."),
            "previewed": _(
                "Preview: %(accounts)s accounts would change area (%(moves)s moves). "
                "Nothing is saved until you apply it."
            ),
            "truncated": _("The table lists the first %(count)s moves of %(total)s."),
            "applied": _("Change applied: %(accounts)s accounts reassigned (%(moves)s moves)."),
            "noMoves": _("No account changes area."),
            "noArea": _("no area"),
            "opCreate": _("created"),
            "opUpdate": _("changed"),
            "opDelete": _("deleted"),
            "opReparent": _("moved to another parent"),
            "networkError": _("The server could not be reached; nothing was saved."),
            "serverError": _("The server could not do it (error %(status)s)."),
            "rejected": _("The change was rejected"),
            "balanceNeedsArea": _("Select an area or draw the area to balance."),
            "balanceNeedsSize": _("Give the number of sectors or the accounts per sector."),
            "balanceDrawHint": _(
                "Click to place the vertices; click the first vertex to close it."
            ),
            "balanceDrawn": _("Area drawn: it will be balanced."),
            "balanceSelected": _("The selected area (%(code)s) will be balanced."),
            "proposed": _("%(count)s areas proposed."),
            "adoptNeedsParent": _(
                "To adopt a proposal, select the zone (for sectors) or the sector (for books) "
                "whose areas it replaces."
            ),
            "figures": {
                "sectors": _("areas"),
                "accounts_total": _("accounts in all"),
                "accounts_min": _("fewest accounts"),
                "accounts_max": _("most accounts"),
                "accounts_mean": _("mean accounts"),
                "max_deviation_percent": _("largest deviation (%)"),
                "compactness_mean": _("mean compactness"),
                "compactness_min": _("lowest compactness"),
            },
            "withinTolerance": _("Within tolerance"),
            "outsideTolerance": _("Outside tolerance"),
        },
    }
    return render(request, "sectors/planner.html", {"planner_config": config})
