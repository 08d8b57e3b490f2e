"""Sectorization endpoints; the project mounts them under /api/sectors/."""

from django.urls import path

from sectors import api, balancing_api

app_name = "sectors"
urlpatterns = [
    path("areas/<str:kind>/", api.AreaListApi.as_view(), name="area-list"),
    path("areas/<str:kind>/<int:pk>/", api.AreaDetailApi.as_view(), name="area-detail"),
    path("gaps/", api.GapsApi.as_view(), name="gaps"),
    path("unassigned/", api.UnassignedApi.as_view(), name="unassigned"),
    path("accounts/<int:account_id>/", api.AccountSectorsApi.as_view(), name="account-sectors"),
    path("changes/preview/", api.ChangePreviewApi.as_view(), name="change-preview"),
    path("changes/apply/", api.ChangeApplyApi.as_view(), name="change-apply"),
    path("proposals/preview/", api.ProposalPreviewApi.as_view(), name="proposal-preview"),
    path("proposals/apply/", api.ProposalApplyApi.as_view(), name="proposal-apply"),
    # Automatic balanced sectors (sectors.balancing): proposals to adopt through the above.
    path("balance/", balancing_api.SectorBalanceApi.as_view(), name="balance"),
]
