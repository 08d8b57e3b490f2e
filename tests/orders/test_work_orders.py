"""Work orders: numbering, idempotent creation by finding, refused transitions, permissions."""

import re
import threading

import pghistory.models
import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import translation

from core import roles
from orders.models import WorkOrder, WorkOrderStatus
from orders.services import (
    WorkOrderError,
    work_order_cancel,
    work_order_create,
    work_order_status_change,
)
from tests.cadastre.factories_census import ServiceAccountFactory, parcel_at
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SOURCE = "census_reconciliation"


def _create(user, **overrides):
    parcel = overrides.pop("parcel") if "parcel" in overrides else parcel_at(0)
    where = parcel or overrides["account"].parcel
    kwargs = {
        "kind": "inspection",
        "reason": "Revisar toma",
        "location": where.geom.point_on_surface,
        "parcel": parcel,
        "source": SOURCE,
        "source_ref": f"no_account:parcel:{where.pk}",
        "user": user,
    }
    kwargs.update(overrides)
    return work_order_create(**kwargs)


def test_order_number_is_readable_and_unique():
    user = UserFactory()
    first = _create(user, source_ref="a")
    second = _create(user, source_ref="b")
    assert re.fullmatch(r"OT-20[0-9]{2}-[0-9]{6}", first.number)
    assert first.number != second.number
    assert first.created_at.tzinfo is not None


def test_same_finding_twice_gives_one_open_order():
    user = UserFactory()
    parcel = parcel_at(0)
    first = _create(user, parcel=parcel)
    again = _create(user, parcel=parcel)
    assert (first.was_created, again.was_created) == (True, False)
    assert again.pk == first.pk
    assert WorkOrder.objects.count() == 1


def test_after_cancelling_the_same_finding_makes_a_new_order():
    user = UserFactory()
    parcel = parcel_at(0)
    first = _create(user, parcel=parcel)
    work_order_cancel(order=first, user=user, reason="Duplicada")
    second = _create(user, parcel=parcel)
    assert second.was_created and second.pk != first.pk
    assert WorkOrder.objects.filter(status=WorkOrderStatus.CREATED).count() == 1


