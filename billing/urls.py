"""Billing endpoints; the project mounts them under /api/billing/."""

from django.urls import path

from billing import api

app_name = "billing"
urlpatterns = [
    path("tariff-sets/", api.TariffSetListApi.as_view(), name="tariff-sets"),
    path(
        "tariff-sets/<int:pk>/export/", api.TariffSetExportApi.as_view(), name="tariff-set-export"
    ),
    path("tariff-sets/<int:pk>/adopt/", api.TariffSetAdoptApi.as_view(), name="tariff-set-adopt"),
    path(
        "tariff-sets/<int:pk>/simulate/",
        api.TariffSimulationApi.as_view(),
        name="tariff-set-simulate",
    ),
    path("runs/", api.RunStartApi.as_view(), name="runs"),
    path("runs/<int:pk>/", api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:pk>/cancel/", api.RunActionApi.as_view(action="cancel"), name="run-cancel"),
    path("runs/<int:pk>/resume/", api.RunActionApi.as_view(action="resume"), name="run-resume"),
    path("runs/<int:pk>/reverse/", api.RunActionApi.as_view(action="reverse"), name="run-reverse"),
    path("bills/held/", api.HeldBillsApi.as_view(), name="bills-held"),
    path("bills/<int:pk>/", api.BillDetailApi.as_view(), name="bill-detail"),
    path("bills/<int:pk>/release/", api.BillReleaseApi.as_view(), name="bill-release"),
    path("bills/<int:pk>/correct/", api.BillCorrectApi.as_view(), name="bill-correct"),
    path("bills/<int:pk>/receipt/", api.BillReceiptApi.as_view(), name="bill-receipt"),
    path("runs/<int:pk>/receipts/", api.RunReceiptsApi.as_view(), name="run-receipts"),
    path(
        "runs/<int:pk>/receipts/email/",
        api.RunReceiptsEmailApi.as_view(),
        name="run-receipts-email",
    ),
    path("accounts/<int:pk>/balance/", api.AccountBalanceApi.as_view(), name="account-balance"),
]
