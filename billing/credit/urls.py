"""Credit control and the collection log; the project mounts them under /api/credit/."""

from django.urls import path

from billing.credit import api

app_name = "credit"
urlpatterns = [
    path("check/", api.CreditCheckApi.as_view(), name="check"),
    path("checks/<int:pk>/authorize/", api.CreditAuthorizeApi.as_view(), name="authorize"),
    path("contacts/", api.CreditContactListApi.as_view(), name="contacts"),
    path("worklist/", api.CreditWorklistApi.as_view(), name="worklist"),
    path("route/", api.CreditRouteApi.as_view(), name="route"),
    path("escalations/", api.CreditEscalationListApi.as_view(), name="escalations"),
]
