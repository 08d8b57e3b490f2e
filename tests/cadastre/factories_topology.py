"""Factories for the parcel-editing tests: customers and service accounts with a service point."""

import factory
from django.conf import settings
from django.contrib.gis.geos import Point

from cadastre.models import Customer, Owner, ServiceAccount
from tests.factories import ParcelFactory


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Cliente {n}")
    first_surname = "Pérez"


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAccount

    number = factory.Sequence(lambda n: f"T-{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    parcel = factory.SubFactory(ParcelFactory)
    service_point = factory.LazyAttribute(
        lambda o: Point(*o.parcel.geom.point_on_surface.coords, srid=settings.CAUDAL_SRID)
    )


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    name = factory.Sequence(lambda n: f"Propietaria {n}")
    first_surname = "Pérez"
