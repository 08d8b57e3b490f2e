"""OGC API - Features (mounted at /ogc/). Paths follow the standard; a trailing slash is
tolerated on each, since clients differ in how they join the landing page URL with them."""

from django.urls import path, re_path

from gis_core import ogc_views

COLLECTION = r"(?P<collection_id>[A-Za-z0-9_.-]+)"

urlpatterns = [
    path("", ogc_views.landing, name="ogc-landing"),
    re_path(r"^api/?$", ogc_views.api, name="ogc-api"),
    re_path(r"^conformance/?$", ogc_views.conformance, name="ogc-conformance"),
    re_path(r"^collections/?$", ogc_views.collections, name="ogc-collections"),
    re_path(rf"^collections/{COLLECTION}/?$", ogc_views.collection, name="ogc-collection"),
    re_path(rf"^collections/{COLLECTION}/items/?$", ogc_views.items, name="ogc-items"),
    re_path(
        rf"^collections/{COLLECTION}/items/(?P<feature_id>[^/]+)/?$",
        ogc_views.item,
        name="ogc-item",
    ),
]
