"""Who does what with crews and field completion.

- Dispatchers (customer service, planners) assign orders to crews (``dispatch_workorder``).
- Field crews record the steps of their own crew's orders (``add_workorderstep``), their
  photos and signatures and the materials they used; which orders are theirs is checked by the
  services (crew membership), not by permissions.
- The catalogue (types, materials, result codes, crews, holidays) is the administrator's.
- Every office role reads everything about orders.

Crews' table bumps the tile-cache generation on writes (the orders layers show the crew).
"""

from django.db import migrations

from tiles.invalidation import track_tables


def grant(apps, schema_editor):
    from core import roles

    edit = ("view", "add", "change", "delete")
    roles.grant(apps, roles.ADMIN, app_label="orders", actions=edit)
    for role in sorted(set(roles.ROLES) - {roles.ADMIN}):
        roles.grant(apps, role, app_label="orders", actions=("view",))
    for role in (roles.ADMIN, roles.CUSTOMER_SERVICE, roles.PLANNER):
        roles.grant(apps, role, app_label="orders", codenames=["dispatch_workorder"])
    roles.grant(
        apps,
        roles.FIELD_CREW,
        app_label="orders",
        codenames=["add_workorderstep", "add_workorderattachment", "add_workordermaterial"],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_crews_types_steps"),
        ("core", "0001_roles"),
        ("tiles", "0001_initial"),
    ]
    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        # The orders layers show each order's crew.
        track_tables("orders_crew"),
    ]
