"""The ledger bench/aging.py generates (bills with discounts, payments with settlements,
bounced payments, overpayments), at a few accounts: the aging statement agrees with the
per-account rules on it, so the benchmark times a correct report."""

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest
from django.db import connection

from billing import selectors
from billing.collection import aging
from tests.billing.factories import add_account, town

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_module():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_aging", BENCH / "aging.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


def test_the_bench_ledger_ages_the_same_in_sql_and_per_account():
    place = town()
    accounts = [
        add_account(place, m3=10, use="commercial" if i % 3 else "domestic") for i in range(40)
    ]
    bench = bench_module()
    with connection.cursor() as cursor:
        # Triggers stay on here: the settlement trigger checks every generated settlement.
        for statement in bench.LEDGER_SQL:
            cursor.execute(statement, {"seed": "7"})
    day = dt.date.fromisoformat(bench.DAY)
    got = aging.accounts_aging(day=day)
    assert len(got) == len(accounts)
    for account in accounts:
        py = selectors.account_aging(account=account, on=day)
        row = got[account.pk]
        assert (row.current, row.d0_30, row.d31_60, row.d61_90) == (
            py["current"],
            py["1-30"],
            py["31-60"],
            py["61-90"],
        )
        assert row.d91_180 + row.d180 == py["90+"]
        assert row.balance == selectors.account_balance(account=account)
    summary = aging.accounts_aging(day=day, detail=False)
    assert {pk: (r.buckets(), r.balance) for pk, r in summary.items()} == {
        pk: (r.buckets(), r.balance) for pk, r in got.items()
    }
    with connection.cursor() as cursor:
        cursor.execute(bench.BASELINE_SQL, {"day": day})
        assert cursor.fetchall()
