"""Admin pages of sectorization: look, search and read the history; change through the API.

Boundaries, codes and hierarchy are read-only here: a change must go through
``sectors.services`` (sibling and parent rules, the accounts it moves, its preview), which the
admin's plain save would bypass. Names are the one thing that may be edited here.
"""

from django.contrib import admin
from django.db.models import F

from gis_core.admin import MapAdmin
from sectors.models import AccountSectors, CommercialArea, Dma, TariffZone


class _AreaAdmin(MapAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    readonly_fields = ("code",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        # The map widget stays visible but read-only: boundaries change through the services.
        return (*self.readonly_fields, "geom")


@admin.register(CommercialArea)
class CommercialAreaAdmin(_AreaAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    list_select_related = ("parent",)
    readonly_fields = ("code", "level", "parent", "parent_level")


@admin.register(Dma)
class DmaAdmin(_AreaAdmin):
    pass


@admin.register(TariffZone)
class TariffZoneAdmin(_AreaAdmin):
    pass


@admin.register(AccountSectors)
class AccountSectorsAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "zone_code",
        "sector_code",
        "book_code",
        "dma_code",
        "tariff_zone_code",
        "assigned_at",
    )
    list_select_related = ("account",)
    search_fields = ("account__number",)
    show_full_result_count = False  # a million accounts

    def get_queryset(self, request):
        # Codes only: selecting the related areas would fetch their whole boundaries per row.
        return (
            super()
            .get_queryset(request)
            .annotate(**{f"{f}_code_value": F(f"{f}__code") for f in FIELDS})
        )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


FIELDS = ("zone", "sector", "book", "dma", "tariff_zone")


def _code_column(field):
    def column(self, obj):
        return getattr(obj, f"{field}_code_value", None) or "—"

    column.short_description = AccountSectors._meta.get_field(field).verbose_name
    column.admin_order_field = f"{field}__code"
    return column


for _field in FIELDS:
    setattr(AccountSectorsAdmin, f"{_field}_code", _code_column(_field))
