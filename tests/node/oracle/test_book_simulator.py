from __future__ import annotations

import math

import numpy as np
import pytest

from node.errors import InvalidParameter, NonFiniteInput, NonPositivePrice
from node.oracle.order_book import compute_spread_and_microprice, detect_book_anomaly
from node.sources.book import BookProfile, BookSimulator, default_tick
from tests.node.oracle.builders import AT

MIDS = 2500.0 + np.cumsum(np.random.default_rng(0).normal(0, 2.0, 2000))


def run(seed: int = 1, instrument: str = "SP500", mids=MIDS, **profile) -> list:
    simulator = BookSimulator(seed, BookProfile(**profile))
    return [simulator.snapshot(instrument, float(mid), AT) for mid in mids]


def test_default_tick__is_about_a_basis_point() -> None:
    assert default_tick(1229.0) == pytest.approx(0.1)
    assert default_tick(1.07) == pytest.approx(1e-4)
    assert default_tick(99.0) == pytest.approx(1e-3)


def test_books__sit_on_the_tick_grid_ordered_and_uncrossed() -> None:
    for snapshot, mid in zip(run(), MIDS, strict=True):
        tick = default_tick(mid)
        for prices in (snapshot.bid_prices, snapshot.ask_prices):
            np.testing.assert_allclose(prices / tick, np.round(prices / tick), atol=1e-6)
        assert (np.diff(snapshot.bid_prices) < 0).all()
        assert (np.diff(snapshot.ask_prices) > 0).all()
        assert snapshot.bid_prices[0] < snapshot.ask_prices[0]


def test_books__spread_is_at_least_a_tick_and_mid_is_within_half_a_tick() -> None:
    spreads = []
    for snapshot, mid in zip(run(), MIDS, strict=True):
        tick = default_tick(mid)
        touch = compute_spread_and_microprice(snapshot)
        spreads.append(touch.spread / tick)
        assert touch.spread >= tick * (1 - 1e-9)
        assert abs(touch.mid - mid) <= tick / 2 * (1 + 1e-9)
    assert np.mean(spreads) == pytest.approx(1.5, abs=0.1)


def test_books__depth_grows_away_from_the_touch() -> None:
    books = run(wall_probability=0.0, withdrawal_probability=0.0)
    mean_sizes = np.mean([np.concatenate((b.bid_sizes, b.ask_sizes)).reshape(2, -1)
                          for b in books], axis=(0, 1))
    assert (np.diff(mean_sizes) > 0).all()
    expected = 250_000.0 / 2500.0 * (1 + 0.15 * np.arange(10))
    np.testing.assert_allclose(mean_sizes, expected, rtol=0.1)


def test_books__touch_holds_about_the_configured_notional_at_any_price() -> None:
    for instrument, mid in (("EURUSD", 1.1), ("GOOG", 300.0), ("SP500", 2500.0)):
        books = run(instrument=instrument, mids=[mid] * 500, wall_probability=0.0,
                    withdrawal_probability=0.0)
        touch = np.mean([b.bid_prices[0] * b.bid_sizes[0] for b in books])
        assert touch == pytest.approx(250_000.0, rel=0.1)


def test_books__same_seed_same_books_other_seed_other_books() -> None:
    first, again, other = run(seed=3, mids=MIDS[:50]), run(seed=3, mids=MIDS[:50]), run(
        seed=4, mids=MIDS[:50])
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.bid_sizes, b.bid_sizes)
        np.testing.assert_array_equal(a.ask_prices, b.ask_prices)
    assert not np.array_equal(first[0].bid_sizes, other[0].bid_sizes)


def test_books__an_instrument_stream_does_not_depend_on_the_others() -> None:
    alone = BookSimulator(2)
    mixed = BookSimulator(2)
    for mid in MIDS[:20]:
        mixed.snapshot("GOOG", 300.0, AT)
        a, b = alone.snapshot("SP500", float(mid), AT), mixed.snapshot("SP500", float(mid), AT)
        np.testing.assert_array_equal(a.bid_sizes, b.bid_sizes)


def flagged(books, **kwargs) -> tuple[float, float]:
    """Share of snapshots (after the first 20) flagged as withdrawal, and carrying a wall."""
    reports = [detect_book_anomaly(books[end - 20:end], **kwargs)
               for end in range(21, len(books) + 1)]
    return (np.mean([r.withdrawal for r in reports]), np.mean([bool(r.walls) for r in reports]))


def test_books__withdrawals_and_walls_occur_as_often_as_configured_and_are_detected() -> None:
    quiet_withdrawals, quiet_walls = flagged(run(withdrawal_probability=0.0, wall_probability=0.0))
    assert (quiet_withdrawals, quiet_walls) == (0.0, 0.0)
    withdrawals, walls = flagged(run(withdrawal_probability=0.05, wall_probability=0.05,
                                     wall_lifetime=3))
    assert withdrawals == pytest.approx(0.05, abs=0.02)
    # a wall appears with p = 0.05 per snapshot without one and stays 3 snapshots
    assert walls == pytest.approx(3 * 0.05 / (1 + 2 * 0.05), abs=0.04)


@pytest.mark.parametrize(("mid", "error"), [
    (math.nan, NonFiniteInput), (math.inf, NonFiniteInput), (0.0, NonPositivePrice),
    (-5.0, NonPositivePrice),
])
def test_simulator__refuses_a_bad_mid(mid, error) -> None:
    with pytest.raises(error):
        BookSimulator().snapshot("SP500", mid, AT)


def test_simulator__refuses_bad_settings() -> None:
    for bad in ({"levels": 2}, {"withdrawal_probability": 2.0}, {"ticks": {"SP500": 0.0}},
                {"wall_multiple": 0.5}, {"level_notional": 0.0}):
        with pytest.raises(InvalidParameter):
            BookProfile(**bad)
    with pytest.raises(InvalidParameter):
        BookSimulator(-1)
    with pytest.raises(InvalidParameter):
        BookSimulator(0, BookProfile(ticks={"SP500": 500.0})).snapshot("SP500", 2500.0, AT)
