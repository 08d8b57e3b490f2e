"""Who issues and cancels CFDI: billing clerks and cashiers issue (a customer asks for an invoice
at the counter); billing clerks, managers and admins cancel (a cancellation is a fiscal act);
customer service and the readers of all read them."""

from django.db import migrations


def grant_cfdi(apps, schema_editor):
    from core import roles

    for role in (roles.BILLING_CLERK, roles.CASHIER, roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="cfdi", codenames=["issue_cfdi", "view_cfdi"])
    for role in (roles.BILLING_CLERK, roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="cfdi", codenames=["cancel_cfdi"])
    for role in roles.READ_ALL_ROLES + (roles.CUSTOMER_SERVICE, roles.COLLECTOR):
        roles.grant(apps, role, app_label="cfdi", codenames=["view_cfdi"])


class Migration(migrations.Migration):
    dependencies = [("cfdi", "0001_initial"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_cfdi, migrations.RunPython.noop)]
