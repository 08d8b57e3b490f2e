"""Metering in the admin. Readings, files, meter changes and consumption are written by the
services only (sync, files, review, meter_change, consumption_compute): here they are read-only.
Catalogs, rules, periods and assignments are edited here; rule parameters are checked."""

from django import forms
from django.contrib import admin

from core.admin import ReadOnlyAdmin
from metering.models import (
    AccountConsumption,
    IngestBatch,
    Meter,
    MeterChange,
    ObservationCode,
    Reading,
    ReadingAssignment,
    ReadingPeriod,
    ValidationRule,
)
from metering.validation import RuleParamsError, rule_params_clean


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = (
        "serial",
        "brand",
        "model",
        "diameter_mm",
        "technology",
        "dials",
        "account",
        "status",
    )
    list_filter = ("status", "technology", "brand", "diameter_mm", "dials")
    search_fields = ("serial", "account__number")
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    show_full_result_count = False


@admin.register(ReadingPeriod)
class ReadingPeriodAdmin(admin.ModelAdmin):
    list_display = ("code", "cycle", "starts_on", "ends_on", "status")
    list_filter = ("status", "cycle")
    search_fields = ("code",)


@admin.register(ReadingAssignment)
class ReadingAssignmentAdmin(admin.ModelAdmin):
    list_display = ("period", "book", "reader", "scheduled_on")
    list_filter = ("period__code", "scheduled_on")
    raw_id_fields = ("book", "reader", "period")
    list_select_related = ("period", "book", "reader")


@admin.register(ObservationCode)
class ObservationCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "value_allowed", "requires_photo", "needs_review", "active")
    list_editable = ("active",)


class ValidationRuleForm(forms.ModelForm):
    class Meta:
        model = ValidationRule
        fields = ("code", "enabled", "params")

    def clean(self):
        data = super().clean()
        code = data.get("code") or (self.instance.code if self.instance else None)
        try:
            data["params"] = rule_params_clean(code, data.get("params") or {})
        except RuleParamsError as error:
            raise forms.ValidationError({"params": str(error)}) from error
        return data


@admin.register(ValidationRule)
class ValidationRuleAdmin(admin.ModelAdmin):
    form = ValidationRuleForm
    list_display = ("code", "enabled", "params")
    list_editable = ("enabled",)


@admin.register(Reading)
class ReadingAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "meter",
        "account",
        "period",
        "kind",
        "value",
        "consumption",
        "status",
        "flags",
        "captured_at",
    )
    list_filter = ("status", "kind", "source")
    search_fields = ("meter__serial", "account__number", "client_id")
    list_select_related = ("meter", "account", "period")
    raw_id_fields = ("meter", "account", "period", "batch", "reader", "reviewed_by", "work_order")


@admin.register(IngestBatch)
class IngestBatchAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "period_code", "created_at", "rows", "accepted", "rejected")


@admin.register(MeterChange)
class MeterChangeAdmin(ReadOnlyAdmin):
    list_display = ("account", "removed_meter", "installed_meter", "changed_at")
    raw_id_fields = (
        "account",
        "removed_meter",
        "installed_meter",
        "removal_reading",
        "installation_reading",
    )


@admin.register(AccountConsumption)
class AccountConsumptionAdmin(ReadOnlyAdmin):
    list_display = ("account", "period", "volume_m3", "method", "basis_count")
    list_filter = ("method",)
    raw_id_fields = ("account", "period")
