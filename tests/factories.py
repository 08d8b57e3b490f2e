"""Factories shared by every app's tests."""

import factory
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import MultiPolygon, Polygon

from cadastre.models import Block, LandUse, Locality, Parcel

# A spot inside the default CRS's zone (UTM 14N), metres.
ORIGIN_X, ORIGIN_Y = 300_000.0, 2_270_000.0


def square(x: float, y: float, size: float) -> Polygon:
    return Polygon(
        ((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)),
        srid=settings.CAUDAL_SRID,
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ():
            self.groups.add(Group.objects.get(name=role))


class LocalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Locality

    code = factory.Sequence(lambda n: f"{9000 + n}")
    name = factory.Sequence(lambda n: f"Colonia de prueba {n}")
    geom = factory.LazyFunction(lambda: MultiPolygon(square(ORIGIN_X, ORIGIN_Y, 1000)))


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    locality = factory.SubFactory(LocalityFactory)
    code = factory.Sequence(lambda n: f"{n:03d}")
    geom = factory.LazyFunction(lambda: square(ORIGIN_X + 10, ORIGIN_Y + 10, 100))


class ParcelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Parcel

    block = factory.SubFactory(BlockFactory)
    # NNNN-NNN-NNN: the sequence spread over the three groups, so a long session (a thousand
    # parcels and more) still makes keys of the right shape.
    cadastral_key = factory.Sequence(
        lambda n: f"{9000 + (n // 1_000_000) % 1000:04d}-{(n // 1000) % 1000:03d}-{n % 1000:03d}"
    )
    land_use = LandUse.RESIDENTIAL
    address = "Calle Hidalgo 12"
    geom = factory.LazyFunction(lambda: square(ORIGIN_X + 20, ORIGIN_Y + 20, 10))
