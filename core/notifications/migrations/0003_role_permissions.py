"""Customer service, billing clerks and collectors read the notices of their customers and
the templates; managers and administrators also edit templates and send failed notices again;
the readers of all read all."""

from django.db import migrations

VIEW = ["view_notice", "view_messagetemplate"]
EDIT = [*VIEW, "change_notice", "change_messagetemplate", "add_messagetemplate"]


def grant_notifications(apps, schema_editor):
    from core import roles

    for role in (roles.CUSTOMER_SERVICE, roles.BILLING_CLERK, roles.COLLECTOR):
        roles.grant(apps, role, app_label="notifications", codenames=VIEW)
    for role in (roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="notifications", codenames=EDIT)
    for role in roles.READ_ALL_ROLES:
        roles.grant(apps, role, app_label="notifications", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_seed_templates"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_notifications, migrations.RunPython.noop)]
