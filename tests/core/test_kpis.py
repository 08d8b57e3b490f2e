"""core.kpis: figures declared by the apps, shown to the roles allowed to see them."""

import datetime as dt

import pytest
from django.utils import timezone

from core import kpis, roles
from orders.models import WorkOrder
from tests.factories import UserFactory
from tests.orders.factories import order

pytestmark = pytest.mark.django_db


def test_the_apps_figures_are_discovered_in_order():
    keys = [k.key for k in kpis.registry.all()]
    assert {"orders_open", "orders_late", "nrw_pct_latest_month", "readings_to_review"} <= set(keys)
    orders = [k.order for k in kpis.registry.all()]
    assert orders == sorted(orders)


def test_open_and_late_orders_are_counted(client):
    order()
    late = order()
    WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(UserFactory(username="gerente", roles=[roles.MANAGER]))
    values = {k["key"]: k for k in client.get("/api/kpis/", HTTP_ACCEPT_LANGUAGE="es-mx").json()}
    assert values["orders_open"]["value"] == 2
    assert values["orders_late"]["value"] == 1
    assert values["orders_late"]["label"] == "Órdenes de trabajo vencidas"
    assert values["nrw_pct_latest_month"]["value"] is None  # no balance computed yet


def test_a_meter_reader_sees_no_office_figures(client):
    client.force_login(UserFactory(username="lector", roles=[roles.METER_READER]))
    keys = {k["key"] for k in client.get("/api/kpis/").json()}
    assert "readings_to_review" not in keys and "nrw_pct_latest_month" not in keys


def test_signed_out_visitors_get_nothing(client):
    assert client.get("/api/kpis/").status_code in (401, 403)


def test_money_figures_are_decimal_strings_never_floats():
    from decimal import Decimal

    assert kpis._json_value(Decimal("1234567.89"), unit="mxn") == "1234567.89"
    assert kpis._json_value(Decimal("22.5"), unit="pct") == 22.5
    assert kpis._json_value(7, unit="count") == 7
    assert kpis._json_value(None, unit="mxn") is None
