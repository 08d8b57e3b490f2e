"""Tariff simulation: a draft set priced on the last period's consumptions against the
adopted one, by use type and zone, nothing written."""

import copy
from decimal import Decimal as D

import pytest

from billing import services
from billing.models import Bill, LedgerEntry
from billing.simulation import tariff_simulate
from billing.tariff_io import tariff_set_parse
from tests.billing.factories import TARIFF, add_account, town

pytestmark = pytest.mark.django_db


def draft_set(**changes):
    data = copy.deepcopy(TARIFF)
    data["code"] = "T-DRAFT"
    data["tariffs"][0].update(changes)
    return services.tariff_set_import(spec=tariff_set_parse(data))


def test_simulation_reports_revenue_change_and_distribution_by_use_and_zone():
    t = town()
    add_account(t, m3=25)  # 286.00 now; fixed 60 → 60 + 190 + 50 + 25 = 325.00
    add_account(t, m3=25)
    add_account(t, use="commercial", m3=10)  # unchanged: 217.50
    add_account(t, use="industrial", m3=10)  # no tariff in either set
    draft = draft_set(fixed_charge="60.00")
    result = tariff_simulate(draft=draft)
    rows = {(r["use_type"], r["zone"]): r for r in result["rows"]}
    domestic = rows[("domestic", "T2")]
    assert (domestic["accounts"], domestic["current"], domestic["draft"]) == (
        2,
        D("572.00"),
        D("650.00"),
    )
    assert domestic["change_pct"] == D("13.64")
    assert domestic["distribution"]["10 … 25 %"] == 2
    commercial = rows[("commercial", "T2")]
    assert commercial["change"] == 0
    assert commercial["distribution"]["0"] == 1
    assert rows[("industrial", "T2")]["unpriced"] == 1
    assert result["change"] == D("78.00")
    assert result["periods"] == ["1/2026-04"]
    assert not Bill.objects.exists() and not LedgerEntry.objects.exists()
