from django.contrib import admin

from gis_core.admin import MapAdmin
from orders.models import WorkOrder


@admin.register(WorkOrder)
class WorkOrderAdmin(MapAdmin):
    """Read-mostly: orders are created and cancelled through orders.services (API, census)."""

    list_display = ("number", "kind", "status", "source", "source_ref", "created_at")
    list_filter = ("kind", "status", "source")
    search_fields = ("number", "source_ref", "reason")
    raw_id_fields = ("parcel", "account", "created_by", "cancelled_by")
    readonly_fields = (
        "number",
        "status",
        "source",
        "source_ref",
        "created_at",
        "created_by",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
    )
    show_full_result_count = False

    def has_add_permission(self, request):
        # Numbers come from a sequence and idempotency keys from the service: no admin adds.
        return False
