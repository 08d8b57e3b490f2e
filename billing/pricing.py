"""The tariff engine: a pure function from a tariff and a consumption to the lines of a bill.

Decimal only, no database. The billing run computes the same lines in SQL for a whole chunk of
accounts at once (``billing.run_sql``); tests pin both to hand-computed bills and to each other.

Rules (every amount is rounded to the cent, half away from zero, line by line):

- **months** ``K``: a bill may cover several months (bimonthly cycles). The fixed charge, the
  flat rate, the minimum consumption, the block limits and the discount cap are monthly figures
  multiplied by ``K``.
- **minimum billable consumption**: the billable volume is ``max(m³, minimum x K)``.
- **fixed charge**: ``K x fixed`` (metered accounts with the water service).
- **blocks**: ``incremental`` — each block's price applies to the m³ inside it (one line per
  block reached); ``whole_volume`` — the price of the block reached applies to every m³ (one
  line). A volume on a limit belongs to the lower block (limits are "up to").
- **flat rate** (cuota fija): accounts without a meter pay ``K x flat_rate`` instead of the
  fixed charge and the blocks. A tariff without a flat rate cannot bill them (``no_tariff``).
- **discount** (retirees, disability…): ``pct`` % of the block charge of the first ``cap x K``
  billable m³ (the block charge evaluated at ``min(billable, cap x K)``), as a negative line.
- **sewer / sanitation**: ``pct`` % of the water base (fixed charge + block charge, before the
  discount; the flat rate for unmetered accounts), when the account has the service.
- **late-payment surcharge**: ``late_fee_pct`` % a month of the overdue balance, ``x K``.
- **VAT**: when the tariff's use type pays it, each line's tax is ``amount x vat_rate`` (the
  surcharge and the rounding carry none).
- **rounding**: the total (amounts + tax) is rounded to ``rounding_unit`` (0.01, 0.50, 1.00…),
  half away from zero; the difference is a ``rounding`` line.

Percentage lines show the percentage as their quantity and base / 100 as their unit price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

INCREMENTAL = "incremental"
WHOLE_VOLUME = "whole_volume"
BLOCK_METHODS = (INCREMENTAL, WHOLE_VOLUME)

# Concepts of a bill line, in the order of the bill; ``SEQ`` gives each its sequence number
# (water blocks take SEQ["water"] + block number).
FIXED, WATER, FLAT, DISCOUNT, SEWER, SANITATION, SURCHARGE, ROUNDING = (
    "fixed",
    "water",
    "flat",
    "discount",
    "sewer",
    "sanitation",
    "surcharge",
    "rounding",
)
SEQ = {
    FIXED: 10,
    WATER: 20,
    FLAT: 40,
    DISCOUNT: 50,
    SEWER: 60,
    SANITATION: 70,
    SURCHARGE: 80,
    ROUNDING: 90,
}
UNTAXED = (SURCHARGE, ROUNDING)


def money(value: Decimal) -> Decimal:
    """Round to the cent, half away from zero (PostgreSQL's ``round(numeric, 2)``)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_to_unit(value: Decimal, unit: Decimal) -> Decimal:
    return money((value / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP) * unit)


@dataclass(frozen=True)
class Block:
    """Price per m³ of the volume above the previous block's limit and up to ``to_m3``
    (None: no limit). Limits are monthly."""

    from_m3: Decimal
    to_m3: Decimal | None
    price: Decimal


@dataclass(frozen=True)
class TariffSpec:
    use_type: str
    zone: str | None  # tariff-zone code; None: every zone without a tariff of its own
    fixed_charge: Decimal = ZERO
    block_method: str = INCREMENTAL
    blocks: tuple[Block, ...] = ()
    minimum_m3: Decimal = ZERO
    sewer_pct: Decimal = ZERO
    sanitation_pct: Decimal = ZERO
    vat: bool = False
    flat_rate: Decimal | None = None


@dataclass(frozen=True)
class DiscountSpec:
    code: str
    name: str
    pct: Decimal
    cap_m3: Decimal


@dataclass(frozen=True)
class TariffSetSpec:
    code: str
    name: str
    valid_from: object  # datetime.date
    valid_to: object | None
    vat_rate: Decimal = Decimal("0.16")
    rounding_unit: Decimal = CENT
    late_fee_pct: Decimal = ZERO
    tariffs: tuple[TariffSpec, ...] = ()
    discounts: tuple[DiscountSpec, ...] = ()

    def tariff_for(self, use_type: str, zone: str | None) -> TariffSpec | None:
        """The tariff of the use type in the zone, else the use type's tariff for any zone."""
        general = None
        for tariff in self.tariffs:
            if tariff.use_type != use_type:
                continue
            if tariff.zone is not None and tariff.zone == zone:
                return tariff
            if tariff.zone is None:
                general = tariff
        return general

    def discount(self, code: str | None) -> DiscountSpec | None:
        return next((d for d in self.discounts if d.code == code), None)


@dataclass(frozen=True)
class Line:
    concept: str
    seq: int
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax: Decimal = ZERO
    block: int | None = None


@dataclass(frozen=True)
class Quote:
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def charges(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.charges + self.tax


def block_charge(
    tariff: TariffSpec, volume: Decimal, months: int
) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """(block number, m³, price, amount) of each block line for ``volume`` billable m³."""
    k = Decimal(months)
    out = []
    for number, block in enumerate(tariff.blocks, start=1):
        lower = block.from_m3 * k
        upper = None if block.to_m3 is None else block.to_m3 * k
        if tariff.block_method == INCREMENTAL:
            if volume > lower:
                qty = (volume if upper is None else min(volume, upper)) - lower
                out.append((number, qty, block.price, money(qty * block.price)))
        elif (volume > lower and (upper is None or volume <= upper)) or (
            volume == ZERO and lower == ZERO
        ):
            out.append((number, volume, block.price, money(volume * block.price)))
    return out


def bill_price(
    *,
    tariff: TariffSpec,
    m3: Decimal | None,
    months: int = 1,
    vat_rate: Decimal = Decimal("0.16"),
    rounding_unit: Decimal = CENT,
    water: bool = True,
    sewer: bool = True,
    sanitation: bool = True,
    discount: DiscountSpec | None = None,
    overdue: Decimal = ZERO,
    late_fee_pct: Decimal = ZERO,
) -> Quote:
    """The lines of one bill. ``m3`` None means an unmetered account (flat rate).

    Raises ``ValueError`` when an unmetered account's tariff has no flat rate (the run holds
    such a bill as ``no_tariff``)."""
    k = Decimal(months)
    lines: list[Line] = []

    def add(concept, quantity, unit_price, amount, block=None):
        tax = ZERO if not tariff.vat or concept in UNTAXED else money(amount * vat_rate)
        seq = SEQ[concept] + (block or 0)
        lines.append(Line(concept, seq, quantity, unit_price, amount, tax, block))

    if m3 is None:
        if tariff.flat_rate is None:
            raise ValueError("no flat rate")
        base = money(k * tariff.flat_rate)
        if water:
            add(FLAT, k, tariff.flat_rate, base)
    else:
        billable = max(m3, tariff.minimum_m3 * k)
        fixed = money(k * tariff.fixed_charge)
        blocks = block_charge(tariff, billable, months)
        base = fixed + sum((b[3] for b in blocks), ZERO)
        if water:
            if fixed != ZERO:
                add(FIXED, k, tariff.fixed_charge, fixed)
            for number, qty, price, amount in blocks:
                add(WATER, qty, price, amount, block=number)
            if discount is not None and discount.pct > ZERO:
                covered = min(billable, discount.cap_m3 * k)
                discounted = sum((b[3] for b in block_charge(tariff, covered, months)), ZERO)
                amount = -money(discounted * discount.pct / HUNDRED)
                if amount != ZERO:
                    add(DISCOUNT, discount.pct, -discounted / HUNDRED, amount)
    for concept, wanted, pct in (
        (SEWER, sewer, tariff.sewer_pct),
        (SANITATION, sanitation, tariff.sanitation_pct),
    ):
        if wanted and pct > ZERO:
            add(concept, pct, base / HUNDRED, money(base * pct / HUNDRED))
    if overdue > ZERO and late_fee_pct > ZERO:
        add(
            SURCHARGE,
            late_fee_pct * k,
            overdue / HUNDRED,
            money(overdue * late_fee_pct * k / HUNDRED),
        )
    quote = Quote(tuple(lines))
    rounded = round_to_unit(quote.total, rounding_unit)
    if rounded != quote.total:
        add(ROUNDING, Decimal(1), rounded - quote.total, rounded - quote.total)
    return Quote(tuple(sorted(lines, key=lambda line: line.seq)))
