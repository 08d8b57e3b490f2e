"""Customer service attends tickets and, for contracts and changes of holder, opens customers
and accounts and changes an account's holder; every office role reads tickets; tickets bump
tile caches."""

from django.db import migrations

from tiles.invalidation import track_tables


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.ADMIN, app_label="orders", actions=edit)
    roles.grant(
        apps,
        roles.CUSTOMER_SERVICE,
        app_label="orders",
        codenames=["add_ticket", "change_ticket", "add_ticketmessage"],
    )
    roles.grant(
        apps,
        roles.CUSTOMER_SERVICE,
        app_label="cadastre",
        codenames=[
            "add_customer",
            "change_customer",
            "add_serviceaccount",
            "change_serviceaccount",
        ],
    )
    for role in sorted(set(roles.ROLES) - {roles.ADMIN, roles.METER_READER}):
        roles.grant(apps, role, app_label="orders", codenames=["view_ticket", "view_ticketmessage"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_service_desk"),
        ("core", "0001_roles"),
        ("tiles", "0001_initial"),
        ("cadastre", "0004_role_permissions_customer_roll"),
    ]
    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        track_tables("orders_ticket"),
    ]
