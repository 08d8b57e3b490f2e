from django.urls import include, path

from cadastre import api

app_name = "cadastre"
urlpatterns = [
    path("localities/", api.LocalityOverviewApi.as_view(), name="locality-overview"),
    path("localities/<int:pk>/", api.LocalityDetailApi.as_view(), name="locality-detail"),
    path("streets/", api.StreetListApi.as_view(), name="street-list"),
    path("streets/<int:pk>/", api.StreetDetailApi.as_view(), name="street-detail"),
    path("blocks/", api.BlockListApi.as_view(), name="block-list"),
    path("blocks/<int:pk>/", api.BlockDetailApi.as_view(), name="block-detail"),
    path("parcels/", api.ParcelListApi.as_view(), name="parcel-list"),
    path("parcels/<int:pk>/", api.ParcelDetailApi.as_view(), name="parcel-detail"),
    path("accounts/", api.ServiceAccountListApi.as_view(), name="account-list"),
    path("accounts/<int:pk>/", api.ServiceAccountDetailApi.as_view(), name="account-detail"),
    path("owners/", api.OwnerListApi.as_view(), name="owner-list"),
    path("owners/<int:pk>/", api.OwnerDetailApi.as_view(), name="owner-detail"),
    path("customers/", api.CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:pk>/", api.CustomerDetailApi.as_view(), name="customer-detail"),
    path("ownerships/", api.OwnershipListApi.as_view(), name="ownership-list"),
    path("ownerships/<int:pk>/", api.OwnershipDetailApi.as_view(), name="ownership-detail"),
    path("search/", api.SearchApi.as_view(), name="search"),
    path("edit/", include("cadastre.edit_urls")),
    path("", include("cadastre.import_urls")),
]
