"""The catalogues managers edit (reasons, approval rules); adjustments and agreements are read
here and changed only through the services (their rows move money)."""

from django.contrib import admin

from billing.agreements.models import (
    Adjustment,
    AdjustmentReason,
    Agreement,
    AgreementInstallment,
    ApprovalRule,
)


@admin.register(AdjustmentReason)
class AdjustmentReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "kind", "active"]
    list_filter = ["kind", "active"]


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(admin.ModelAdmin):
    list_display = ["role", "kind", "amount_up_to"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "account", "kind", "amount", "reason", "status", "requested_by"]
    list_filter = ["status", "kind", "reason"]


class InstallmentInline(admin.TabularInline):
    model = AgreementInstallment
    fields = ["number", "due_date", "principal", "interest"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["pk", "account", "debt", "installments", "status", "signed_by", "signed_at"]
    list_filter = ["status"]
    inlines = [InstallmentInline]
