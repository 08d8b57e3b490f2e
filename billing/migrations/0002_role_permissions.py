"""Billing clerks run billing, manage tariffs and the calendar and resolve held bills; managers
and admins too; every role reads the tariffs and the calendar; readers of all read all."""

from django.db import migrations

TARIFF_MODELS = (
    "tariffset",
    "tariff",
    "tariffblock",
    "tariffdiscount",
    "billingcycle",
    "billingcalendar",
)


def grant_billing(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change")
    for role in (roles.BILLING_CLERK, roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="billing", actions=edit)
    for role in roles.READ_ALL_ROLES + (roles.CASHIER, roles.CUSTOMER_SERVICE, roles.COLLECTOR):
        roles.grant(apps, role, app_label="billing", actions=("view",))
    view_tariffs = [f"view_{model}" for model in TARIFF_MODELS]
    for role in roles.ROLES:
        roles.grant(apps, role, app_label="billing", codenames=view_tariffs)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_billing, migrations.RunPython.noop)]
