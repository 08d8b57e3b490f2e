from django.contrib import admin

from routing.models import OptimizationRun


@admin.register(OptimizationRun)
class OptimizationRunAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "progress", "book", "created_by", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = ("params", "result", "started_at", "finished_at", "published_at")
