from django.contrib import admin

from billing.cfdi.models import UnrecordedStamp
from core.admin import ReadOnlyAdmin


@admin.register(UnrecordedStamp)
class UnrecordedStampAdmin(ReadOnlyAdmin):
    """Where the administrator finds what ``not_recorded`` told the clerk to report: the UUID,
    serie and folio, and the stamped XML to record or cancel at SAT."""

    list_display = ("created_at", "serie", "folio", "uuid", "kind", "total", "issuer_rfc")
    list_filter = ("kind", "serie")
    search_fields = ("uuid", "folio")
    readonly_fields = [f.name for f in UnrecordedStamp._meta.fields]
