"""Factories for the census, the customer roll and meters (census and work-order tests)."""

import datetime as dt

import factory
from django.conf import settings
from django.contrib.gis.geos import Point

from cadastre.models import (
    AccountStatus,
    CampaignStatus,
    CensusCampaign,
    Customer,
    ServiceAccount,
    UseType,
)
from metering.models import Meter, MeterStatus
from tests.factories import ORIGIN_X, ORIGIN_Y, ParcelFactory, square


def parcel_at(i: int, *, size: float = 20.0, **kwargs):
    """A parcel of ``size`` m a side, the ``i``-th in a row 100 m apart (no two touch)."""
    x, y = ORIGIN_X + 100 * i, ORIGIN_Y + 500
    return ParcelFactory(geom=square(x, y, size), **kwargs)


def point_off_parcel(parcel, metres: float) -> Point:
    """A point ``metres`` west of the parcel's west edge, at its middle (a street-side point)."""
    xmin, ymin, _xmax, ymax = parcel.geom.extent
    return Point(xmin - metres, (ymin + ymax) / 2, srid=settings.CAUDAL_SRID)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Usuario {n}")
    first_surname = "Pérez"


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAccount

    number = factory.Sequence(lambda n: f"C{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    parcel = factory.SubFactory(ParcelFactory)
    service_point = factory.LazyAttribute(lambda o: o.parcel.geom.point_on_surface)
    use_type = UseType.DOMESTIC
    status = AccountStatus.ACTIVE


class MeterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meter

    serial = factory.Sequence(lambda n: f"MTR{n:07d}")
    account = factory.SubFactory(ServiceAccountFactory)
    status = MeterStatus.INSTALLED
    installed_on = dt.date(2025, 1, 15)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CensusCampaign

    name = factory.Sequence(lambda n: f"Censo {n}")
    starts_on = dt.date(2026, 1, 1)
    ends_on = dt.date(2026, 12, 31)
    status = CampaignStatus.ACTIVE
