"""Sectorization pages (the planner's map) under /sectors/."""

from django.urls import path

from sectors import views

app_name = "sectors-pages"
urlpatterns = [
    path("", views.sector_planner, name="planner"),
]
