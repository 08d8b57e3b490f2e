"""Adjustments and payment agreements; the project mounts them under /api/agreements/."""

from django.urls import path

from billing.agreements import api

app_name = "agreements"
urlpatterns = [
    path("reasons/", api.ReasonListApi.as_view(), name="reasons"),
    path("adjustments/", api.AdjustmentListApi.as_view(), name="adjustments"),
    path("adjustments/report/", api.AdjustmentReportApi.as_view(), name="adjustment-report"),
    path(
        "adjustments/report/csv/",
        api.AdjustmentReportCsvApi.as_view(),
        name="adjustment-report-csv",
    ),
    path("adjustments/<int:pk>/", api.AdjustmentDetailApi.as_view(), name="adjustment-detail"),
    path(
        "adjustments/<int:pk>/approve/",
        api.AdjustmentDecideApi.as_view(action="approve"),
        name="adjustment-approve",
    ),
    path(
        "adjustments/<int:pk>/reject/",
        api.AdjustmentDecideApi.as_view(action="reject"),
        name="adjustment-reject",
    ),
    path(
        "adjustments/<int:pk>/cancel/",
        api.AdjustmentCancelApi.as_view(),
        name="adjustment-cancel",
    ),
    path("agreements/", api.AgreementListApi.as_view(), name="agreements"),
    path("agreements/simulate/", api.AgreementSimulateApi.as_view(), name="agreement-simulate"),
    path("agreements/check/", api.AgreementCheckApi.as_view(), name="agreement-check"),
    path("agreements/<int:pk>/", api.AgreementDetailApi.as_view(), name="agreement-detail"),
    path("agreements/<int:pk>/cancel/", api.AgreementCancelApi.as_view(), name="agreement-cancel"),
]
