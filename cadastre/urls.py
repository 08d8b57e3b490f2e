from django.urls import path

from cadastre.api import LocalityOverviewApi

app_name = "cadastre"
urlpatterns = [
    path("localities/", LocalityOverviewApi.as_view(), name="locality-overview"),
]
