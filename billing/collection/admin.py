from django.contrib import admin

from billing.collection.models import (
    AccountCollectionType,
    CollectionAction,
    CollectionPolicy,
    CollectionTypeChange,
    CollectorAssignment,
    LargeConsumer,
)


@admin.register(CollectionPolicy)
class CollectionPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "segment",
        "collection_type",
        "use_type",
        "step",
        "action",
        "min_periods",
        "min_days",
        "min_debt",
        "deadline_days",
        "active",
    )
    list_filter = ("segment", "collection_type", "active")


@admin.register(CollectionAction)
class CollectionActionAdmin(admin.ModelAdmin):
    list_display = ("account", "kind", "step", "status", "day", "deadline", "amount_owed")
    list_filter = ("kind", "status", "day")
    raw_id_fields = ("account", "episode", "rule", "parent", "work_order", "assigned_to")
    # Actions are written by the services (evaluation, payments, cancel); read-only here.
    readonly_fields = [f.name for f in CollectionAction._meta.fields]


@admin.register(LargeConsumer)
class LargeConsumerAdmin(admin.ModelAdmin):
    list_display = ("account", "executive", "basis", "since")
    raw_id_fields = ("account", "executive")


@admin.register(CollectorAssignment)
class CollectorAssignmentAdmin(admin.ModelAdmin):
    list_display = ("collector", "account", "sector", "assigned_at")
    raw_id_fields = ("account", "sector", "collector")


@admin.register(AccountCollectionType)
class AccountCollectionTypeAdmin(admin.ModelAdmin):
    list_display = ("account", "collection_type", "changed_at")
    raw_id_fields = ("account", "changed_by")


@admin.register(CollectionTypeChange)
class CollectionTypeChangeAdmin(admin.ModelAdmin):
    list_display = ("account", "from_type", "to_type", "decided_by", "decided_at")
    list_filter = ("to_type",)
    raw_id_fields = ("account", "episode", "decided_by", "action")
    # The log is written by collection_type_change; read-only here.
    readonly_fields = [f.name for f in CollectionTypeChange._meta.fields]
