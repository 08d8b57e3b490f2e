"""Collectors and billing clerks see and manage collection actions (and see the policy,
large consumers and assignments); managers and admins manage everything of collections;
readers of all read all."""

from django.db import migrations

ACTIONS = ["view_collectionaction", "add_collectionaction", "change_collectionaction"]
READ = [
    "view_collectionpolicy",
    "view_largeconsumer",
    "view_collectorassignment",
    "view_accountcollectiontype",
    "view_collectionepisode",
    "view_aging",
]


def grant_collection(apps, schema_editor):
    from core import roles

    for role in (roles.COLLECTOR, roles.BILLING_CLERK):
        roles.grant(apps, role, app_label="collection", codenames=ACTIONS + READ)
    for role in (roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="collection", actions=("view", "add", "change", "delete"))
        roles.grant(
            apps,
            role,
            app_label="collection",
            codenames=["evaluate_collection", "view_aging"],
        )
    for role in roles.READ_ALL_ROLES:
        roles.grant(apps, role, app_label="collection", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [("collection", "0002_default_policy"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_collection, migrations.RunPython.noop)]
