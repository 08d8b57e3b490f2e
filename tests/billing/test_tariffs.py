"""Tariff files (YAML/JSON), their import as versioned data, and tariff_preview."""

import copy
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from billing import services
from billing.errors import BillingError
from billing.models import TariffSet
from billing.tariff_io import tariff_file_load, tariff_set_dumps, tariff_set_parse
from tests.billing.factories import TARIFF, town

DEMO_FILE = Path(__file__).resolve().parents[2] / "billing" / "fixtures" / "tariffs_demo.yaml"


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_then_import_gives_the_same_tariff(fmt):
    spec = tariff_set_parse(tariff_file_load(DEMO_FILE.read_text()))
    again = tariff_set_parse(tariff_file_load(tariff_set_dumps(spec, fmt=fmt)))
    assert again == spec


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            lambda d: d["tariffs"][0]["blocks"].__setitem__(1, {"up_to": 5, "price": "1"}),
            "blocks[1]",
        ),
        (lambda d: d["tariffs"][0]["blocks"].pop(), "blocks"),
        (lambda d: d["tariffs"][0].__setitem__("use_type", "hotel"), "use_type"),
        (lambda d: d["tariffs"][0].__setitem__("sewer_pct", "-1"), "sewer_pct"),
        (lambda d: d["tariffs"][0].__setitem__("block_method", "average"), "block_method"),
        (lambda d: d["tariffs"].append(copy.deepcopy(d["tariffs"][0])), "tariffs"),
        (lambda d: d.__setitem__("valid_to", "2025-01-01"), "valid_to"),
        (lambda d: d["discounts"][0].__setitem__("pct", "150"), "pct"),
        (lambda d: d["tariffs"][0]["blocks"][0].__setitem__("price", "abc"), "price"),
    ],
)
def test_invalid_tariff_files_are_refused_naming_the_field(change, where):
    data = copy.deepcopy(TARIFF)
    change(data)
    with pytest.raises(BillingError) as refused:
        tariff_set_parse(data)
    assert refused.value.code == "invalid_tariff"
    assert where in refused.value.field


def test_broken_yaml_is_refused():
    with pytest.raises(BillingError) as refused:
        tariff_file_load("code: [unclosed")
    assert refused.value.code == "invalid_tariff"


def test_broken_yaml_message_says_where_in_the_clerks_language():
    with translation.override("es-mx"), pytest.raises(BillingError) as refused:
        tariff_file_load("code: [unclosed")
    assert "línea 1, columna 16" in refused.value.message


@pytest.mark.django_db
def test_import_stores_a_draft_that_exports_unchanged():
    town()  # zones T1, T2 and the adopted T-TEST
    data = copy.deepcopy(TARIFF)
    data["code"] = "T-NEXT"
    spec = tariff_set_parse(data)
    stored = services.tariff_set_import(spec=spec)
    assert stored.status == "draft"
    assert services.tariff_set_spec(stored) == spec


@pytest.mark.django_db
def test_import_refuses_unknown_zones():
    data = copy.deepcopy(TARIFF)
    data["tariffs"][1]["zone"] = "NOPE"
    with pytest.raises(BillingError) as refused:
        services.tariff_set_import(spec=tariff_set_parse(data))
    assert refused.value.code == "unknown_zone"
    assert not TariffSet.objects.exists()


@pytest.mark.django_db
def test_adopted_sets_cannot_overlap_in_time():
    t = town()  # T-TEST adopted from 2026-01-01, open-ended
    data = copy.deepcopy(TARIFF)
    data.update(code="T-2027", valid_from="2027-01-01")
    successor = services.tariff_set_import(spec=tariff_set_parse(data))
    with pytest.raises(BillingError) as refused:
        services.tariff_set_adopt(tariff_set=successor)
    assert refused.value.code == "overlapping_tariff"
    services.tariff_set_close(tariff_set=t.tariff_set, valid_to=dt.date(2026, 12, 31))
    assert services.tariff_set_adopt(tariff_set=successor).status == "adopted"
    assert services.tariff_set_for(dt.date(2027, 3, 1)) == successor
    assert services.tariff_set_for(dt.date(2026, 3, 1)) == t.tariff_set


def test_tariff_preview_prints_each_line_and_the_total():
    out = io.StringIO()
    call_command(
        "tariff_preview",
        tariff=str(DEMO_FILE),
        use="domestic",
        zone="T2",
        m3="25",
        months=2,
        discount="retiree",
        stdout=out,
    )
    text = out.getvalue()
    lines = text.splitlines()
    assert any(
        line.startswith("water 1") and line.split()[-2:] == ["102.00", "0.00"] for line in lines
    )
    assert any(line.startswith("discount") and "-71.50" in line for line in lines)
    # 70 + 102 + 41 - 71.50 + 42.60 + 21.30 = 205.40 → rounded to 0.50: 205.50.
    assert lines[-1].split()[-1] == "205.50"


def test_tariff_preview_refuses_a_use_without_tariff():
    with pytest.raises(CommandError):
        call_command("tariff_preview", tariff=str(DEMO_FILE), use="industrial", flat=True)
