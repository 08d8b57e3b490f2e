from django.contrib import admin

from metering.models import Meter


@admin.register(Meter)
class MeterAdmin(admin.ModelAdmin):
    list_display = ("serial", "brand", "model", "diameter_mm", "account", "status")
    list_filter = ("status", "brand", "diameter_mm")
    search_fields = ("serial", "account__number")
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    show_full_result_count = False
