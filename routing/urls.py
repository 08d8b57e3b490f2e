"""Routing endpoints; the project mounts them under /api/routing/."""

from django.urls import path

from routing import api

app_name = "routing"
urlpatterns = [
    path("runs/", api.RunCreateApi.as_view(), name="run-create"),
    path("runs/<int:pk>/", api.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<int:pk>/move/", api.RunMoveApi.as_view(), name="run-move"),
    path("runs/<int:pk>/lock/", api.RunLockApi.as_view(), name="run-lock"),
    path("runs/<int:pk>/publish/", api.RunPublishApi.as_view(), name="run-publish"),
    path("matrix/", api.MatrixApi.as_view(), name="matrix"),
    path("visits/plan/", api.VisitPlanApi.as_view(), name="visit-plan"),
]
