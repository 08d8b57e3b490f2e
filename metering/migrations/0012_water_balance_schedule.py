"""The water balance is recomputed every night (last month and this one) by Celery beat's
database scheduler; the schedule is a row administrators can change or switch off."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Water balance (nightly)"


def schedule(apps, schema_editor):
    crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    periodic = apps.get_model("django_celery_beat", "PeriodicTask")
    when, _created = crontab.objects.get_or_create(
        minute="15",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    periodic.objects.get_or_create(
        name=TASK_NAME, defaults={"task": "metering.water_balance", "crontab": when}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("metering", "0011_macrometer_permissions_and_tiles"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
