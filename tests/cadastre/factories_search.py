"""Factories of the customer roll (owners, customers, accounts, meters) for the search and
API tests."""

import factory
from django.conf import settings
from django.contrib.gis.geos import Point

from cadastre.models import Customer, Owner, Ownership, ServiceAccount
from metering.models import Meter, MeterStatus
from tests.factories import ORIGIN_X, ORIGIN_Y, ParcelFactory


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    name = "Ana"
    first_surname = "Ruiz"
    second_surname = "Soto"


class OwnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ownership

    owner = factory.SubFactory(OwnerFactory)
    parcel = factory.SubFactory(ParcelFactory)
    share_percent = 100


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = "Luis"
    first_surname = "Mora"
    second_surname = "Vega"


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAccount

    number = factory.Sequence(lambda n: f"{700000 + n:09d}")
    customer = factory.SubFactory(CustomerFactory)
    parcel = factory.SubFactory(ParcelFactory)
    # The factories' parcel is the 10 m square at (ORIGIN + 20); its street side is south.
    service_point = factory.LazyFunction(
        lambda: Point(ORIGIN_X + 25, ORIGIN_Y + 18, srid=settings.CAUDAL_SRID)
    )


class MeterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meter

    serial = factory.Sequence(lambda n: f"MTR-{n:07d}")
    account = factory.SubFactory(ServiceAccountFactory)
    status = MeterStatus.INSTALLED
