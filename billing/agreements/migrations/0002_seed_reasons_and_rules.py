"""The starting catalogue of adjustment reasons and approval rules (editable data afterwards).

Labels are English message ids marked for translation here (``gettext_noop``) and shown
translated (``AdjustmentReason.display_label``)."""

from decimal import Decimal

from django.db import migrations
from django.utils.translation import gettext_noop

REASONS = [
    ("reading_error", gettext_noop("Meter reading error"), "both"),
    ("hidden_leak", gettext_noop("Hidden leak (not visible)"), "credit_note"),
    ("duplicate_charge", gettext_noop("Duplicate charge"), "credit_note"),
    ("wrong_tariff", gettext_noop("Wrong tariff applied"), "both"),
    ("retiree_discount", gettext_noop("Retiree or pensioner discount, retroactive"), "credit_note"),
    ("reconnection_fee", gettext_noop("Reconnection fee"), "debit_note"),
    ("meter_damage", gettext_noop("Charge for damage to the meter"), "debit_note"),
    ("unauthorized_use", gettext_noop("Unauthorized connection or use"), "debit_note"),
    ("other", gettext_noop("Other (explain in the note)"), "both"),
]

# Clerks approve up to 5,000.00; managers and administrators any amount. Customer service
# requests but does not approve (no rule).
RULES = [
    ("billing_clerk", Decimal("5000.00")),
    ("manager", None),
    ("admin", None),
]


def seed(apps, schema_editor):
    reason_model = apps.get_model("agreements", "AdjustmentReason")
    rule_model = apps.get_model("agreements", "ApprovalRule")
    for code, label, kind in REASONS:
        reason_model.objects.get_or_create(code=code, defaults={"label": label, "kind": kind})
    for role, up_to in RULES:
        rule_model.objects.get_or_create(kind="", role=role, defaults={"amount_up_to": up_to})


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
