"""Parcel editing endpoints (create, reshape, split, merge, attributes) under /api/cadastre/edit/."""

from django.urls import path

from cadastre.edit_api import (
    BlockListApi,
    ParcelAttributesApi,
    ParcelListCreateApi,
    ParcelMergeApi,
    ParcelReshapeApi,
    ParcelSplitApi,
)

urlpatterns = [
    path("parcels/", ParcelListCreateApi.as_view(), name="edit-parcels"),
    path("parcels/merge/", ParcelMergeApi.as_view(), name="edit-parcel-merge"),
    path("parcels/<int:pk>/reshape/", ParcelReshapeApi.as_view(), name="edit-parcel-reshape"),
    path("parcels/<int:pk>/split/", ParcelSplitApi.as_view(), name="edit-parcel-split"),
    path(
        "parcels/<int:pk>/attributes/", ParcelAttributesApi.as_view(), name="edit-parcel-attributes"
    ),
    path("blocks/", BlockListApi.as_view(), name="edit-blocks"),
]
