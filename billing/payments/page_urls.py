"""Payment pages under /pay/: the cashier window, the kiosk, a payment's receipt."""

from django.urls import path

from billing.payments import views

app_name = "payments-pages"
urlpatterns = [
    path("cashier/", views.cashier_page, name="cashier"),
    path("kiosk/", views.kiosk_page, name="kiosk"),
    path("receipt/<int:pk>/", views.receipt_page, name="receipt"),
]
