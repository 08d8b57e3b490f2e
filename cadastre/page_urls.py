"""Cadastre pages (the map editor) under /cadastre/."""

app_name = "cadastre-pages"
urlpatterns = []
