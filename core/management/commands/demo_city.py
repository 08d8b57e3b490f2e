from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.demo import DemoContext, DemoError
from core.history import command_context
from core.services import demo_city_build


class Command(BaseCommand):
    help = "Builds the deterministic demo city: every app's demo steps, each applied once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts",
            type=int,
            default=20000,
            help="How many service accounts' worth of parcels to build.",
        )
        parser.add_argument("--seed", type=int, default=7, help="Same seed, same city.")
        parser.add_argument(
            "--replace", action="store_true", help="Empty the demo tables and build again."
        )

    def handle(self, *args, accounts, seed, replace, **options):
        if accounts < 1 or accounts > 5_000_000:
            raise CommandError(_("--accounts must be between 1 and 5,000,000."))
        ctx = DemoContext(
            accounts=accounts,
            seed=seed,
            srid=settings.CAUDAL_SRID,
            center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
        )
        try:
            with command_context("demo_city"):
                demo_city_build(ctx=ctx, replace=replace, log=self.stdout.write)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
