"""Admin pages of billing. Tariffs, calendar and hold policies are edited here; runs, bills and
the ledger are read-only (they change only through ``billing.services``: a run, a release, a
correction, a reversal)."""

from django.contrib import admin

from billing.models import (
    AccountDiscount,
    Bill,
    BillingCalendar,
    BillingCycle,
    BillingRun,
    BillLine,
    HoldPolicy,
    LedgerEntry,
    Tariff,
    TariffBlock,
    TariffDiscount,
    TariffSet,
)
from core.admin import ReadOnlyAdmin


class TariffInline(admin.StackedInline):
    model = Tariff
    extra = 0


class TariffDiscountInline(admin.TabularInline):
    model = TariffDiscount
    extra = 0


@admin.register(TariffSet)
class TariffSetAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "valid_from", "valid_to", "status")
    list_filter = ("status",)
    search_fields = ("code", "name")
    inlines = [TariffInline, TariffDiscountInline]


class TariffBlockInline(admin.TabularInline):
    model = TariffBlock
    extra = 0


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("tariff_set", "use_type", "zone", "fixed_charge", "block_method", "flat_rate")
    list_filter = ("tariff_set", "use_type")
    inlines = [TariffBlockInline]


@admin.register(AccountDiscount)
class AccountDiscountAdmin(admin.ModelAdmin):
    list_display = ("account", "code", "valid_from", "valid_to")
    raw_id_fields = ("account",)
    search_fields = ("account__number", "code")


@admin.register(BillingCycle)
class BillingCycleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "months")
    filter_horizontal = ("areas",)


@admin.register(BillingCalendar)
class BillingCalendarAdmin(admin.ModelAdmin):
    list_display = (
        "cycle",
        "period",
        "reading_from",
        "reading_to",
        "billing_date",
        "due_date",
        "cutoff_date",
    )
    list_filter = ("cycle",)


@admin.register(HoldPolicy)
class HoldPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "use_type",
        "amount_cap",
        "history_factor",
        "history_min_m3",
        "estimated_in_row",
    )


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "cycle",
        "period",
        "status",
        "done_accounts",
        "total_accounts",
        "bills_issued",
        "bills_held",
        "amount_issued",
    )
    list_filter = ("status", "cycle")
    list_select_related = ("cycle", "period")


class BillLineInline(admin.TabularInline):
    model = BillLine
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Bill)
class BillAdmin(ReadOnlyAdmin):
    list_display = ("pk", "account", "period", "status", "hold_reason", "total", "due_date")
    list_filter = ("status", "hold_reason", "use_type")
    list_select_related = ("account", "period")
    search_fields = ("account__number", "payment_reference")
    raw_id_fields = ("account",)
    inlines = [BillLineInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "account",
        "document_type",
        "document_id",
        "concept",
        "amount",
        "posted_at",
    )
    list_filter = ("concept", "document_type")
    list_select_related = ("account",)
    search_fields = ("account__number",)
    raw_id_fields = ("account",)
