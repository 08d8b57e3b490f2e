"""The work-order catalogue a utility starts with (used by migration 0004; Django's loader
skips modules starting with "_"). Labels here are the English defaults; the app shows the
translated labels of these codes (orders.models.WorkOrderKind)."""

MATERIALS = [
    ("MED-13", "Medidor 13 mm", "pza"),
    ("VAL-13", "Válvula de paso 13 mm", "pza"),
    ("NIP-13", "Niple 13 mm", "pza"),
    ("COD-13", "Codo 13 mm", "pza"),
    ("TUB-PE-13", "Tubo de polietileno 13 mm", "m"),
    ("ABR-13", "Abrazadera 13 mm", "pza"),
    ("TAP-13", "Tapón limitador 13 mm", "pza"),
    ("CEM", "Cemento", "kg"),
]
# code, label, skill, priority, SLA hours, working hours only, required data, photos, materials
TYPES = [
    ("inspection", "Inspection", "inspection", "normal", 72, True, ["note"], 1, []),
    (
        "meter_install",
        "Meter installation",
        "meters",
        "normal",
        72,
        True,
        ["meter_serial", "meter_reading", "materials"],
        1,
        ["MED-13", "VAL-13", "NIP-13"],
    ),
    (
        "meter_replace",
        "Meter replacement",
        "meters",
        "normal",
        72,
        True,
        ["meter_serial", "meter_reading"],
        2,
        ["MED-13"],
    ),
    (
        "suspension",
        "Service suspension",
        "cuts",
        "normal",
        48,
        True,
        ["meter_reading"],
        1,
        ["TAP-13"],
    ),
    ("reconnection", "Reconnection", "cuts", "high", 24, True, ["meter_reading"], 1, []),
    (
        "leak_repair",
        "Leak repair",
        "plumbing",
        "urgent",
        8,
        False,
        ["materials", "note"],
        2,
        ["TUB-PE-13", "COD-13", "ABR-13", "CEM"],
    ),
    (
        "new_connection",
        "New connection",
        "plumbing",
        "normal",
        120,
        True,
        ["materials", "signature"],
        2,
        ["TUB-PE-13", "ABR-13", "VAL-13", "NIP-13"],
    ),
    ("sewer_unblock", "Sewer unblocking", "sewer", "high", 24, False, ["note"], 1, []),
    ("reading_check", "Reading check", "meters", "normal", 48, True, ["meter_reading"], 1, []),
]
RESULTS = [
    ("done", "Work done", True),
    ("no_access", "No access to the property", False),
    ("refused", "Customer refused the work", False),
    ("missing_materials", "Materials missing", False),
    ("not_found", "Address or connection not found", False),
]


def seed_catalogue(apps, schema_editor):
    material = apps.get_model("orders", "Material")
    order_type = apps.get_model("orders", "WorkOrderType")
    result = apps.get_model("orders", "ResultCode")
    for code, name, unit in MATERIALS:
        material.objects.get_or_create(code=code, defaults={"name": name, "unit": unit})
    for code, label, skill, priority, hours, working, required, photos, materials in TYPES:
        row, _created = order_type.objects.get_or_create(
            code=code,
            defaults={
                "label": label,
                "skill": skill,
                "priority": priority,
                "sla_hours": hours,
                "sla_working_hours": working,
                "required_fields": required,
                "photos_required": photos,
            },
        )
        row.materials.add(*material.objects.filter(code__in=materials))
    for code, label, success in RESULTS:
        result.objects.get_or_create(code=code, defaults={"label": label, "success": success})
