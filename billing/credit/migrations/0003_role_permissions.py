"""Collectors log contacts and promises and see their worklists and routes; customer service
and billing clerks run credit checks at the counter; managers (and administrators) authorize
decisions, see escalations and edit the policy; the readers of all read all."""

from django.db import migrations

COLLECTOR = [
    "view_worklist",
    "add_collectioncontact",
    "view_collectioncontact",
    "view_paymentpromise",
]
COUNTER = [
    "run_creditcheck",
    "view_creditcheck",
    "view_creditpolicy",
    "view_collectioncontact",
    "view_paymentpromise",
]
MANAGER = [
    *COLLECTOR,
    *COUNTER,
    "authorize_creditcheck",
    "view_escalation",
    "change_creditpolicy",
    "add_creditpolicy",
]


def grant_credit(apps, schema_editor):
    from core import roles

    roles.grant(apps, roles.COLLECTOR, app_label="credit", codenames=COLLECTOR)
    for role in (roles.CUSTOMER_SERVICE, roles.BILLING_CLERK):
        roles.grant(apps, role, app_label="credit", codenames=COUNTER)
    for role in (roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="credit", codenames=MANAGER)
    for role in roles.READ_ALL_ROLES:
        roles.grant(apps, role, app_label="credit", actions=("view",))


class Migration(migrations.Migration):
    dependencies = [("credit", "0002_seed_policy"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_credit, migrations.RunPython.noop)]
