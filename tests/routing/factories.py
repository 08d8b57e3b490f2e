"""A crafted street grid and meters on it, for hand-computed routing figures."""

import datetime as dt

from django.contrib.gis.geos import LineString, MultiPolygon, Point
from django.utils import timezone

from cadastre.models import StreetSegment
from metering.models import Meter, MeterStatus
from sectors.models import AccountSectors, CommercialArea
from tests.cadastre.factories_census import ServiceAccountFactory
from tests.factories import ORIGIN_X, ORIGIN_Y, ParcelFactory, square

SRID = 32614


def xy(x: float, y: float) -> tuple[float, float]:
    """A grid position (metres from the grid's origin) in the storage CRS."""
    return (ORIGIN_X + x, ORIGIN_Y + y)


def street_grid(nx: int = 4, ny: int = 4, spacing: float = 100.0, *, skip=(), avenue_rows=()):
    """Streets along the lines of an ``nx`` by ``ny`` lattice of crossings, one segment per
    block side; ``skip`` lists segments ((i, j), (i2, j2)) to leave out; rows ``j`` in
    ``avenue_rows`` are avenues. Returns the segments."""
    made = []
    for j in range(ny):
        for i in range(nx):
            for di, dj in ((1, 0), (0, 1)):
                a, b = (i, j), (i + di, j + dj)
                if b[0] >= nx or b[1] >= ny or (a, b) in skip:
                    continue
                line = LineString(
                    xy(a[0] * spacing, a[1] * spacing),
                    xy(b[0] * spacing, b[1] * spacing),
                    srid=SRID,
                )
                cls = "avenue" if dj == 0 and j in avenue_rows else "street"
                made.append(StreetSegment(name=f"Calle {i}-{j}", street_class=cls, geom=line))
    return StreetSegment.objects.bulk_create(made)


def book(code: str = "L1") -> CommercialArea:
    geom = MultiPolygon(square(ORIGIN_X - 5000, ORIGIN_Y - 5000, 20000))
    zone, _ = CommercialArea.objects.get_or_create(
        level="zone", code="ZR", defaults={"name": "Zona", "geom": geom}
    )
    sector, _ = CommercialArea.objects.get_or_create(
        level="sector",
        code="SR",
        defaults={"name": "Sector", "geom": geom, "parent": zone, "parent_level": "zone"},
    )
    return CommercialArea.objects.create(
        level="book",
        code=code,
        name=f"Libro {code}",
        geom=geom,
        parent=sector,
        parent_level="sector",
    )


def meters_at(positions, *, in_book: CommercialArea | None = None, cycle: str = "1"):
    """An account with an installed meter at each grid position (x, y); in ``in_book``."""
    accounts = []
    parcel = ParcelFactory()
    for n, (x, y) in enumerate(positions):
        point = Point(*xy(x, y), srid=SRID)
        account = ServiceAccountFactory(billing_cycle=cycle, service_point=point, parcel=parcel)
        Meter.objects.create(
            serial=f"RT-{account.pk}-{n}",
            dials=6,
            account=account,
            status=MeterStatus.INSTALLED,
            installed_on=dt.date(2024, 1, 1),
            location=point,
        )
        if in_book is not None:
            AccountSectors.objects.create(
                account=account,
                zone=in_book.parent.parent,
                sector=in_book.parent,
                book=in_book,
                assigned_at=timezone.now(),
            )
        accounts.append(account)
    return accounts
