"""Collections; the project mounts them under /api/collection/."""

from django.urls import path

from billing.collection import api

app_name = "collection"
urlpatterns = [
    path("aging/", api.AgingReportApi.as_view(), name="aging"),
    path("aging/csv/", api.AgingReportCsvApi.as_view(), name="aging-csv"),
    path("accounts/<int:pk>/aging/", api.AccountAgingApi.as_view(), name="account-aging"),
    path(
        "accounts/<int:pk>/collection-type/",
        api.AccountCollectionTypeApi.as_view(),
        name="account-collection-type",
    ),
    path("actions/", api.ActionListApi.as_view(), name="actions"),
    path("actions/<int:pk>/cancel/", api.ActionCancelApi.as_view(), name="action-cancel"),
    path("actions/<int:pk>/notice.pdf", api.ActionNoticePdfApi.as_view(), name="action-notice"),
    path("evaluate/", api.EvaluateApi.as_view(), name="evaluate"),
    path("large-consumers/", api.LargeConsumerListApi.as_view(), name="large-consumers"),
]
