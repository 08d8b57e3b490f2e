"""Small hand-made networks for the network tests (coordinates in metres from ORIGIN)."""

import itertools

from django.conf import settings
from django.contrib.gis.geos import LineString, Point

from network.models import Pipe, ServiceConnection, SewerPipe, Valve
from tests.cadastre.factories_census import CustomerFactory, ServiceAccountFactory
from tests.factories import ORIGIN_X, ORIGIN_Y, ParcelFactory, square

SRID = settings.CAUDAL_SRID
_codes = itertools.count(1)


def pt(x, y) -> Point:
    return Point(ORIGIN_X + x, ORIGIN_Y + y, srid=SRID)


def line(*xys) -> LineString:
    return LineString([(ORIGIN_X + x, ORIGIN_Y + y) for x, y in xys], srid=SRID)


def pipe(code, *xys, diameter=100, **kwargs) -> Pipe:
    return Pipe.objects.create(code=code, geom=line(*xys), diameter_mm=diameter, **kwargs)


def sewer(code, *xys, diameter=300, **kwargs) -> SewerPipe:
    return SewerPipe.objects.create(code=code, geom=line(*xys), diameter_mm=diameter, **kwargs)


def valve(code, x, y, **kwargs) -> Valve:
    return Valve.objects.create(code=code, geom=pt(x, y), **kwargs)


_parcel = {}


def connected_account(pipe_obj, x, y):
    """An account whose service point is 10 m off (x, y), connected to ``pipe_obj`` at (x, y)."""
    if "p" not in _parcel or not type(_parcel["p"]).objects.filter(pk=_parcel["p"].pk).exists():
        _parcel["p"] = ParcelFactory(geom=square(ORIGIN_X - 500, ORIGIN_Y - 500, 10))
        _parcel["c"] = CustomerFactory()
    account = ServiceAccountFactory(
        parcel=_parcel["p"], customer=_parcel["c"], service_point=pt(x, y + 10)
    )
    ServiceConnection.objects.create(account=account, pipe=pipe_obj, geom=pt(x, y))
    return account
