from django.db import migrations


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    editors = (roles.ADMIN, roles.CUSTOMER_SERVICE, roles.FIELD_CREW)
    for role in editors:
        roles.grant(apps, role, app_label="orders", actions=edit)
    for role in sorted(set(roles.ROLES) - set(editors)):
        roles.grant(apps, role, app_label="orders", actions=("view",))
    # Cadastre editors turn reconciliation findings into inspection requests: they create
    # orders, they do not manage them.
    roles.grant(apps, roles.CADASTRE_EDITOR, app_label="orders", codenames=["add_workorder"])
    # Field crews record census visits (the rest of the cadastre they only read).
    # This belongs with the census models' grants in cadastre; it lives here so that issue 3's
    # census could ship without editing cadastre's migrations. Idempotent either way.
    roles.grant(apps, roles.FIELD_CREW, app_label="cadastre", codenames=["add_censusvisit"])


class Migration(migrations.Migration):
    """Permissions on work orders; field crews may record census visits."""

    dependencies = [
        ("orders", "0001_initial"),
        ("cadastre", "0004_role_permissions_customer_roll"),
        ("core", "0001_roles"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
