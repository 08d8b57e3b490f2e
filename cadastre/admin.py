from django.contrib import admin

from cadastre.models import (
    Block,
    CensusCampaign,
    CensusVisit,
    Customer,
    Locality,
    Owner,
    Ownership,
    Parcel,
    ParcelLineage,
    ServiceAccount,
    StreetSegment,
)
from gis_core.admin import MapAdmin


class OwnershipInline(admin.TabularInline):
    model = Ownership
    extra = 0
    raw_id_fields = ("owner", "parcel")


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
    list_display = ("cadastral_key", "land_use", "status", "address", "land_area_m2")
    list_filter = ("land_use", "status")
    search_fields = ("cadastral_key", "address")
    raw_id_fields = ("block",)
    readonly_fields = ("land_area_m2",)
    inlines = [OwnershipInline]
    show_full_result_count = False  # COUNT(*) over a million parcels on every page is waste


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "rfc", "phone")
    list_filter = ("kind",)
    search_fields = ("name", "first_surname", "second_surname", "rfc")
    inlines = [OwnershipInline]
    show_full_result_count = False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "rfc", "phone", "email")
    list_filter = ("kind",)
    search_fields = ("name", "first_surname", "second_surname", "rfc")
    show_full_result_count = False


@admin.register(ServiceAccount)
class ServiceAccountAdmin(MapAdmin):
    list_display = ("number", "customer", "parcel", "use_type", "status", "billing_cycle")
    list_filter = ("use_type", "status", "billing_cycle")
    search_fields = ("number", "parcel__cadastral_key")
    raw_id_fields = ("customer", "parcel")
    list_select_related = ("customer", "parcel")
    show_full_result_count = False


@admin.register(ParcelLineage)
class ParcelLineageAdmin(admin.ModelAdmin):
    list_display = ("parent", "child", "operation", "created_at", "created_by")
    list_filter = ("operation",)
    raw_id_fields = ("parent", "child")


@admin.register(CensusCampaign)
class CensusCampaignAdmin(MapAdmin):
    list_display = ("name", "starts_on", "ends_on", "status")
    list_filter = ("status",)


@admin.register(CensusVisit)
class CensusVisitAdmin(MapAdmin):
    list_display = ("parcel", "campaign", "visited_at", "land_use_found", "has_connection")
    list_filter = ("campaign", "land_use_found", "has_connection")
    raw_id_fields = ("parcel",)
