"""Who may record macrometer readings and recompute the water balance; the new layer tables
bump their tile-cache generation on every write (tiles.invalidation)."""

from django.db import migrations

from tiles.invalidation import track_tables


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.ADMIN, app_label="metering", actions=edit)
    # Office roles see the balance (cadastre 0004 / metering 0003 granted "view" on the models
    # they knew of); meter readers keep seeing only their own work.
    office = sorted(set(roles.ROLES) - {roles.ADMIN, roles.METER_READER})
    view = [
        "view_macrometer",
        "view_macrometerreading",
        "view_macrometerimport",
        "view_waterbalance",
    ]
    for role in office:
        roles.grant(apps, role, app_label="metering", codenames=view)
    # Planners run the districts: they load macrometer readings and recompute balances.
    roles.grant(
        apps,
        roles.PLANNER,
        app_label="metering",
        codenames=[
            "add_macrometer",
            "change_macrometer",
            "add_macrometerreading",
            "add_macrometerimport",
            "add_waterbalance",
            "change_waterbalance",
        ],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0010_macrometers_water_balance"),
        ("core", "0001_roles"),
        ("tiles", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        track_tables("metering_macrometer", "metering_waterbalance"),
    ]
