"""Who may do what with payments.

- cashier: takes payments and runs their own cash sessions; sees payments and sessions.
- billing_clerk: imports bank files and reverses payments (bounced cheques, chargebacks).
- manager, admin: all of it.
- readers of everything (manager, auditor, admin): view payments, sessions and bank files.
  Payment clients (their HMAC secrets) and idempotency records are left to the admin site's
  superusers.
"""

from django.db import migrations

VIEW = ["view_payment", "view_cashsession", "view_bankfile", "view_bankfileline"]


def grant_payments(apps, schema_editor):
    from core import roles

    def grant(role, codenames):
        roles.grant(apps, role, app_label="payments", codenames=codenames)

    grant(roles.CASHIER, ["take_payment", "manage_cash_session", *VIEW])
    grant(roles.BILLING_CLERK, ["import_bank_file", "reverse_payment", *VIEW])
    everything = ["take_payment", "manage_cash_session", "import_bank_file", "reverse_payment"]
    for role in (roles.MANAGER, roles.ADMIN):
        grant(role, [*everything, *VIEW])
    for role in roles.READ_ALL_ROLES:
        grant(role, VIEW)


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_bank_files_online_clients"), ("core", "0001_roles")]
    operations = [migrations.RunPython(grant_payments, migrations.RunPython.noop)]
