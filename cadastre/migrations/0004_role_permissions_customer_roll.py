from django.db import migrations


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    for role in (roles.CADASTRE_EDITOR, roles.ADMIN):
        roles.grant(apps, role, app_label="cadastre", actions=edit)
    for role in sorted(set(roles.ROLES) - {roles.CADASTRE_EDITOR, roles.ADMIN}):
        roles.grant(apps, role, app_label="cadastre", actions=("view",))
    roles.grant(apps, roles.ADMIN, app_label="metering", actions=edit)
    for role in sorted(set(roles.ROLES) - {roles.ADMIN}):
        roles.grant(apps, role, app_label="metering", actions=("view",))


class Migration(migrations.Migration):
    """Permissions on the customer roll (owners, customers, accounts, census) and meters."""

    dependencies = [
        ("cadastre", "0003_customer_roll"),
        ("metering", "0001_initial"),
        ("core", "0001_roles"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
