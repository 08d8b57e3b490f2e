"""The meter readers' field app, mounted once: ``path("field/", include("metering.field_urls"))``.

Pages and API share the prefix so that everything the app needs lies inside the service
worker's scope (/field/) and one include mounts it.
"""

from django.urls import include, path

from metering import field_api, field_views
from orders import field_views as orders_field_views

app_name = "field"

urlpatterns = [
    path("", field_views.field_app, name="app"),
    path("orders/", orders_field_views.field_orders_page, name="orders"),
    path("manifest.webmanifest", field_views.manifest, name="manifest"),
    path("sw.js", field_views.service_worker, name="service-worker"),
    path("api/work/", field_api.FieldWorkApi.as_view(), name="api-work"),
    path("api/sync/", field_api.FieldSyncApi.as_view(), name="api-sync"),
    path("api/photo/", field_api.FieldPhotoApi.as_view(), name="api-photo"),
    # Crews close their work orders in the same app (orders/field_api.py).
    path("api/orders/", include("orders.field_urls")),
]
