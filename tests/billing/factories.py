"""A small billed town: one cycle, four monthly periods, tariff zones T1/T2, an adopted tariff
set, and accounts described by their use, zone and consumption."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal as D

from django.contrib.gis.geos import MultiPolygon
from django.utils import timezone

from billing import services
from billing.models import AccountDiscount, BillingCalendar, BillingCycle, TariffSet
from billing.tariff_io import tariff_set_parse
from cadastre.models import ServiceAccount
from metering.models import AccountConsumption, ReadingPeriod
from sectors.models import AccountSectors, TariffZone
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.factories import ORIGIN_X, ORIGIN_Y, ParcelFactory, square

TARIFF = {
    "code": "T-TEST",
    "name": "Tarifa de prueba",
    "valid_from": "2026-01-01",
    "vat_rate": "0.16",
    "rounding_unit": "0.50",
    "late_fee_pct": "2",
    "discounts": [{"code": "retiree", "name": "Jubilados", "pct": "50", "cap_m3": "15"}],
    "tariffs": [
        {
            "use_type": "domestic",
            "fixed_charge": "30.00",
            "minimum_m3": "5",
            "sewer_pct": "20",
            "sanitation_pct": "10",
            "flat_rate": "180.00",
            "blocks": [
                {"up_to": 10, "price": "5.00"},
                {"up_to": 20, "price": "8.00"},
                {"up_to": None, "price": "12.00"},
            ],
        },
        {
            "use_type": "domestic",
            "zone": "T1",
            "fixed_charge": "20.00",
            "block_method": "whole_volume",
            "sewer_pct": "15",
            "flat_rate": "120.00",
            "blocks": [{"up_to": 15, "price": "4.00"}, {"up_to": None, "price": "9.00"}],
        },
        {
            "use_type": "commercial",
            "fixed_charge": "50.00",
            "block_method": "whole_volume",
            "sewer_pct": "25",
            "vat": True,
            "blocks": [{"up_to": 20, "price": "10.00"}, {"up_to": None, "price": "14.33"}],
        },
        {
            "use_type": "public",
            "fixed_charge": "-100.00",
            "blocks": [{"up_to": None, "price": "5.00"}],
        },
    ],
}

MONTHS = [dt.date(2026, m, 1) for m in (1, 2, 3, 4)]


@dataclass
class Town:
    cycle: BillingCycle
    periods: list[ReadingPeriod]
    tariff_set: TariffSet
    zones: dict[str, TariffZone]
    accounts: list[ServiceAccount] = field(default_factory=list)

    @property
    def period(self) -> ReadingPeriod:
        return self.periods[-1]


def town(*, cycle_code: str = "1", months: int = 1, tariff: dict | None = None) -> Town:
    zones = {
        code: TariffZone.objects.get_or_create(
            code=code,
            defaults={
                "name": code,
                "geom": MultiPolygon(square(ORIGIN_X + 5000 * i, ORIGIN_Y + 5000, 100)),
            },
        )[0]
        for i, code in enumerate(("T1", "T2"))
    }
    cycle = services.billing_cycle_save(code=cycle_code, name=f"Ciclo {cycle_code}", months=months)
    periods = []
    for first in MONTHS:
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        period = ReadingPeriod.objects.create(
            cycle=cycle_code, code=f"{first:%Y-%m}", starts_on=first, ends_on=last
        )
        services.calendar_entry_save(
            cycle=cycle,
            period=period,
            reading_from=first,
            reading_to=first + dt.timedelta(days=9),
            billing_date=last,
            due_date=last + dt.timedelta(days=15),
            cutoff_date=last + dt.timedelta(days=30),
        )
        periods.append(period)
    tariff_set = services.tariff_set_import(spec=tariff_set_parse(tariff or TARIFF))
    services.tariff_set_adopt(tariff_set=tariff_set)
    return Town(cycle=cycle, periods=periods, tariff_set=tariff_set, zones=zones)


def add_account(
    t: Town,
    *,
    use: str = "domestic",
    zone: str | None = "T2",
    m3=None,
    method: str = "measured",
    history: list | None = None,
    discount: str | None = None,
    **kwargs,
) -> ServiceAccount:
    """An account of the town's cycle with consumption ``m3`` in the current period (None: no
    meter, flat rate) and ``history``: (m3, method) of the earlier periods, oldest first."""
    if not hasattr(t, "_parcel"):
        t._parcel = ParcelFactory(geom=square(ORIGIN_X - 500, ORIGIN_Y - 500, 10))
        t._customer = CustomerFactory()
    account = ServiceAccountFactory(
        parcel=t._parcel,
        customer=kwargs.pop("customer", None) or t._customer,
        use_type=use,
        billing_cycle=t.cycle.code,
        **kwargs,
    )
    AccountSectors.objects.create(
        account=account,
        tariff_zone=t.zones[zone] if zone else None,
        assigned_at=timezone.now(),
    )
    history = list(history or [])
    pairs = list(zip(t.periods[:-1][len(t.periods) - 1 - len(history) :], history, strict=True))
    if m3 is not None:
        pairs.append((t.period, (m3, method)))
    for period, (volume, how) in pairs:
        AccountConsumption.objects.create(
            account=account, period=period, volume_m3=D(str(volume)), method=how
        )
    if discount:
        AccountDiscount.objects.create(account=account, code=discount, valid_from=MONTHS[0])
    t.accounts.append(account)
    return account


def calendar(t: Town) -> BillingCalendar:
    return BillingCalendar.objects.get(period=t.period)
