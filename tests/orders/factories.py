"""Crews, crew members and orders for the work-order tests."""

import io
import uuid

from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core import roles
from orders.models import Crew, CrewMember
from orders.services import work_order_assign, work_order_create
from tests.cadastre.factories_census import parcel_at
from tests.factories import ORIGIN_X, ORIGIN_Y, UserFactory


def here(dx: float = 0, dy: float = 0) -> Point:
    from django.conf import settings

    return Point(ORIGIN_X + dx, ORIGIN_Y + dy, srid=settings.CAUDAL_SRID)


def crew(code="C1", *, skills=("inspection", "meters", "plumbing"), at=(0, 0), **kwargs) -> Crew:
    return Crew.objects.create(
        code=code, name=f"Cuadrilla {code}", base=here(*at), skills=list(skills), **kwargs
    )


def member(c: Crew, username: str | None = None):
    user = UserFactory(username=username or f"op-{c.code.lower()}", roles=[roles.FIELD_CREW])
    CrewMember.objects.create(crew=c, user=user)
    return user


def dispatcher():
    return UserFactory(username="despacho", roles=[roles.CUSTOMER_SERVICE])


def order(kind="inspection", *, user=None, at=(10, 10), **kwargs):
    user = user or dispatcher()
    return work_order_create(
        kind=kind,
        reason="Revisar",
        location=here(*at),
        parcel=kwargs.pop("parcel", None) or parcel_at(0),
        user=user,
        **kwargs,
    )


def assigned(kind="inspection", *, c: Crew, **kwargs):
    o = order(kind, **kwargs)
    return work_order_assign(order=o, crew=c, user=o.created_by)


def jpeg(name="foto.jpg") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def new_id() -> str:
    return str(uuid.uuid4())
