"""The decision table every utility starts with (credit policy rules), at three levels.

The *standard* level is written out below; *lenient* is the same table one step milder
(refuse → authorize → warn → inform) and *strict* one step harsher (up to refuse). Staff
change rows afterwards; a re-run adds only the missing ones."""

from django.db import migrations

ORDER = ["inform", "warn", "authorize", "refuse"]
# (point, figure, threshold, decision, months)
STANDARD = [
    # A new contract: the customer's debts elsewhere and debts left on the parcel.
    ("new_contract", "overdue_amount", "0.01", "warn", 12),
    ("new_contract", "overdue_amount", "1000.00", "authorize", 12),
    ("new_contract", "days_overdue", "90", "authorize", 12),
    ("new_contract", "overdue_accounts", "2", "refuse", 12),
    ("new_contract", "suspended_accounts", "1", "refuse", 12),
    ("new_contract", "parcel_overdue", "0.01", "authorize", 12),
    ("new_contract", "broken_promises", "2", "warn", 12),
    ("new_contract", "breached_agreements", "1", "authorize", 24),
    # Feasibility only informs the study; debts on the parcel are worth a warning.
    ("feasibility", "overdue_amount", "0.01", "inform", 12),
    ("feasibility", "parcel_overdue", "0.01", "warn", 12),
    ("feasibility", "suspended_accounts", "1", "warn", 12),
    # A change of holder: the account must be clear; the new holder's own debts count.
    ("ownership_transfer", "account_overdue", "0.01", "refuse", 12),
    ("ownership_transfer", "overdue_amount", "0.01", "warn", 12),
    ("ownership_transfer", "overdue_amount", "1000.00", "authorize", 12),
    ("ownership_transfer", "suspended_accounts", "1", "authorize", 12),
    # An agreement: who broke their word before needs a manager, twice is a refusal.
    ("agreement", "breached_agreements", "1", "authorize", 12),
    ("agreement", "breached_agreements", "2", "refuse", 24),
    ("agreement", "broken_promises", "3", "authorize", 12),
    ("agreement", "days_overdue", "365", "warn", 12),
    ("agreement", "overdue_accounts", "3", "authorize", 12),
]


def _shift(decision: str, step: int) -> str:
    return ORDER[max(0, min(len(ORDER) - 1, ORDER.index(decision) + step))]


def seed(apps, schema_editor):
    policy = apps.get_model("credit", "CreditPolicy")
    for level, step in (("standard", 0), ("lenient", -1), ("strict", 1)):
        for point, figure, threshold, decision, months in STANDARD:
            policy.objects.get_or_create(
                point=point,
                level=level,
                figure=figure,
                threshold=threshold,
                defaults={"decision": _shift(decision, step), "months": months},
            )


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
