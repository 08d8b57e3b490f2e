"""Observation codes and validation rules as shipped; who may do what with readings.

Meter readers capture readings and see their routes, never other readings (they would show
the expected value): they get ``add_reading`` and no ``view_reading``. Billing clerks review
readings and load reading files; planners assign books to readers; field crews change meters.
"""

from django.db import migrations

# code, label, value_allowed, requires_photo, needs_review, order. Labels are translated on
# output through the catalog's gettext ("observation codes" in scripts/es_mx/metering.py).
OBSERVATIONS = [
    ("no_access", "No access", False, False, False, 10),
    ("house_closed", "House closed", False, False, False, 20),
    ("dog", "Dog", False, False, False, 30),
    ("meter_not_found", "Meter not found", False, True, True, 40),
    ("illegible", "Illegible dials", False, True, True, 50),
    ("broken_meter", "Broken meter", False, True, True, 60),
    ("leak", "Leak", True, True, True, 70),
    ("tampered", "Tampered meter", True, True, True, 80),
    ("buried", "Meter box buried or flooded", False, False, False, 90),
]

# The defaults of metering.validation.RULE_PARAMS at the time of this migration.
RULES = {
    "below_previous": {"rollover_max_fraction": 0.1},
    "zero_consumption": {"periods": 3},
    "high_consumption": {
        "history_readings": 6,
        "min_history": 3,
        "percent": 100,
        "min_excess_m3": 10,
    },
    "gps_far": {"max_distance_m": 50, "max_accuracy_m": 50},
    "photo_missing": {"always": False},
    "conflict": {},
    "observation": {},
}

READER_VIEW = ["view_meter", "view_readingperiod", "view_readingassignment", "view_observationcode"]
# Models whose rows show readings or consumption: never for meter readers.
HIDDEN_FROM_READERS = [
    "view_reading",
    "view_accountconsumption",
    "view_meterchange",
    "view_ingestbatch",
    "view_ingestrejection",
    "view_validationrule",
]


def seed(apps, schema_editor):
    observation = apps.get_model("metering", "ObservationCode")
    for code, label, value_allowed, photo, review, order in OBSERVATIONS:
        observation.objects.get_or_create(
            code=code,
            defaults=dict(
                label=label,
                value_allowed=value_allowed,
                requires_photo=photo,
                needs_review=review,
                sort_order=order,
            ),
        )
    rule = apps.get_model("metering", "ValidationRule")
    for code, params in RULES.items():
        rule.objects.get_or_create(code=code, defaults={"params": params})


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.ADMIN, app_label="metering", actions=edit)
    for role in sorted(set(roles.ROLES) - {roles.ADMIN, roles.METER_READER}):
        roles.grant(apps, role, app_label="metering", actions=("view",))
    roles.grant(
        apps,
        roles.BILLING_CLERK,
        app_label="metering",
        codenames=[
            "change_reading",
            "add_ingestbatch",
            "add_readingperiod",
            "change_readingperiod",
        ],
    )
    roles.grant(
        apps,
        roles.PLANNER,
        app_label="metering",
        codenames=["add_readingassignment", "change_readingassignment", "delete_readingassignment"],
    )
    roles.grant(
        apps, roles.FIELD_CREW, app_label="metering", codenames=["add_meterchange", "change_meter"]
    )
    roles.grant(
        apps, roles.METER_READER, app_label="metering", codenames=[*READER_VIEW, "add_reading"]
    )
    # cadastre 0004 granted "view" on every metering model it knew of to every role; depending
    # on migration order that may have included these. Take them back from readers.
    group = apps.get_model("auth", "Group").objects.get(name=roles.METER_READER)
    permission = apps.get_model("auth", "Permission")
    group.permissions.remove(
        *permission.objects.filter(
            content_type__app_label="metering", codename__in=HIDDEN_FROM_READERS
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0002_readings"),
        ("cadastre", "0004_role_permissions_customer_roll"),
        ("core", "0001_roles"),
    ]
    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
