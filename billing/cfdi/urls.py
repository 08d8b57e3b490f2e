"""CFDI endpoints; the project mounts them under /api/cfdi/."""

from django.urls import path

from billing.cfdi import api

app_name = "cfdi"
urlpatterns = [
    path("cfdi/", api.CfdiListApi.as_view(), name="cfdi-list"),
    path("cfdi/<int:pk>/", api.CfdiDetailApi.as_view(), name="cfdi-detail"),
    path("cfdi/<int:pk>/xml/", api.CfdiXmlApi.as_view(), name="cfdi-xml"),
    path("cfdi/<int:pk>/cancel/", api.CfdiCancelApi.as_view(), name="cfdi-cancel"),
    path(
        "cfdi/<int:pk>/cancel/refresh/",
        api.CfdiCancelRefreshApi.as_view(),
        name="cfdi-cancel-refresh",
    ),
    path("bills/<int:pk>/invoice/", api.BillInvoiceApi.as_view(), name="bill-invoice"),
    path(
        "payments/<int:pk>/complement/",
        api.PaymentComplementApi.as_view(),
        name="payment-complement",
    ),
    path("payments/<int:pk>/invoice/", api.PaymentInvoiceApi.as_view(), name="payment-invoice"),
    path("global/", api.GlobalInvoiceApi.as_view(), name="global-invoice"),
]
