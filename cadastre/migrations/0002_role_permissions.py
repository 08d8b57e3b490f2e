from django.db import migrations


def grant_cadastre(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.CADASTRE_EDITOR, app_label="cadastre", actions=edit)
    roles.grant(apps, roles.ADMIN, app_label="cadastre", actions=edit)
    # Everyone who works on the map reads the base cadastre.
    for role in (
        roles.PLANNER,
        roles.FIELD_CREW,
        roles.METER_READER,
        roles.BILLING_CLERK,
        roles.CASHIER,
        roles.COLLECTOR,
        roles.CUSTOMER_SERVICE,
        roles.MANAGER,
        roles.AUDITOR,
    ):
        roles.grant(apps, role, app_label="cadastre", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [("cadastre", "0001_initial"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_cadastre, migrations.RunPython.noop)]
