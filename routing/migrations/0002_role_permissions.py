"""Planners (and admins) run, edit and publish route plans; managers and auditors read them."""

from django.db import migrations


def grant_routing(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.PLANNER, app_label="routing", actions=edit)
    roles.grant(apps, roles.ADMIN, app_label="routing", actions=edit)
    for role in (roles.MANAGER, roles.AUDITOR):
        roles.grant(apps, role, app_label="routing", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_routing, migrations.RunPython.noop)]
