"""Admin pages of payments. Payment clients (the online API's HMAC keys) are managed here;
payments, sessions and bank files are read-only (they change only through
``billing.payments.services`` and ``bank_files``)."""

from django.contrib import admin

from billing.payments.models import BankFile, CashSession, Payment, PaymentClient
from core.admin import ReadOnlyAdmin


@admin.register(PaymentClient)
class PaymentClientAdmin(admin.ModelAdmin):
    list_display = ("name", "key_id", "active", "created_at")
    list_filter = ("active",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "account", "amount", "channel", "method", "status", "received_at")
    list_filter = ("channel", "method", "status")
    search_fields = ("account__number", "reference")


@admin.register(CashSession)
class CashSessionAdmin(ReadOnlyAdmin):
    list_display = ("window", "cashier", "opened_at", "status", "expected_cash", "difference")
    list_filter = ("status",)


@admin.register(BankFile)
class BankFileAdmin(ReadOnlyAdmin):
    list_display = ("bank", "file_name", "uploaded_at", "uploaded_by", "lines_total")
    list_filter = ("bank",)
