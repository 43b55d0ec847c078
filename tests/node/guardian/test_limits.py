from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import InvalidParameter, NonFiniteInput, NonPositivePrice, UnknownInstrument
from node.guardian.limits import (
    TokenBucket,
    check_balance_sufficiency,
    check_order_notional_limit,
    check_order_rate_limit,
    check_position_limit,
    check_price_band,
)
from node.guardian.orders import Order
from node.oracle.refusals import MalformedInput
from tests.node.guardian import pandas_reference as reference
from tests.node.guardian.builders import AT, LIMITS, order
from tests.node.oracle.builders import PROPERTIES


def test_notional__within_and_above_the_cap_carry_the_numbers() -> None:
    allowed = check_order_notional_limit(order(quantity=10), 5_000.0, LIMITS)
    refused = check_order_notional_limit(order(quantity=11), 5_000.0, LIMITS)
    assert (allowed.allowed, allowed.value, allowed.limit) == (True, 50_000.0, 50_000.0)
    assert (refused.allowed, refused.check, refused.value) == (False, "order_notional", 55_000.0)


def test_notional__a_limit_order_is_valued_at_its_price() -> None:
    decision = check_order_notional_limit(order(quantity=10, price=4_000.0), 6_000.0, LIMITS)
    assert (decision.allowed, decision.value) == (True, 40_000.0)


@PROPERTIES
@given(st.floats(1e-3, 1e4), st.floats(1e-2, 1e4), st.sampled_from(["buy", "sell"]))
def test_notional__agrees_with_pandas(quantity, price, side) -> None:
    checked = Order("NASDAQ", side, quantity)
    decision = check_order_notional_limit(checked, price, LIMITS)
    assert decision.allowed == reference.order_notional_allowed(checked, price, LIMITS)


@pytest.mark.parametrize(("checked", "price", "error"), [
    (order(instrument="GOOG"), 100.0, UnknownInstrument),
    (order(instrument=""), 100.0, UnknownInstrument),
    (order(quantity=0.0), 100.0, NonPositivePrice),
    (order(quantity=math.nan), 100.0, NonFiniteInput),
    (order(price=-1.0), 100.0, NonPositivePrice),
    (order(), 0.0, NonPositivePrice),
    (order(), math.inf, NonFiniteInput),
    (Order("SP500", "hold", 1.0), 100.0, MalformedInput),  # type: ignore[arg-type]
])
def test_notional__refuses_bad_input(checked, price, error) -> None:
    with pytest.raises(error):
        check_order_notional_limit(checked, price, LIMITS)


def test_notional__refuses_a_non_positive_configured_limit() -> None:
    with pytest.raises(NonPositivePrice):
        check_order_notional_limit(order(), 1.0, {"SP500": 0.0})


@pytest.mark.parametrize(("position", "side", "quantity", "allowed", "after"), [
    (0.0, "buy", 10.0, True, 10.0),
    (5.0, "buy", 6.0, False, 11.0),
    (-8.0, "buy", 18.0, True, 10.0),
    (-8.0, "buy", 19.0, False, 11.0),
    (15.0, "sell", 3.0, True, 12.0),   # above a lowered cap, but reducing
    (15.0, "sell", 30.0, False, 15.0),  # flips to an equal short: not smaller
    (15.0, "buy", 1.0, False, 16.0),
])
def test_position__post_trade_size_against_the_cap(position, side, quantity, allowed,
                                                   after) -> None:
    positions = {"SP500": position}
    checked = Order("SP500", side, quantity)
    decision = check_position_limit(positions, checked, {"SP500": 10.0})
    assert (decision.allowed, decision.value, decision.limit) == (allowed, after, 10.0)
    assert decision.allowed == reference.position_allowed(positions, checked, {"SP500": 10.0})


def test_position__unknown_instrument_and_bad_position_are_refused() -> None:
    with pytest.raises(UnknownInstrument):
        check_position_limit({}, order(instrument="GOOG"), {"SP500": 10.0})
    with pytest.raises(NonFiniteInput):
        check_position_limit({"SP500": math.nan}, order(), {"SP500": 10.0})


def test_rate__burst_then_refill_with_an_injected_clock() -> None:
    bucket = TokenBucket.full(3, 1.0, AT)
    admitted = []
    for offset in (0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.1, 4.0, 4.0, 4.0, 4.0):
        decision = check_order_rate_limit(bucket, AT + timedelta(seconds=offset))
        bucket = decision.bucket
        admitted.append(decision.allowed)
    # 3 burst, 4th refused; 0.5 token at 0.5 s; 1 token at 1.0 s; 0.1 at 1.1 s;
    # at 4.0 s the bucket holds min(3, 0.1 + 2.9) = 3: three pass, the fourth not
    assert admitted == [True, True, True, False, False, True, False, True, True, True, False]


def test_rate__refusal_carries_tokens_and_cost() -> None:
    bucket = TokenBucket.full(1, 2.0, AT)
    bucket = check_order_rate_limit(bucket, AT).bucket
    decision = check_order_rate_limit(bucket, AT + timedelta(milliseconds=250))
    assert (decision.allowed, decision.check) == (False, "order_rate")
    assert (decision.value, decision.limit) == (pytest.approx(0.5), 1.0)


def test_rate__matches_the_generic_cell_rate_algorithm() -> None:
    gaps = np.random.default_rng(3).exponential(0.2, 2_000)
    seconds = np.cumsum(gaps)
    bucket = TokenBucket.full(5, 4.0, AT)
    admitted = []
    for second in seconds:
        decision = check_order_rate_limit(bucket, AT + timedelta(seconds=float(second)))
        bucket = decision.bucket
        admitted.append(decision.allowed)
    microseconds = [round(second * 1e6) / 1e6 for second in seconds]
    expected = reference.gcra_admitted(microseconds, 5, 4.0)
    assert admitted == expected
    assert 0 < sum(admitted) < len(admitted)


