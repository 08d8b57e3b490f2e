"""Work order endpoints under /api/orders/."""

from django.urls import path

from orders import desk_api
from orders.api import (
    AttachmentFileApi,
    CrewDayApi,
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
    path("crews/<str:code>/day/", CrewDayApi.as_view(), name="crew-day"),
    path("performance/", PerformanceApi.as_view(), name="performance"),
    path("<int:pk>/", WorkOrderDetailApi.as_view(), name="work-order-detail"),
    path("<int:pk>/assign/", WorkOrderAssignApi.as_view(), name="work-order-assign"),
    path("<int:pk>/cancel/", WorkOrderCancelApi.as_view(), name="work-order-cancel"),
    path("attachments/<int:pk>/", AttachmentFileApi.as_view(), name="attachment-file"),
    # The service desk.
    path("tickets/", desk_api.TicketListApi.as_view(), name="tickets"),
    path("tickets/<int:pk>/", desk_api.TicketDetailApi.as_view(), name="ticket-detail"),
    path(
        "tickets/<int:pk>/feasibility-letter/",
        desk_api.FeasibilityLetterApi.as_view(),
        name="ticket-feasibility-letter",
    ),
    path(
        "tickets/<int:pk>/<slug:action>/",
        desk_api.TicketActionApi.as_view(),
        name="ticket-action",
    ),
    path("contracts/", desk_api.ContractApi.as_view(), name="contract-open"),
    path(
        "accounts/<int:pk>/overview/",
        desk_api.AccountOverviewApi.as_view(),
        name="account-overview",
    ),
    path(
        "customers/<int:pk>/overview/",
        desk_api.CustomerOverviewApi.as_view(),
        name="customer-overview",
    ),
]
