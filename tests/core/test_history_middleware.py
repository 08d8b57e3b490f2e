"""core.middleware.HistoryMiddleware: writes are attributed to the request's user, who is
loaded only when the request reads it."""

import pghistory.models
import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.utils.functional import SimpleLazyObject

from cadastre.models import LandUse
from core.middleware import HistoryMiddleware
from tests.factories import ParcelFactory, UserFactory

pytestmark = pytest.mark.django_db


def _lazy(user, loads):
    def load():
        loads.append(1)
        return user

    return SimpleLazyObject(load)


def _update_event(parcel):
    return pghistory.models.Events.objects.tracks(parcel).filter(pgh_label="update").get()


def _relabel(parcel):
    parcel.land_use = LandUse.COMMERCIAL
    parcel.save(update_fields=["land_use"])


def test_a_write_after_the_view_reads_the_user_is_attributed_to_them(rf):
    editor = UserFactory(username="lectora")
    parcel = ParcelFactory(land_use=LandUse.RESIDENTIAL)
    request = rf.post("/api/cadastre/parcels/1/")
    loads = []
    request.user = _lazy(editor, loads)

    def view(request):
        assert request.user.is_authenticated  # the permission check every writing view makes
        _relabel(parcel)
        return HttpResponse()

    HistoryMiddleware(view)(request)
    context = _update_event(parcel).pgh_context
    assert context["user"] == editor.pk
    assert context["url"] == "/api/cadastre/parcels/1/"
    assert loads == [1]


def test_a_request_that_never_reads_the_user_does_not_load_it(rf):
    request = rf.get("/tiles/parcels/16/1/1.mvt")
    loads = []
    request.user = _lazy(UserFactory(username="nadie"), loads)
    response = HistoryMiddleware(lambda request: HttpResponse("ok"))(request)
    assert response.content == b"ok"
    assert loads == []


def test_a_user_set_by_the_view_is_attributed_to_them(rf):
    # DRF authenticates inside the view and assigns request.user there.
    editor = UserFactory(username="por_token")
    parcel = ParcelFactory(land_use=LandUse.RESIDENTIAL)
    request = rf.patch("/api/x/")
    request.user = _lazy(AnonymousUser(), [])

    def view(request):
        request.user = editor
        _relabel(parcel)
        return HttpResponse()

    HistoryMiddleware(view)(request)
    assert _update_event(parcel).pgh_context["user"] == editor.pk


def test_an_anonymous_write_is_recorded_without_a_user(rf):
    parcel = ParcelFactory(land_use=LandUse.RESIDENTIAL)
    request = rf.post("/pay/")
    request.user = _lazy(AnonymousUser(), [])

    def view(request):
        assert not request.user.is_authenticated
        _relabel(parcel)
        return HttpResponse()

    HistoryMiddleware(view)(request)
    context = _update_event(parcel).pgh_context
    assert context["user"] is None
    assert context["url"] == "/pay/"
