"""The nightly task and its schedule, and the permissions collections grants."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django_celery_beat.models import PeriodicTask

from billing.collection.models import CollectionAction
from billing.collection.tasks import collection_evaluate_task
from core import roles
from tests.billing.factories import add_account, town
from tests.collection.helpers import bill

pytestmark = pytest.mark.django_db


def test_the_nightly_evaluation_is_scheduled_by_a_data_migration():
    task = PeriodicTask.objects.get(name="Collections: evaluation (nightly)")
    assert task.task == "collection.evaluate" and task.enabled


def test_the_task_evaluates_a_day_and_reports_what_it_did():
    account = add_account(town(), m3=10)
    bill(account, dt.date(2026, 1, 15), ("water", "100.00"))
    summary = collection_evaluate_task.run("2026-01-16")
    assert summary["actions"] == {"reminder": 1} and summary["inspections"] == 0
    assert CollectionAction.objects.get(account=account).kind == "reminder"


def perms(role):
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_collectors_and_clerks_manage_actions_managers_evaluate_readers_read():
    for role in (roles.COLLECTOR, roles.BILLING_CLERK):
        assert {"view_collectionaction", "change_collectionaction", "view_aging"} <= perms(role)
        assert "evaluate_collection" not in perms(role)
    for role in (roles.MANAGER, roles.ADMIN):
        assert {"evaluate_collection", "change_collectionpolicy", "add_largeconsumer"} <= perms(
            role
        )
    assert {"view_collectionaction", "view_aging"} <= perms(roles.AUDITOR)
    assert "change_collectionaction" not in perms(roles.AUDITOR)
    assert "view_collectionaction" not in perms(roles.CASHIER)
