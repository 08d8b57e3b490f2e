"""Payments endpoints; the project mounts them under /api/payments/ (see billing.payments.api)."""

from django.urls import path

from billing.payments import api

app_name = "payments"
urlpatterns = [
    path("online/", api.OnlinePaymentApi.as_view(), name="online"),
    path("online/<int:pk>/", api.OnlinePaymentDetailApi.as_view(), name="online-detail"),
    path("session/", api.CashSessionApi.as_view(), name="session"),
    path("session/close/", api.CashSessionCloseApi.as_view(), name="session-close"),
    path("accounts/", api.AccountLookupApi.as_view(), name="account-lookup"),
    path("cashier/", api.CashierPaymentApi.as_view(), name="cashier-payment"),
    path("bank-files/", api.BankFileApi.as_view(), name="bank-files"),
    path("kiosk/lookup/", api.KioskLookupApi.as_view(), name="kiosk-lookup"),
    path("kiosk/pay/", api.KioskPayApi.as_view(), name="kiosk-pay"),
    path("<int:pk>/", api.PaymentDetailApi.as_view(), name="detail"),
    path("<int:pk>/reverse/", api.PaymentReverseApi.as_view(), name="reverse"),
]
