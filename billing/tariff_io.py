"""Tariff sets as files: YAML or JSON in, the same shape out.

The shape (monthly figures; amounts and rates as strings or numbers, read as Decimal)::

    code: T2027
    name: Tarifas 2027
    valid_from: 2027-01-01
    valid_to: null              # open-ended
    vat_rate: "0.16"
    rounding_unit: "1.00"       # the total is rounded to it (0.01 = to the cent)
    late_fee_pct: "1.5"         # % a month of the overdue balance
    discounts:
      - {code: retiree, name: Jubilados y pensionados, pct: "50", cap_m3: "20"}
    tariffs:
      - use_type: domestic
        zone: T1                # tariff-zone code; omitted or null: every other zone
        fixed_charge: "35.00"
        block_method: incremental   # or whole_volume
        minimum_m3: "5"
        sewer_pct: "20"
        sanitation_pct: "10"
        vat: false
        flat_rate: "180.00"     # cuota fija for unmetered accounts; omitted: none
        blocks:                 # "up to" limits in m³, the last one null
          - {up_to: 10, price: "5.50"}
          - {up_to: 20, price: "8.00"}
          - {up_to: null, price: "12.00"}

:func:`tariff_set_parse` checks everything and raises :class:`BillingError` (code
``invalid_tariff``) naming the entry and field at fault.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

import yaml
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.pricing import (
    BLOCK_METHODS,
    INCREMENTAL,
    Block,
    DiscountSpec,
    TariffSetSpec,
    TariffSpec,
)

USE_TYPES = ("domestic", "commercial", "industrial", "public", "mixed")


def _fail(where: str, message) -> BillingError:
    return BillingError(
        "invalid_tariff",
        _("Tariff file, %(where)s: %(message)s") % {"where": where, "message": message},
        field=where,
    )


def _decimal(value, where: str, *, minimum=None, maximum=None, allow_none=False) -> Decimal | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or value is None:
        raise _fail(where, _("a number is required."))
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(where, _("“%(value)s” is not a number.") % {"value": value}) from None
    if not number.is_finite():
        raise _fail(where, _("a finite number is required."))
    if minimum is not None and number < minimum:
        raise _fail(where, _("must be at least %(min)s.") % {"min": minimum})
    if maximum is not None and number > maximum:
        raise _fail(where, _("must be at most %(max)s.") % {"max": maximum})
    return number


def _date(value, where: str, *, allow_none=False) -> dt.date | None:
    if value is None and allow_none:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(where, _("a date (YYYY-MM-DD) is required.")) from None


def _text(value, where: str, *, max_length: int) -> str:
    if not isinstance(value, str | int) or not str(value).strip():
        raise _fail(where, _("a text is required."))
    text = str(value).strip()
    if len(text) > max_length:
        raise _fail(where, _("at most %(n)s characters.") % {"n": max_length})
    return text


def tariff_file_load(content: str | bytes) -> dict:
    """YAML (JSON is YAML too) into a dict; a broken file raises ``invalid_tariff``."""
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        # yaml's own message is English parser talk; the clerk needs where to look.
        mark = getattr(exc, "problem_mark", None)
        if mark is None:
            raise _fail(_("file"), _("it is not valid YAML or JSON.")) from None
        raise _fail(
            _("file"),
            _("it is not valid YAML or JSON near line %(line)s, column %(column)s.")
            % {"line": mark.line + 1, "column": mark.column + 1},
        ) from None
    if not isinstance(data, dict):
        raise _fail(_("file"), _("a mapping with code, valid_from and tariffs is expected."))
    return data


def tariff_set_parse(data: dict) -> TariffSetSpec:
    """A checked :class:`TariffSetSpec` from the file's dict (see the module docstring)."""
    zero = Decimal(0)
    valid_from = _date(data.get("valid_from"), "valid_from")
    valid_to = _date(data.get("valid_to"), "valid_to", allow_none=True)
    if valid_to is not None and valid_to < valid_from:
        raise _fail("valid_to", _("must not be before valid_from."))
    rounding_unit = _decimal(
        data.get("rounding_unit", "0.01"), "rounding_unit", minimum=Decimal("0.01")
    )
    discounts = []
    for i, item in enumerate(data.get("discounts") or []):
        where = f"discounts[{i}]"
        if not isinstance(item, dict):
            raise _fail(where, _("a mapping is expected."))
        discounts.append(
            DiscountSpec(
                code=_text(item.get("code"), f"{where}.code", max_length=20),
                name=_text(item.get("name", item.get("code")), f"{where}.name", max_length=80),
                pct=_decimal(item.get("pct"), f"{where}.pct", minimum=zero, maximum=Decimal(100)),
                cap_m3=_decimal(item.get("cap_m3"), f"{where}.cap_m3", minimum=zero),
            )
        )
    if len({d.code for d in discounts}) != len(discounts):
        raise _fail("discounts", _("a discount code is repeated."))
    tariffs = []
    raw_tariffs = data.get("tariffs")
    if not isinstance(raw_tariffs, list) or not raw_tariffs:
        raise _fail("tariffs", _("at least one tariff is required."))
    for i, item in enumerate(raw_tariffs):
        where = f"tariffs[{i}]"
        if not isinstance(item, dict):
            raise _fail(where, _("a mapping is expected."))
        use_type = item.get("use_type")
        if use_type not in USE_TYPES:
            raise _fail(
                f"{where}.use_type",
                _("use one of: %(choices)s.") % {"choices": ", ".join(USE_TYPES)},
            )
        zone = item.get("zone")
        zone = None if zone in (None, "") else _text(zone, f"{where}.zone", max_length=20)
        method = item.get("block_method", INCREMENTAL)
        if method not in BLOCK_METHODS:
            raise _fail(
                f"{where}.block_method",
                _("use one of: %(choices)s.") % {"choices": ", ".join(BLOCK_METHODS)},
            )
        blocks = []
        lower = zero
        raw_blocks = item.get("blocks") or []
        for j, raw in enumerate(raw_blocks):
            bwhere = f"{where}.blocks[{j}]"
            if not isinstance(raw, dict):
                raise _fail(bwhere, _("a mapping is expected."))
            last = j == len(raw_blocks) - 1
            upper = _decimal(raw.get("up_to"), f"{bwhere}.up_to", allow_none=True)
            if upper is None and not last:
                raise _fail(bwhere, _("only the last block may have no limit."))
            if upper is not None and upper <= lower:
                raise _fail(bwhere, _("limits must increase."))
            price = _decimal(raw.get("price"), f"{bwhere}.price", minimum=zero)
            blocks.append(Block(from_m3=lower, to_m3=upper, price=price))
            lower = upper
        if blocks and blocks[-1].to_m3 is not None:
            raise _fail(f"{where}.blocks", _("the last block must have no limit (up_to: null)."))
        if not blocks and item.get("flat_rate") is None:
            raise _fail(where, _("blocks or a flat rate are required."))
        tariffs.append(
            TariffSpec(
                use_type=use_type,
                zone=zone,
                # A negative fixed charge is a subsidy; the run holds a negative bill.
                fixed_charge=_decimal(item.get("fixed_charge", 0), f"{where}.fixed_charge"),
                block_method=method,
                blocks=tuple(blocks),
                minimum_m3=_decimal(item.get("minimum_m3", 0), f"{where}.minimum_m3", minimum=zero),
                sewer_pct=_decimal(
                    item.get("sewer_pct", 0),
                    f"{where}.sewer_pct",
                    minimum=zero,
                    maximum=Decimal(500),
                ),
                sanitation_pct=_decimal(
                    item.get("sanitation_pct", 0),
                    f"{where}.sanitation_pct",
                    minimum=zero,
                    maximum=Decimal(500),
                ),
                vat=bool(item.get("vat", False)),
                flat_rate=_decimal(
                    item.get("flat_rate"), f"{where}.flat_rate", minimum=zero, allow_none=True
                ),
            )
        )
    keys = [(t.use_type, t.zone) for t in tariffs]
    if len(set(keys)) != len(keys):
        raise _fail("tariffs", _("two tariffs for the same use type and zone."))
    return TariffSetSpec(
        code=_text(data.get("code"), "code", max_length=20),
        name=_text(data.get("name", data.get("code")), "name", max_length=120),
        valid_from=valid_from,
        valid_to=valid_to,
        vat_rate=_decimal(
            data.get("vat_rate", "0.16"), "vat_rate", minimum=zero, maximum=Decimal(1)
        ),
        rounding_unit=rounding_unit,
        late_fee_pct=_decimal(
            data.get("late_fee_pct", 0), "late_fee_pct", minimum=zero, maximum=Decimal(100)
        ),
        tariffs=tuple(tariffs),
        discounts=tuple(discounts),
    )


