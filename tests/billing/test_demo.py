"""The demo city's billing: tariffs by use and zone, a calendar, and the last months billed
with every bill balanced against its lines and the ledger."""

import pytest
from django.conf import settings
from django.db import connection

from billing.models import Bill, BillingCalendar, BillingRun, LedgerEntry, RunStatus, TariffSet
from core.demo import DemoContext
from core.services import demo_city_build
from tests.conftest import rolled_back_transaction

ACCOUNTS = 1500

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    ctx = DemoContext(
        accounts=ACCOUNTS,
        seed=5,
        srid=settings.CAUDAL_SRID,
        center_lonlat=tuple(settings.CAUDAL_DEMO_CENTER),
    )
    with rolled_back_transaction(django_db_blocker):
        demo_city_build(ctx=ctx, only=("billing.billing",), log=lambda _m: None)
        yield


def scalar(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_one_adopted_tariff_set_with_zone_tariffs(city):
    tariff_set = TariffSet.objects.get(status="adopted")
    zones = set(tariff_set.tariffs.filter(use_type="domestic").values_list("zone__code", flat=True))
    assert None in zones
    assert zones <= {"T1", "T3", None}


def test_last_three_months_of_every_cycle_are_billed(city):
    cycles = scalar("SELECT count(DISTINCT billing_cycle) FROM cadastre_serviceaccount")
    assert BillingRun.objects.filter(status=RunStatus.DONE).count() == 3 * cycles
    assert BillingCalendar.objects.count() >= 12 * cycles
    active = scalar("SELECT count(*) FROM cadastre_serviceaccount WHERE status <> 'inactive'")
    assert Bill.objects.count() == 3 * active
    held = Bill.objects.filter(status="held").count()
    assert 0 < held < Bill.objects.count() * 0.2


def test_every_issued_bill_is_its_lines_and_its_ledger_entries(city):
    assert not scalar(
        """SELECT count(*) FROM billing_bill b
            WHERE b.total <> (SELECT coalesce(sum(amount + tax), 0) FROM billing_billline l
                               WHERE l.bill_id = b.id)
               OR (b.status = 'issued' AND b.total <> (
                    SELECT coalesce(sum(amount), 0) FROM billing_ledgerentry e
                     WHERE e.document_type = 'bill' AND e.document_id = b.id))"""
    )
    assert LedgerEntry.objects.exists()
    # Balances carry over: later bills show the earlier ones as previous balance.
    assert Bill.objects.filter(previous_balance__gt=0).exists()