def test_rate__matches_the_pandas_replay() -> None:
    seconds = np.cumsum(np.random.default_rng(5).exponential(0.3, 300))
    times = pd.Series(pd.Timestamp(AT) + pd.to_timedelta(np.round(seconds * 1e6), unit="us"))
    bucket = TokenBucket.full(4, 3.0, times.iloc[0].to_pydatetime())
    admitted = []
    for at in times:
        decision = check_order_rate_limit(bucket, at.to_pydatetime())
        bucket = decision.bucket
        admitted.append(decision.allowed)
    assert admitted == reference.rate_limit_admitted(times, 4, 3.0)


@PROPERTIES
@given(st.lists(st.integers(0, 5_000_000), min_size=1, max_size=200),
       st.integers(1, 10), st.floats(0.1, 50.0))
def test_rate__never_admits_more_than_capacity_plus_refill(offsets_us, capacity, rate) -> None:
    offsets_us.sort()
    bucket = TokenBucket.full(capacity, rate, AT)
    admitted = 0
    for offset in offsets_us:
        decision = check_order_rate_limit(bucket, AT + timedelta(microseconds=offset))
        bucket = decision.bucket
        admitted += decision.allowed
    span = offsets_us[-1] / 1e6
    assert admitted <= capacity + rate * span + 1e-9


@pytest.mark.parametrize(("make", "error"), [
    (lambda: TokenBucket.full(0, 1.0, AT), NonPositivePrice),
    (lambda: TokenBucket.full(1, -1.0, AT), NonPositivePrice),
    (lambda: TokenBucket.full(1, 1.0, AT.replace(tzinfo=None)), InvalidParameter),
    (lambda: check_order_rate_limit(TokenBucket.full(2, 1.0, AT), AT, cost=3), InvalidParameter),
    (lambda: check_order_rate_limit(TokenBucket.full(2, 1.0, AT), AT, cost=0), NonPositivePrice),
    (lambda: check_order_rate_limit(TokenBucket.full(2, 1.0, AT), AT - timedelta(seconds=1)),
     MalformedInput),
    (lambda: check_order_rate_limit("bucket", AT), InvalidParameter),
])
def test_rate__refuses_bad_input(make, error) -> None:
    with pytest.raises(error):
        make()


@pytest.mark.parametrize(("position", "side", "quantity", "required"), [
    (0.0, "buy", 10.0, 1_000.0 + 1.0),      # opens 10 at 100, fee 0.1%
    (0.0, "sell", 10.0, 1_000.0 + 1.0),     # opens a short: collateral
    (6.0, "sell", 10.0, 400.0 + 1.0),       # closes 6, opens a short of 4
    (12.0, "sell", 10.0, 1.0),              # only closes: the fee
    (-3.0, "buy", 2.0, 0.2),
])
def test_balance__cost_of_the_opening_part_plus_fees(position, side, quantity,
                                                     required) -> None:
    checked = Order("SP500", side, quantity)
    decision = check_balance_sufficiency(500.0, checked, 100.0, position=position,
                                         fee_rate=0.001)
    assert decision.value == pytest.approx(required)
    assert decision.allowed == (required <= 500.0)
    assert decision.value == pytest.approx(
        reference.balance_required(checked, 100.0, position, 0.001))


def test_balance__refuses_bad_input() -> None:
    with pytest.raises(InvalidParameter):
        check_balance_sufficiency(1.0, order(), 1.0, fee_rate=1.0)
    with pytest.raises(NonFiniteInput):
        check_balance_sufficiency(math.nan, order(), 1.0)
    with pytest.raises(NonPositivePrice):
        check_balance_sufficiency(1.0, order(), -1.0)
    with pytest.raises(NonFiniteInput):
        check_balance_sufficiency(1.0, order(), 1.0, position=math.inf)


def test_price_band__limit_price_within_and_beyond_the_band_carry_the_numbers() -> None:
    within = check_price_band(order(price=105.0), 100.0, 0.05)
    beyond = check_price_band(order(side="sell", price=94.0), 100.0, 0.05)
    assert (within.allowed, within.check, within.limit) == (True, "price_band", 0.05)
    assert within.value == pytest.approx(0.05)
    assert (beyond.allowed, beyond.check, beyond.limit) == (False, "price_band", 0.05)
    assert beyond.value == pytest.approx(0.06)
    assert "beyond the 5.00% band" in beyond.reason


def test_price_band__a_market_order_trades_at_the_reference() -> None:
    decision = check_price_band(order(), 100.0, 0.01)
    assert (decision.allowed, decision.value) == (True, 0.0)


@PROPERTIES
@given(st.floats(1e-2, 1e4), st.floats(1e-2, 1e4), st.floats(1e-3, 0.99))
def test_price_band__agrees_with_pandas(price, mark, band) -> None:
    checked = order(price=price)
    decision = check_price_band(checked, mark, band)
    deviation = reference.price_band_deviation(checked, mark)
    assert math.isclose(decision.value, deviation, rel_tol=1e-12, abs_tol=1e-15)
    assert decision.allowed == (decision.value <= band)


@pytest.mark.parametrize(("reference_price", "band", "error"), [
    (0.0, 0.05, NonPositivePrice),
    (math.nan, 0.05, NonFiniteInput),
    (100.0, 0.0, InvalidParameter),
    (100.0, 1.0, InvalidParameter),
])
def test_price_band__refuses_bad_input(reference_price, band, error) -> None:
    with pytest.raises(error):
        check_price_band(order(price=100.0), reference_price, band)
