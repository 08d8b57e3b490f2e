"""Meters, periods and readings for the metering tests, and a helper to sync readings."""

import calendar
import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.gis.geos import Point

from core import roles
from metering.models import Meter, MeterStatus, ReadingPeriod
from metering.services import sync_readings
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.factories import UserFactory

TZ = ZoneInfo(settings.TIME_ZONE)


def local(y, m, d, hh=10, mm=0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=TZ)


def month_period(year: int, month: int, *, cycle: str = "1") -> ReadingPeriod:
    last = calendar.monthrange(year, month)[1]
    period, _created = ReadingPeriod.objects.get_or_create(
        cycle=cycle,
        code=f"{year}-{month:02d}",
        defaults={"starts_on": dt.date(year, month, 1), "ends_on": dt.date(year, month, last)},
    )
    return period


def year_periods(year: int = 2025, *, cycle: str = "1") -> list[ReadingPeriod]:
    return [month_period(year, m, cycle=cycle) for m in range(1, 13)]


def meter(*, dials: int = 6, account=None, serial=None, **kwargs) -> Meter:
    account = account or ServiceAccountFactory(billing_cycle="1")
    return Meter.objects.create(
        serial=serial or f"MTR-{uuid.uuid4().hex[:10]}",
        dials=dials,
        account=account,
        status=MeterStatus.INSTALLED,
        installed_on=dt.date(2024, 12, 1),
        location=kwargs.pop("location", account.service_point),
        **kwargs,
    )


def reader(username: str = "lector") -> object:
    return UserFactory(username=username, roles=[roles.METER_READER])


def lonlat(point: Point, dx: float = 0.0, dy: float = 0.0) -> dict:
    """The WGS 84 position ``dx``/``dy`` metres east/north of a point in the storage CRS."""
    p = Point(point.x + dx, point.y + dy, srid=point.srid)
    p.transform(4326)
    return {"lon": round(p.x, 8), "lat": round(p.y, 8)}


def item(m: Meter, value, at: dt.datetime, **kwargs) -> dict:
    data = {
        "client_id": str(kwargs.pop("client_id", uuid.uuid4())),
        "meter_id": m.pk,
        "value": None if value is None else str(Decimal(str(value))),
        "captured_at": at.isoformat(),
        "device_id": kwargs.pop("device_id", "tablet-1"),
        "photo": kwargs.pop("photo", False),
    }
    data.update(kwargs)
    return data


def sync(user, *items, device_id="tablet-1"):
    return sync_readings(user=user, batch={"device_id": device_id, "readings": list(items)})


def history(user, m: Meter, values, *, year=2025, start_month=1, day=10, device_id="tablet-1"):
    """One reading a month from ``start_month``: the values given, in one sync."""
    items = [
        item(m, v, local(year, start_month + k, day), device_id=device_id)
        for k, v in enumerate(values)
    ]
    result = sync(user, *items, device_id=device_id)
    assert [r.status for r in result.results] == ["accepted"] * len(values), result.as_dict()
    return result
