"""Money-grade numbers of the paper desk: Decimal, converted from float once, at the edge.

Feed prices and book levels arrive as floats; they are taken to PLACES (8) decimal places,
half to even, far below every tick the books use (0.1 for the S&P 500, 1e-4 for EURUSD), so no
tick is moved. Quantities offered by a book are rounded down (never take more than offered).
Past the edge every amount is computed in MONEY_CONTEXT, 60 significant digits: products and
sums of 8-place numbers stay exact, so cash and positions reconcile to the last digit."""

from __future__ import annotations

import math
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from node.errors import InvalidParameter, NonFiniteInput, NonPositivePrice

PLACES = 8
STEP = Decimal(1).scaleb(-PLACES)
MONEY_CONTEXT = Context(prec=60, rounding=ROUND_HALF_EVEN,
                        traps=[InvalidOperation, DivisionByZero, Overflow])
ZERO = Decimal(0)
BPS_PER_UNIT = Decimal(10_000)


def decimal_of(name: str, value: float | int | str | Decimal) -> Decimal:
    """`value` as a finite Decimal to PLACES places (half to even)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise NonFiniteInput(f"{name} is {value}")
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise InvalidParameter(f"{name} is not a number: {value!r}") from error
    if not number.is_finite():
        raise NonFiniteInput(f"{name} is {number}")
    return number.quantize(STEP, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)


def price_of(name: str, value: float | int | str | Decimal) -> Decimal:
    """A positive price to PLACES places."""
    price = decimal_of(name, value)
    if price <= 0:
        raise NonPositivePrice(f"{name} is {price}, must be above zero")
    return price


def quantity_down(value: float | Decimal) -> Decimal:
    """A size offered by a book, rounded down to PLACES places."""
    if isinstance(value, float) and not math.isfinite(value):
        raise NonFiniteInput(f"size is {value}")
    return Decimal(value).quantize(STEP, rounding=ROUND_DOWN, context=MONEY_CONTEXT)


def fee_of(notional: Decimal, fee_bps: Decimal) -> Decimal:
    """The fee on `notional` at `fee_bps` basis points, to PLACES places (half to even)."""
    exact = MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(notional, fee_bps), BPS_PER_UNIT)
    return exact.quantize(STEP, rounding=ROUND_HALF_EVEN, context=MONEY_CONTEXT)
