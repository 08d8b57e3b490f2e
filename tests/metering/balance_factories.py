"""Districts, macrometers and consumption for the water-balance tests."""

import datetime as dt
from decimal import Decimal

from django.contrib.gis.geos import MultiPolygon
from django.utils import timezone

from metering.models import AccountConsumption, Macrometer, MacrometerReading
from sectors.models import AccountSectors, Dma
from tests.metering.factories import local
from tests.sectors.factories import pt, rect

LONG_AGO = local(2020, 1, 1, 0)


def district(code: str, x0: float = 0) -> Dma:
    return Dma.objects.create(
        code=code, name=f"District {code}", geom=MultiPolygon(rect(x0, 0, x0 + 500, 500))
    )


def macrometer(code: str, *, dma_in=None, dma_out=None, **kwargs) -> Macrometer:
    kwargs.setdefault("in_service_from", LONG_AGO)
    return Macrometer.objects.create(
        code=code, location=pt(10, 10), dma_in=dma_in, dma_out=dma_out, **kwargs
    )


def registers(meter: Macrometer, *readings) -> None:
    """Stored readings: ``(instant, forward)`` or ``(instant, forward, reverse)``."""
    MacrometerReading.objects.bulk_create(
        MacrometerReading(
            macrometer=meter,
            read_at=r[0],
            forward_m3=Decimal(str(r[1])),
            reverse_m3=Decimal(str(r[2])) if len(r) > 2 else None,
            source="manual",
        )
        for r in readings
    )


def consumption(account, period, volume, *, method="measured") -> AccountConsumption:
    return AccountConsumption.objects.create(
        account=account, period=period, volume_m3=Decimal(str(volume)), method=method
    )


def in_district(account, dma: Dma | None) -> None:
    AccountSectors.objects.update_or_create(
        account=account, defaults={"dma": dma, "assigned_at": timezone.now()}
    )


def at(y, m, d, hh=0, mm=0) -> dt.datetime:
    return local(y, m, d, hh, mm)
