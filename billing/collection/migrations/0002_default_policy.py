"""The collection policy a utility starts with (administrators change it as data):

- normal accounts, normal collection, every use type: a reminder at 1 period overdue (after 1
  day of grace), a formal notice with 10 days to pay at 2, a suspension order at 3;
- large consumers: a formal notice to their executive at 1 period (10 days), nothing
  automatic after it (their executive negotiates; no automatic suspension);
- judicial collection: a referral to the legal department at 1 period;
- special collection (public bodies, agreements with the utility): no automatic step.
"""

from django.db import migrations

STEPS = [
    # segment, collection type, step, action, min periods, min days, deadline, to executive
    ("normal", "normal", 1, "reminder", 1, 1, None, False),
    ("normal", "normal", 2, "formal_notice", 2, 1, 10, False),
    ("normal", "normal", 3, "suspension", 3, 1, None, False),
    ("large", "normal", 1, "formal_notice", 1, 1, 10, True),
    ("normal", "judicial", 1, "judicial", 1, 1, None, False),
    ("large", "judicial", 1, "judicial", 1, 1, None, True),
]


def seed(apps, schema_editor):
    policy = apps.get_model("collection", "CollectionPolicy")
    for segment, ctype, step, action, periods, days, deadline, executive in STEPS:
        policy.objects.get_or_create(
            segment=segment,
            collection_type=ctype,
            use_type="",
            step=step,
            defaults={
                "action": action,
                "min_periods": periods,
                "min_days": days,
                "deadline_days": deadline,
                "to_executive": executive,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("collection", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