def test_database_refuses_two_open_orders_for_one_finding():
    user = UserFactory()
    order = _create(user, source_ref="k1")
    duplicate = WorkOrder(
        number="OT-2026-999999",
        kind_id="inspection",
        reason="x",
        source=order.source,
        source_ref="k1",
        location=order.location,
        created_by=user,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_requests_for_one_finding_create_one_order():
    user = UserFactory()
    parcel = parcel_at(0)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def request():
        try:
            barrier.wait(timeout=10)
            results.append(_create(user, parcel=parcel).pk)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert WorkOrder.objects.count() == 1


def test_location_in_wgs84_is_stored_in_the_storage_srid():
    user = UserFactory()
    parcel = parcel_at(0)
    centre = parcel.geom.centroid
    gps = centre.transform(4326, clone=True)
    order = _create(user, parcel=parcel, location=Point(gps.x, gps.y, srid=4326))
    order.refresh_from_db()
    assert order.location.srid == settings.CAUDAL_SRID
    assert order.location.distance(centre) < 0.01


def test_account_without_parcel_takes_the_accounts_parcel_and_a_mismatch_is_refused():
    user = UserFactory()
    account = ServiceAccountFactory(parcel=parcel_at(0))
    order = _create(user, parcel=None, account=account, source_ref="x1")
    assert order.parcel_id == account.parcel_id
    with pytest.raises(WorkOrderError) as excinfo:
        _create(user, parcel=parcel_at(1), account=account, source_ref="x2")
    assert excinfo.value.code == "account_parcel_mismatch"


def test_source_ref_without_source_is_refused():
    with pytest.raises(WorkOrderError) as excinfo:
        _create(UserFactory(), source="", source_ref="k")
    assert excinfo.value.code == "source_required"


def test_cancelling_twice_is_refused_with_a_clear_message():
    user = UserFactory()
    order = _create(user)
    cancelled = work_order_cancel(order=order, user=user, reason="Ya atendida")
    assert cancelled.status == WorkOrderStatus.CANCELLED
    assert cancelled.cancelled_by == user and cancelled.cancelled_at is not None
    with translation.override("es-mx"), pytest.raises(WorkOrderError) as excinfo:
        work_order_cancel(order=order, user=user)
    assert excinfo.value.code == "transition_not_allowed"
    assert order.number in excinfo.value.message
    assert "Cancelada" in excinfo.value.message


@pytest.mark.parametrize("target", ["assigned", "in_progress", "done", "failed", "created"])
def test_transitions_other_than_cancel_are_refused(target):
    user = UserFactory()
    order = _create(user)
    with translation.override("en"), pytest.raises(WorkOrderError) as excinfo:
        work_order_status_change(order=order, status=target, user=user)
    assert excinfo.value.code == "transition_not_allowed"
    assert "cannot change from “Created”" in excinfo.value.message
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.CREATED


def test_unknown_status_is_refused():
    user = UserFactory()
    with pytest.raises(WorkOrderError) as excinfo:
        work_order_status_change(order=_create(user), status="lost", user=user)
    assert excinfo.value.code == "status_invalid"


def test_order_creation_and_cancellation_are_in_history():
    user = UserFactory()
    order = _create(user)
    work_order_cancel(order=order, user=user)
    labels = list(
        pghistory.models.Events.objects.tracks(order)
        .order_by("pgh_created_at")
        .values_list("pgh_label", flat=True)
    )
    assert labels == ["insert", "update"]


def test_cancel_api_answers_409_the_second_time(client):
    order = _create(UserFactory())
    client.force_login(UserFactory(roles=[roles.CUSTOMER_SERVICE]))
    url = reverse("orders:work-order-cancel", args=[order.pk])
    first = client.post(url, {"reason": "Duplicada"}, content_type="application/json")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "cancelled"
    second = client.post(url, {}, content_type="application/json")
    assert second.status_code == 409
    assert second.json()["code"] == "transition_not_allowed"
    assert order.number in second.json()["detail"]


@pytest.mark.parametrize(
    ("role", "read", "cancel"),
    [
        (roles.ADMIN, 200, 200),
        (roles.CUSTOMER_SERVICE, 200, 200),
        (roles.FIELD_CREW, 200, 200),
        (roles.CADASTRE_EDITOR, 200, 403),
        (roles.AUDITOR, 200, 403),
        (roles.METER_READER, 200, 403),
    ],
)
def test_work_order_api_permissions(client, role, read, cancel):
    order = _create(UserFactory())
    client.force_login(UserFactory(roles=[role]))
    assert client.get(reverse("orders:work-order-list")).status_code == read
    url = reverse("orders:work-order-cancel", args=[order.pk])
    assert client.post(url, {}, content_type="application/json").status_code == cancel


def test_list_api_shows_orders_with_wgs84_location(client):
    order = _create(UserFactory())
    client.force_login(UserFactory(roles=[roles.MANAGER]))
    body = client.get(reverse("orders:work-order-list"), {"status": "created"}).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["number"] == order.number
    lon, lat = row["lonlat"]
    assert -102 < lon < -99 and 19 < lat < 22


def test_roles_can_do_what_the_census_needs():
    def perms(role):
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert "add_censusvisit" in perms(roles.FIELD_CREW)
    assert "add_censuscampaign" not in perms(roles.FIELD_CREW)
    assert {"view_workorder", "add_workorder"} == {
        p for p in perms(roles.CADASTRE_EDITOR) if p.endswith("_workorder")
    }
    assert {"view_workorder", "add_workorder", "change_workorder"} <= perms(roles.CUSTOMER_SERVICE)
    for role in roles.ROLES:
        assert "view_workorder" in perms(role), role
