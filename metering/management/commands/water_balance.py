"""``manage.py water_balance [--month YYYY-MM]``: compute the districts' water balance of a
month (default: last month and this one), as the nightly task does."""

from django.core.management.base import BaseCommand, CommandError

from core.history import command_context
from metering.services import MeteringError
from metering.tasks import water_balance_task


class Command(BaseCommand):
    help = "Compute the water balance of every district for a month (default: last and this)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM")

    def handle(self, *args, month=None, **options):
        with command_context("water_balance"):
            try:
                changed = water_balance_task(month)
            except MeteringError as error:
                raise CommandError(error.message) from error
        for code, rows in changed.items():
            self.stdout.write(f"{code}: {rows} district(s) changed")
