"""Layer import/export under /api/cadastre/ (included by cadastre/urls.py)."""

from django.urls import path

from cadastre.import_api import LayerExportApi, LayerImportApi

urlpatterns = [
    path("import/<str:layer>/", LayerImportApi.as_view(), name="layer-import"),
    path("export/<str:layer>.<str:fmt>", LayerExportApi.as_view(), name="layer-export"),
]
