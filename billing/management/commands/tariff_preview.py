"""Print the bill a tariff file gives a use type, zone and consumption: each line and the total.

manage.py tariff_preview --tariff tarifas.yaml --use domestic --zone T1 --m3 25 [--months 2]
    [--flat] [--discount retiree] [--no-sewer] [--no-sanitation]
"""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.pricing import bill_price, money
from billing.tariff_io import tariff_file_load, tariff_set_parse


class Command(BaseCommand):
    help = "Print each line and the total of a bill under a tariff file."

    def add_arguments(self, parser):
        parser.add_argument("--tariff", required=True, help="YAML or JSON tariff file")
        parser.add_argument("--use", required=True, help="use type (domestic, commercial…)")
        parser.add_argument("--zone", default=None, help="tariff-zone code")
        parser.add_argument("--m3", default=None, help="consumption in m³ (omit with --flat)")
        parser.add_argument("--months", type=int, default=1)
        parser.add_argument("--flat", action="store_true", help="unmetered account (flat rate)")
        parser.add_argument("--discount", default=None, help="discount code of the file")
        parser.add_argument("--no-sewer", action="store_true")
        parser.add_argument("--no-sanitation", action="store_true")

    def handle(self, *args, **options):
        try:
            with open(options["tariff"], encoding="utf-8") as fh:
                spec = tariff_set_parse(tariff_file_load(fh.read()))
        except OSError as exc:
            raise CommandError(str(exc)) from None
        except BillingError as exc:
            raise CommandError(exc.message) from None
        tariff = spec.tariff_for(options["use"], options["zone"])
        if tariff is None:
            raise CommandError(
                _("The file has no tariff for use %(use)s in zone %(zone)s.")
                % {"use": options["use"], "zone": options["zone"] or "-"}
            )
        m3 = None
        if not options["flat"]:
            try:
                m3 = Decimal(options["m3"])
            except (TypeError, InvalidOperation):
                raise CommandError(_("Give --m3 N (or --flat).")) from None
            if m3 < 0:
                raise CommandError(_("Consumption cannot be negative."))
        if options["months"] < 1:
            raise CommandError(_("--months must be at least 1."))
        discount = spec.discount(options["discount"])
        if options["discount"] and discount is None:
            raise CommandError(
                _("The file has no discount %(code)s.") % {"code": options["discount"]}
            )
        try:
            quote = bill_price(
                tariff=tariff,
                m3=m3,
                months=options["months"],
                vat_rate=spec.vat_rate,
                rounding_unit=spec.rounding_unit,
                sewer=not options["no_sewer"],
                sanitation=not options["no_sanitation"],
                discount=discount,
            )
        except ValueError:
            raise CommandError(_("This tariff has no flat rate for unmetered accounts.")) from None
        out = self.stdout
        out.write(f"{spec.code} {spec.name} · {tariff.use_type} · {tariff.zone or '*'}")
        out.write(
            f"{_('concept'):<14}{_('quantity'):>12}{_('unit price'):>14}{_('amount'):>12}{_('VAT'):>10}"
        )
        for line in quote.lines:
            concept = line.concept + (f" {line.block}" if line.block else "")
            out.write(
                f"{concept:<14}{line.quantity:>12}{line.unit_price.quantize(Decimal('0.0001')):>14}"
                f"{line.amount:>12}{money(line.tax):>10}"
            )
        out.write(f"{_('charges'):<40}{quote.charges:>12}")
        out.write(f"{_('VAT'):<40}{money(quote.tax):>12}")
        out.write(f"{_('total'):<40}{quote.total:>12}")
