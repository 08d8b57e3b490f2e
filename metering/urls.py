"""Metering endpoints; the project mounts them at /api/metering/."""

from django.urls import path

from metering import api, balance_api

app_name = "metering"
urlpatterns = [
    path("sync/", api.SyncApi.as_view(), name="sync"),
    path("readings/photo/", api.PhotoApi.as_view(), name="reading-photo"),
    path("observations/", api.ObservationListApi.as_view(), name="observations"),
    path("rejection-codes/", api.RejectionCodesApi.as_view(), name="rejection-codes"),
    path("readings/", api.ReadingListApi.as_view(), name="readings"),
    path(
        "readings/<int:pk>/photo.jpg",
        api.ReadingPhotoFileApi.as_view(),
        name="reading-photo-file",
    ),
    path("review/", api.ReviewQueueApi.as_view(), name="review-queue"),
    path("review/<int:pk>/", api.ReviewDecisionApi.as_view(), name="review-decision"),
    path("files/", api.FileUploadApi.as_view(), name="file-upload"),
    path("files/<int:pk>/rejections.csv", api.FileRejectionsApi.as_view(), name="file-rejections"),
    path("periods/", api.PeriodListApi.as_view(), name="periods"),
    path("periods/<int:pk>/close/", api.PeriodCloseApi.as_view(), name="period-close"),
    path("assignments/", api.AssignmentApi.as_view(), name="assignments"),
    path("meter-changes/", api.MeterChangeApi.as_view(), name="meter-changes"),
    path("rules/", api.RuleListApi.as_view(), name="rules"),
    path("macrometers/", balance_api.MacrometerListApi.as_view(), name="macrometers"),
    path(
        "macrometers/readings/",
        balance_api.MacrometerReadingApi.as_view(),
        name="macrometer-reading",
    ),
    path(
        "macrometers/readings/file/",
        balance_api.MacrometerFileApi.as_view(),
        name="macrometer-file",
    ),
    path(
        "macrometers/telemetry/",
        balance_api.MacrometerTelemetryApi.as_view(),
        name="macrometer-telemetry",
    ),
    path("water-balance/", balance_api.WaterBalanceApi.as_view(), name="water-balance"),
    path(
        "water-balance/compute/",
        balance_api.WaterBalanceComputeApi.as_view(),
        name="water-balance-compute",
    ),
    path(
        "water-balance/<str:code>/",
        balance_api.WaterBalanceHistoryApi.as_view(),
        name="water-balance-history",
    ),
]
