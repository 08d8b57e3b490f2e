"""Work order endpoints under /api/orders/."""

from django.urls import path

from orders.api import WorkOrderCancelApi, WorkOrderDetailApi, WorkOrderListApi

app_name = "orders"
urlpatterns = [
    path("", WorkOrderListApi.as_view(), name="work-order-list"),
    path("<int:pk>/", WorkOrderDetailApi.as_view(), name="work-order-detail"),
    path("<int:pk>/cancel/", WorkOrderCancelApi.as_view(), name="work-order-cancel"),
]
