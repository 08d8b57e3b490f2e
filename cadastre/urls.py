from django.urls import include, path

from cadastre.api import LocalityOverviewApi

app_name = "cadastre"
urlpatterns = [
    path("localities/", LocalityOverviewApi.as_view(), name="locality-overview"),
    path("edit/", include("cadastre.edit_urls")),
]
