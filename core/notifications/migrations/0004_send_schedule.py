"""Pending notices (and network's outage outbox) are sent every five minutes by Celery beat's
database scheduler; the schedule is a row administrators can change or switch off."""

from django.db import migrations

TASK_NAME = "Notifications: send pending notices (every 5 minutes)"


def schedule(apps, schema_editor):
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _created = interval.objects.get_or_create(every=5, period="minutes")
    periodic.objects.get_or_create(
        name=TASK_NAME, defaults={"task": "notifications.send", "interval": every}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_role_permissions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
