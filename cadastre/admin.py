from django.contrib import admin

from cadastre.models import Block, Locality, Parcel, StreetSegment
from gis_core.admin import MapAdmin


@admin.register(Locality)
class LocalityAdmin(MapAdmin):
    list_display = ("code", "name", "kind", "postal_code")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(StreetSegment)
class StreetSegmentAdmin(MapAdmin):
    list_display = ("id", "name", "street_class")
    list_filter = ("street_class",)
    search_fields = ("name",)


@admin.register(Block)
class BlockAdmin(MapAdmin):
    list_display = ("id", "locality", "code")
    search_fields = ("code", "locality__name")
    list_select_related = ("locality",)
    raw_id_fields = ("locality",)


@admin.register(Parcel)
class ParcelAdmin(MapAdmin):
    list_display = ("cadastral_key", "land_use", "address", "land_area_m2")
    list_filter = ("land_use",)
    search_fields = ("cadastral_key", "address")
    raw_id_fields = ("block",)
    readonly_fields = ("land_area_m2",)
    show_full_result_count = False  # COUNT(*) over a million parcels on every page is waste
