"""Two real connections: an account assigned while a boundary change is in progress ends up in
the boundaries that change commits, not in the ones it replaced."""

import threading
import time

import pytest
from django.db import connection, transaction

from sectors import services
from sectors.assignment import assign_accounts
from sectors.models import AccountSectors
from tests.sectors.factories import accounts_at, build_town, rect


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_account_assigned_during_a_boundary_change_waits_for_it_and_sees_it():
    town = build_town()
    change_written = threading.Event()
    release = threading.Event()
    finished = {}
    errors = []

    def planner():
        try:
            with transaction.atomic():
                # B1 shrinks to y < 300; the transaction stays open until released.
                services.area_update(kind="book", area=town.b1, geom=rect(0, 0, 500, 300))
                change_written.set()
                release.wait(timeout=20)
                finished["planner"] = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            change_written.set()
            connection.close()

    def cashier():
        try:
            change_written.wait(timeout=20)
            with transaction.atomic():
                account = accounts_at([(100, 400)])[0]  # in the strip B1 gives up
                assign_accounts(account_ids=[account.pk])
                finished["cashier"] = time.monotonic()
                finished["account"] = account.pk
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=planner), threading.Thread(target=cashier)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the cashier is now waiting for the planner's lock
    assert "cashier" not in finished
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert finished["cashier"] >= finished["planner"]
    row = AccountSectors.objects.get(account_id=finished["account"])
    assert (row.sector_id, row.book_id) == (town.s1.pk, None)
