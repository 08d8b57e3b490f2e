"""Census and reconciliation endpoints under /api/census/."""

from django.urls import path

from cadastre.census_api import (
    CampaignCloseApi,
    CampaignListCreateApi,
    InspectionRequestApi,
    ReconciliationReportApi,
    VisitListRecordApi,
)

app_name = "census"
urlpatterns = [
    path("campaigns/", CampaignListCreateApi.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/close/", CampaignCloseApi.as_view(), name="campaign-close"),
    path("campaigns/<int:pk>/visits/", VisitListRecordApi.as_view(), name="visit-list"),
    path("reconciliation/", ReconciliationReportApi.as_view(), name="reconciliation"),
    path(
        "reconciliation/inspections/",
        InspectionRequestApi.as_view(),
        name="reconciliation-inspections",
    ),
]