def tariff_set_dump(spec: TariffSetSpec) -> dict:
    """The file's dict of a spec (decimals as strings, so nothing is lost)."""

    def s(value):
        return None if value is None else str(value)

    return {
        "code": spec.code,
        "name": spec.name,
        "valid_from": spec.valid_from.isoformat(),
        "valid_to": spec.valid_to.isoformat() if spec.valid_to else None,
        "vat_rate": s(spec.vat_rate),
        "rounding_unit": s(spec.rounding_unit),
        "late_fee_pct": s(spec.late_fee_pct),
        "discounts": [
            {"code": d.code, "name": d.name, "pct": s(d.pct), "cap_m3": s(d.cap_m3)}
            for d in spec.discounts
        ],
        "tariffs": [
            {
                "use_type": t.use_type,
                "zone": t.zone,
                "fixed_charge": s(t.fixed_charge),
                "block_method": t.block_method,
                "minimum_m3": s(t.minimum_m3),
                "sewer_pct": s(t.sewer_pct),
                "sanitation_pct": s(t.sanitation_pct),
                "vat": t.vat,
                "flat_rate": s(t.flat_rate),
                "blocks": [{"up_to": s(b.to_m3), "price": s(b.price)} for b in t.blocks],
            }
            for t in spec.tariffs
        ],
    }


def tariff_set_dumps(spec: TariffSetSpec, *, fmt: str = "yaml") -> str:
    data = tariff_set_dump(spec)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
