"""Admin pages of the water network: network editors (planners, administrators) edit assets
on the map; the graph is derived (read-only, not listed) and outages are written only by
``network.services.outage_create`` (read-only here)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from gis_core.admin import MapAdmin
from network.models import (
    Hydrant,
    Junction,
    Manhole,
    Outage,
    OutageAccount,
    OutageNotice,
    Pipe,
    Pump,
    ServiceConnection,
    SewerPipe,
    Source,
    Tank,
    Valve,
)


@admin.register(Pipe)
class PipeAdmin(MapAdmin):
    list_display = ("code", "material", "diameter_mm", "install_year", "status", "length_m")
    list_filter = ("material", "status")
    search_fields = ("code",)
    readonly_fields = ("length_m",)


@admin.register(SewerPipe)
class SewerPipeAdmin(PipeAdmin):
    list_display = ("code", "material", "diameter_mm", "status", "length_m")


@admin.register(Valve)
class ValveAdmin(MapAdmin):
    list_display = ("code", "normal_status", "current_status", "operable", "status")
    list_filter = ("normal_status", "current_status", "operable", "status")
    search_fields = ("code",)


for _model in (Hydrant, Tank, Pump, Source, Junction, Manhole):
    admin.site.register(
        _model,
        type(
            f"{_model.__name__}Admin",
            (MapAdmin,),
            {"list_display": ("code", "status"), "search_fields": ("code",)},
        ),
    )


@admin.register(ServiceConnection)
class ServiceConnectionAdmin(MapAdmin):
    list_display = ("account", "pipe")
    search_fields = ("account__number", "pipe__code")
    raw_id_fields = ("account", "pipe")


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdmin, MapAdmin):
    list_display = ("id", "pipe", "status", "started_at", "expected_end", "work_order")
    list_filter = ("status",)


@admin.register(OutageAccount)
class OutageAccountAdmin(ReadOnlyAdmin):
    list_display = ("outage", "account")
    raw_id_fields = ("outage", "account")


@admin.register(OutageNotice)
class OutageNoticeAdmin(ReadOnlyAdmin):
    list_display = ("outage", "account", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("outage", "account")
