"""Customer service requests adjustments and signs agreements; billing clerks also approve
adjustments (within the approval rules), reverse them and see the report; managers and
administrators may do everything; the readers of all (manager, auditor, admin) read all."""

from django.db import migrations

VIEW = [
    "view_adjustment",
    "view_adjustmentreason",
    "view_approvalrule",
    "view_agreement",
    "view_agreementinstallment",
]
CUSTOMER_SERVICE = [*VIEW, "add_adjustment", "add_agreement", "cancel_agreement"]
CLERK = [
    *CUSTOMER_SERVICE,
    "approve_adjustment",
    "cancel_adjustment",
    "report_adjustment",
]
ALL = ("view", "add", "change", "delete", "approve", "cancel", "report", "check")


def grant_agreements(apps, schema_editor):
    from core import roles

    roles.grant(apps, roles.CUSTOMER_SERVICE, app_label="agreements", codenames=CUSTOMER_SERVICE)
    roles.grant(apps, roles.BILLING_CLERK, app_label="agreements", codenames=CLERK)
    for role in (roles.MANAGER, roles.ADMIN):
        roles.grant(apps, role, app_label="agreements", actions=ALL)
    for role in roles.READ_ALL_ROLES:
        roles.grant(apps, role, app_label="agreements", codenames=[*VIEW, "report_adjustment"])


class Migration(migrations.Migration):
    dependencies = [("agreements", "0002_seed_reasons_and_rules"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_agreements, migrations.RunPython.noop)]
