"""Water network endpoints; the project mounts them under /api/network/."""

from django.urls import path

from network import api, edit_api

app_name = "network"
urlpatterns = [
    path("trace/", api.TraceApi.as_view(), name="trace"),
    path("outages/", api.OutageListApi.as_view(), name="outages"),
    path("outages/<int:pk>/close/", api.OutageCloseApi.as_view(), name="outage-close"),
    path("topology/report/", api.TopologyReportApi.as_view(), name="topology-report"),
    path("topology/rebuild/", api.TopologyRebuildApi.as_view(), name="topology-rebuild"),
    path("districts/", api.DistrictReportApi.as_view(), name="districts"),
    path("feasibility/", api.FeasibilityApi.as_view(), name="feasibility"),
    path("epanet/import/", api.EpanetImportApi.as_view(), name="epanet-import"),
    path("epanet/export/", api.EpanetExportApi.as_view(), name="epanet-export"),
    path("edit/pipes/", edit_api.PipeListCreateApi.as_view(), name="edit-pipes"),
    path("edit/pipes/<int:pk>/", edit_api.PipeDetailApi.as_view(), name="edit-pipe"),
    path("edit/valves/", edit_api.ValveListCreateApi.as_view(), name="edit-valves"),
    path("edit/valves/<int:pk>/", edit_api.ValveDetailApi.as_view(), name="edit-valve"),
]
