from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import EmptyInput, InvalidParameter, NonPositivePrice
from node.oracle.liquidity import (
    compute_amihud_illiquidity,
    compute_market_depth,
    estimate_price_impact,
)
from node.sources.book import BookSimulator
from tests.node.oracle import pandas_reference as reference
from tests.node.oracle.builders import AT, PROPERTIES, bars, book, with_column

levels = st.lists(st.tuples(st.floats(1e-2, 1e3), st.floats(1e-2, 1e4)), min_size=1,
                  max_size=10)


def ladder(bid_sizes, ask_sizes, best_bid: float = 100.0, gap: float = 0.5):
    return book([(best_bid - gap * i, s) for i, s in enumerate(bid_sizes)],
                [(best_bid + 1 + gap * i, s) for i, s in enumerate(ask_sizes)])


def simulated_books(count: int):
    simulator = BookSimulator(11)
    return [simulator.snapshot("GOOG", 300.0 + index / 10, AT) for index in range(count)]


def test_depth__hand_computed(small_book) -> None:
    # mid 100; 150 bps = 1.5: only the touch on each side; 250 bps = 2.5: two levels each
    narrow = compute_market_depth(small_book, 150)
    assert (narrow.bid_size, narrow.ask_size) == (10.0, 5.0)
    assert (narrow.bid_notional, narrow.ask_notional) == (990.0, 505.0)
    wide = compute_market_depth(small_book, 250)
    assert (wide.bid_size, wide.ask_size) == (30.0, 20.0)
    assert compute_market_depth(small_book, 50).bid_size == 0.0


def test_depth__matches_pandas_on_simulated_books() -> None:
    for snapshot in simulated_books(20):
        for bps in (0.5, 2, 5, 20):
            depth = compute_market_depth(snapshot, bps)
            assert (depth.bid_size, depth.ask_size) == pytest.approx(
                reference.market_depth(snapshot, bps), rel=1e-12)


@PROPERTIES
@given(levels, st.floats(0, 500), st.floats(0, 500))
def test_depth__grows_with_the_band(sizes, narrow, extra) -> None:
    snapshot = ladder([s for _, s in sizes], [s for _, s in sizes])
    small, large = compute_market_depth(snapshot, narrow), compute_market_depth(snapshot,
                                                                               narrow + extra)
    assert small.bid_size <= large.bid_size
    assert small.ask_size <= large.ask_size
    assert small.ask_notional <= large.ask_notional


def test_depth__refuses_a_negative_band(small_book) -> None:
    with pytest.raises(InvalidParameter):
        compute_market_depth(small_book, -1)


def test_impact__hand_computed_walk(small_book) -> None:
    # asks 101 x 5 (505), 102 x 15 (1530): 1000 takes 505 at 101 and 495 at 102
    impact = estimate_price_impact(small_book, 1000.0, "buy")
    quantity = 5 + 495 / 102
    assert impact.quantity == pytest.approx(quantity)
    assert impact.average_price == pytest.approx(1000 / quantity)
    assert impact.impact_bps == pytest.approx((1000 / quantity / 100 - 1) * 1e4)
    assert (impact.levels_consumed, impact.exhausted) == (2, False)
    sell = estimate_price_impact(small_book, 990.0, "sell")
    assert (sell.average_price, sell.levels_consumed) == (99.0, 1)
    assert sell.impact_bps == pytest.approx(100.0)


def test_impact__walks_to_the_end_of_a_thin_book(small_book) -> None:
    impact = estimate_price_impact(small_book, 1e9, "buy")
    assert impact.exhausted
    assert impact.filled_notional == 101 * 5 + 102 * 15 + 103 * 25
    assert impact.quantity == 45


def test_impact__matches_pandas_on_simulated_books() -> None:
    for snapshot in simulated_books(10):
        for side in ("buy", "sell"):
            for notional in (1e3, 3e5, 1e6, 2e6):
                assert estimate_price_impact(snapshot, notional, side).impact_bps == (
                    pytest.approx(reference.price_impact(snapshot, notional, side), rel=1e-9))


@PROPERTIES
@given(levels, st.floats(1.0, 1e6), st.floats(0.0, 1e6), st.sampled_from(["buy", "sell"]))
def test_impact__grows_with_the_notional(sizes, notional, extra, side) -> None:
    snapshot = ladder([s for _, s in sizes], [s for _, s in sizes])
    small = estimate_price_impact(snapshot, notional, side)
    large = estimate_price_impact(snapshot, notional + extra, side)
    assert small.impact_bps <= large.impact_bps + 1e-9
    assert small.impact_bps > 0


@pytest.mark.parametrize(("notional", "side", "error"), [
    (0.0, "buy", NonPositivePrice),
    (-5.0, "sell", NonPositivePrice),
    (100.0, "hold", InvalidParameter),
])
def test_impact__refuses_bad_orders(small_book, notional, side, error) -> None:
    with pytest.raises(error):
        estimate_price_impact(small_book, notional, side)


def test_amihud__hand_computed() -> None:
    # returns +10% and -10%; dollar volumes 110 * 10 and 99 * 20
    three = bars([100, 110, 99], [100, 110, 110], [100, 110, 99], [100, 110, 99], [5, 10, 20])
    result = compute_amihud_illiquidity(three, window=2)
    assert result.latest == pytest.approx((0.1 / 1100 + 0.1 / 1980) / 2)
    assert result.rolling.shape == (1,)


def test_amihud__matches_pandas(sp500) -> None:
    for window in (1, 5, 20, 60):
        np.testing.assert_allclose(compute_amihud_illiquidity(sp500, window).rolling,
                                   reference.amihud(sp500, window).to_numpy(), rtol=1e-9)


def test_amihud__leaves_days_without_volume_out_of_the_mean(sp500) -> None:
    window = sp500.slice(0, 30)
    volume = window.volume.copy()
    volume[-1] = 0
    result = compute_amihud_illiquidity(with_column(window, volume=volume), window=5)
    np.testing.assert_allclose(
        result.rolling, reference.amihud(with_column(window, volume=volume), 5), rtol=1e-9)
    assert math.isfinite(result.latest)


def test_amihud__refuses_a_window_without_volume_and_short_series(sp500) -> None:
    window = sp500.slice(0, 30)
    volume = window.volume.copy()
    volume[-5:] = 0
    with pytest.raises(EmptyInput):
        compute_amihud_illiquidity(with_column(window, volume=volume), window=4)
    with pytest.raises(EmptyInput):
        compute_amihud_illiquidity(window, window=30)
    with pytest.raises(InvalidParameter):
        compute_amihud_illiquidity(window, window=0)
