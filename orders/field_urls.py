"""The crews' field endpoints, included by the field app under /field/api/orders/."""

from django.urls import path

from orders import field_api

urlpatterns = [
    path("", field_api.FieldOrdersApi.as_view(), name="api-orders"),
    path("sync/", field_api.FieldOrderSyncApi.as_view(), name="api-orders-sync"),
    path("attachment/", field_api.FieldAttachmentApi.as_view(), name="api-orders-attachment"),
]
