"""The tariff engine against bills computed by hand, one component at a time."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.pricing import (
    INCREMENTAL,
    WHOLE_VOLUME,
    Block,
    DiscountSpec,
    TariffSpec,
    bill_price,
    money,
)

BLOCKS = (
    Block(D("0"), D("10"), D("5.00")),
    Block(D("10"), D("20"), D("8.00")),
    Block(D("20"), None, D("12.00")),
)
DOMESTIC = TariffSpec(
    use_type="domestic",
    zone=None,
    fixed_charge=D("30.00"),
    block_method=INCREMENTAL,
    blocks=BLOCKS,
    minimum_m3=D("5"),
    sewer_pct=D("20"),
    sanitation_pct=D("10"),
    flat_rate=D("180.00"),
)
WHOLE = TariffSpec(**{**DOMESTIC.__dict__, "block_method": WHOLE_VOLUME})


def amounts(quote):
    return [
        (line.concept, line.block, line.quantity, line.amount, line.tax) for line in quote.lines
    ]


def test_incremental_blocks_price_each_block_for_the_m3_inside_it():
    quote = bill_price(tariff=DOMESTIC, m3=D("25"))
    assert amounts(quote) == [
        ("fixed", None, D("1"), D("30.00"), 0),
        ("water", 1, D("10"), D("50.00"), 0),
        ("water", 2, D("10"), D("80.00"), 0),
        ("water", 3, D("5"), D("60.00"), 0),
        ("sewer", None, D("20"), D("44.00"), 0),  # 20 % of 30 + 190
        ("sanitation", None, D("10"), D("22.00"), 0),
    ]
    assert quote.total == D("286.00")


def test_whole_volume_prices_every_m3_at_the_block_reached():
    quote = bill_price(tariff=WHOLE, m3=D("25"))
    assert [(c, b, a) for c, b, _q, a, _t in amounts(quote)] == [
        ("fixed", None, D("30.00")),
        ("water", 3, D("300.00")),
        ("sewer", None, D("66.00")),
        ("sanitation", None, D("33.00")),
    ]
    assert quote.total == D("429.00")


def test_whole_volume_on_a_limit_takes_the_lower_block():
    quote = bill_price(tariff=WHOLE, m3=D("20"))
    water = [line for line in quote.lines if line.concept == "water"]
    assert [(w.block, w.quantity, w.amount) for w in water] == [(2, D("20"), D("160.00"))]


def test_consumption_below_the_minimum_is_billed_at_the_minimum():
    quote = bill_price(tariff=DOMESTIC, m3=D("3"))
    water = [line for line in quote.lines if line.concept == "water"]
    assert [(w.quantity, w.amount) for w in water] == [(D("5"), D("25.00"))]
    assert quote.total == D("30.00") + D("25.00") + D("11.00") + D("5.50")


def test_months_multiply_fixed_charge_minimum_and_block_limits():
    quote = bill_price(tariff=DOMESTIC, m3=D("25"), months=2)
    assert amounts(quote) == [
        ("fixed", None, D("2"), D("60.00"), 0),
        ("water", 1, D("20"), D("100.00"), 0),
        ("water", 2, D("5"), D("40.00"), 0),
        ("sewer", None, D("20"), D("40.00"), 0),
        ("sanitation", None, D("10"), D("20.00"), 0),
    ]
    assert quote.total == D("260.00")


def test_vat_is_charged_per_line_when_the_use_type_pays_it():
    commercial = TariffSpec(
        use_type="commercial",
        zone=None,
        fixed_charge=D("50.00"),
        blocks=(Block(D("0"), None, D("10.00")),),
        sewer_pct=D("25"),
        vat=True,
    )
    quote = bill_price(tariff=commercial, m3=D("12.5"), vat_rate=D("0.16"))
    assert [(c, a, t) for c, _b, _q, a, t in amounts(quote)] == [
        ("fixed", D("50.00"), D("8.00")),
        ("water", D("125.00"), D("20.00")),
        ("sewer", D("43.75"), D("7.00")),
    ]
    assert quote.charges == D("218.75")
    assert quote.tax == D("35.00")
    assert quote.total == D("253.75")


def test_domestic_use_pays_no_vat():
    assert bill_price(tariff=DOMESTIC, m3=D("25"), vat_rate=D("0.16")).tax == 0


def test_discount_takes_its_percentage_of_the_block_charge_up_to_the_cap():
    retiree = DiscountSpec("retiree", "Jubilados", pct=D("50"), cap_m3=D("15"))
    quote = bill_price(tariff=DOMESTIC, m3=D("25"), discount=retiree)
    discount = next(line for line in quote.lines if line.concept == "discount")
    # Block charge of the first 15 m³: 10 x 5 + 5 x 8 = 90; half of it.
    assert discount.amount == D("-45.00")
    # Sewer and sanitation stay on the water charge before the discount.
    assert quote.total == D("286.00") - D("45.00")


def test_discount_below_the_cap_covers_the_whole_consumption():
    retiree = DiscountSpec("retiree", "Jubilados", pct=D("50"), cap_m3=D("15"))
    quote = bill_price(tariff=DOMESTIC, m3=D("8"), discount=retiree)
    discount = next(line for line in quote.lines if line.concept == "discount")
    assert discount.amount == D("-20.00")  # half of 8 x 5


def test_flat_rate_bills_unmetered_accounts_without_fixed_charge_or_blocks():
    quote = bill_price(tariff=DOMESTIC, m3=None, months=2)
    assert [(c, q, a) for c, _b, q, a, _t in amounts(quote)] == [
        ("flat", D("2"), D("360.00")),
        ("sewer", D("20"), D("72.00")),
        ("sanitation", D("10"), D("36.00")),
    ]
    assert quote.total == D("468.00")


def test_unmetered_account_without_flat_rate_cannot_be_priced():
    with pytest.raises(ValueError):
        bill_price(tariff=TariffSpec(**{**DOMESTIC.__dict__, "flat_rate": None}), m3=None)


def test_sewer_only_account_pays_sewer_on_the_water_it_would_pay():
    quote = bill_price(tariff=DOMESTIC, m3=D("25"), water=False, sanitation=False)
    assert [(c, a) for c, _b, _q, a, _t in amounts(quote)] == [("sewer", D("44.00"))]


def test_total_is_rounded_to_the_unit_with_a_rounding_line():
    tariff = TariffSpec(
        use_type="domestic",
        zone=None,
        fixed_charge=D("30.00"),
        blocks=(Block(D("0"), None, D("7.33")),),
    )
    down = bill_price(tariff=tariff, m3=D("7"), rounding_unit=D("1.00"))
    assert down.lines[-1].concept == "rounding"
    assert down.lines[-1].amount == D("-0.31")  # 81.31 → 81.00
    assert down.total == D("81.00")
    # 7.5 x 7.33 = 54.975 → 54.98 (half away from zero), 84.98 → 85.00.
    up = bill_price(tariff=tariff, m3=D("7.5"), rounding_unit=D("1.00"))
    assert [line.amount for line in up.lines] == [D("30.00"), D("54.98"), D("0.02")]
    half = bill_price(tariff=tariff, m3=D("7"), rounding_unit=D("0.50"))
    assert half.total == D("81.50")


def test_late_payment_surcharge_is_a_monthly_rate_of_the_overdue_balance_without_vat():
    tariff = TariffSpec(**{**DOMESTIC.__dict__, "vat": True})
    quote = bill_price(
        tariff=tariff, m3=D("25"), overdue=D("200.00"), late_fee_pct=D("2"), months=1
    )
    surcharge = next(line for line in quote.lines if line.concept == "surcharge")
    assert (surcharge.amount, surcharge.tax) == (D("4.00"), 0)


def test_negative_fixed_charge_makes_a_negative_bill():
    subsidy = TariffSpec(
        use_type="public",
        zone=None,
        fixed_charge=D("-100.00"),
        blocks=(Block(D("0"), None, D("5.00")),),
    )
    assert bill_price(tariff=subsidy, m3=D("2")).total == D("-90.00")


@settings(max_examples=200, deadline=None)
@given(
    m3=st.decimals(min_value=0, max_value=500, places=3),
    months=st.integers(min_value=1, max_value=3),
)
def test_incremental_never_charges_more_than_whole_volume(m3, months):
    inc = bill_price(tariff=DOMESTIC, m3=m3, months=months)
    whole = bill_price(tariff=WHOLE, m3=m3, months=months)
    assert inc.total <= whole.total
    assert all(line.amount == money(line.amount) for line in inc.lines)
