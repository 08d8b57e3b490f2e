"""Planners (and admins) draw and apply sectors, districts and tariff zones; every role reads."""

from django.db import migrations


def grant_sectors(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.PLANNER, app_label="sectors", actions=edit)
    roles.grant(apps, roles.ADMIN, app_label="sectors", actions=edit)
    for role in roles.ROLES:
        if role not in (roles.PLANNER, roles.ADMIN):
            roles.grant(apps, role, app_label="sectors", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [("sectors", "0002_area_rules_and_pieces"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_sectors, migrations.RunPython.noop)]
