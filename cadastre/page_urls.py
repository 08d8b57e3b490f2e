"""Cadastre pages (the map editor) under /cadastre/."""

from django.urls import path

from cadastre import views

app_name = "cadastre-pages"
urlpatterns = [
    path("editor/", views.parcel_editor, name="editor"),
]
