from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("Caudal administration")
admin.site.site_title = "Caudal"
admin.site.index_title = _("Catalogues and users")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only (readings, bills, ledger entries…): the admin shows them
    and never changes them, and does not count a million-row table on every page."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
