"""A small sectorized town for the sectorization tests (coordinates in metres from ORIGIN).

    y 1000 +-----------+-----------+-----------------------+
           | B2        |           |                       |
           |   S1      |    S2     |          Z2           |
       500 +-----------|  (no      |    (no sector)        |
           | B1        |   books)  |                       |
         0 +-----------+-----------+-----------------------+
           0          500        1000                    2000   x

Zones Z1 (0-1000) and Z2 (1000-2000); sectors S1, S2 in Z1; books B1, B2 in S1; one DMA D1
over x 0-1500; one tariff zone T1 over all of it. Beyond x 2000 there is nothing.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from cadastre.models import ServiceAccount
from sectors import services
from sectors.models import CommercialArea, Dma, TariffZone
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.factories import ORIGIN_X, ORIGIN_Y, ParcelFactory, square

SRID = settings.CAUDAL_SRID


def rect(x0, y0, x1, y1) -> Polygon:
    return Polygon(
        (
            (ORIGIN_X + x0, ORIGIN_Y + y0),
            (ORIGIN_X + x1, ORIGIN_Y + y0),
            (ORIGIN_X + x1, ORIGIN_Y + y1),
            (ORIGIN_X + x0, ORIGIN_Y + y1),
            (ORIGIN_X + x0, ORIGIN_Y + y0),
        ),
        srid=SRID,
    )


def pt(x, y) -> Point:
    return Point(ORIGIN_X + x, ORIGIN_Y + y, srid=SRID)


def accounts_at(points, *, parcel=None) -> list[ServiceAccount]:
    """One account at each (x, y); they share one parcel (the engine only reads the point)."""
    parcel = parcel or ParcelFactory(geom=square(ORIGIN_X - 500, ORIGIN_Y - 500, 10))
    customer = CustomerFactory()
    return [
        ServiceAccountFactory(parcel=parcel, customer=customer, service_point=pt(x, y))
        for x, y in points
    ]


@dataclass
class Town:
    z1: CommercialArea
    z2: CommercialArea
    s1: CommercialArea
    s2: CommercialArea
    b1: CommercialArea
    b2: CommercialArea
    d1: Dma
    t1: TariffZone


def _created(diff, model):
    pk = next(op.area.id for op in diff.areas if op.op == "create")
    return model.objects.get(pk=pk)


def area(kind, code, geom, parent=None):
    model = CommercialArea if kind in ("zone", "sector", "book") else None
    model = model or (Dma if kind == "dma" else TariffZone)
    diff = services.area_create(kind=kind, code=code, name=f"Área {code}", geom=geom, parent=parent)
    return _created(diff, model)


def build_town() -> Town:
    z1 = area("zone", "Z1", rect(0, 0, 1000, 1000))
    z2 = area("zone", "Z2", rect(1000, 0, 2000, 1000))
    s1 = area("sector", "S1", rect(0, 0, 500, 1000), parent=z1)
    s2 = area("sector", "S2", rect(500, 0, 1000, 1000), parent=z1)
    b1 = area("book", "B1", rect(0, 0, 500, 500), parent=s1)
    b2 = area("book", "B2", rect(0, 500, 500, 1000), parent=s1)
    d1 = area("dma", "D1", MultiPolygon(rect(0, 0, 1500, 1000), srid=SRID))
    t1 = area("tariff_zone", "T1", rect(0, 0, 2000, 1000))
    return Town(z1, z2, s1, s2, b1, b2, d1, t1)
