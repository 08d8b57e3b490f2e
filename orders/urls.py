"""Work order endpoints under /api/orders/."""

from django.urls import path

from orders.api import (
    CrewListApi,
    PerformanceApi,
    WorkOrderAssignApi,
    WorkOrderCancelApi,
    WorkOrderCreateApi,
    WorkOrderDetailApi,
    WorkOrderListApi,
    WorkOrderTypeListApi,
)

app_name = "orders"
urlpatterns = [
    path("", WorkOrderListApi.as_view(), name="work-order-list"),
    path("new/", WorkOrderCreateApi.as_view(), name="work-order-create"),
    path("types/", WorkOrderTypeListApi.as_view(), name="work-order-types"),
    path("crews/", CrewListApi.as_view(), name="crews"),
    path("performance/", PerformanceApi.as_view(), name="performance"),
    path("<int:pk>/", WorkOrderDetailApi.as_view(), name="work-order-detail"),
    path("<int:pk>/assign/", WorkOrderAssignApi.as_view(), name="work-order-assign"),
    path("<int:pk>/cancel/", WorkOrderCancelApi.as_view(), name="work-order-cancel"),
]
