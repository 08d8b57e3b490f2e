"""Promises of payment are checked every night by Celery beat's database scheduler (after
midnight in the utility's zone, before the day's worklists are opened); the schedule is a row
administrators can change or switch off."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Credit: promises of payment check (nightly)"


def schedule(apps, schema_editor):
    crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    when, _created = crontab.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    periodic.objects.get_or_create(
        name=TASK_NAME, defaults={"task": "credit.promises_check", "crontab": when}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0003_role_permissions"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
