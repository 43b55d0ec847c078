from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice
from node.oracle.order_book import (
    compute_book_imbalance,
    compute_spread_and_microprice,
    detect_book_anomaly,
)
from node.oracle.refusals import MalformedInput
from node.sources.book import BookProfile, BookSimulator
from tests.node.oracle import pandas_reference as reference
from tests.node.oracle.builders import AT, PROPERTIES, book

BAD_BOOKS = [
    (book([(99, 10), (100, 10)], [(101, 5)]), MalformedInput),
    (book([(99, 10)], [(102, 5), (101, 5)]), MalformedInput),
    (book([(101, 10)], [(101, 5)]), MalformedInput),
    (book([(99, math.nan)], [(101, 5)]), NonFiniteInput),
    (book([(99, 10)], [(math.inf, 5)]), NonFiniteInput),
    (book([(99, 0)], [(101, 5)]), NonPositivePrice),
    (book([(-99, 10)], [(101, 5)]), NonPositivePrice),
    (book([], [(101, 5)]), EmptyInput),
]


def simulated_books(count: int, seed: int = 5, **profile) -> list:
    simulator = BookSimulator(seed, BookProfile(**profile))
    return [simulator.snapshot("SP500", 2500.0 + index, AT) for index in range(count)]


def test_imbalance__hand_computed(small_book) -> None:
    assert compute_book_imbalance(small_book, levels=1) == pytest.approx((10 - 5) / 15)
    assert compute_book_imbalance(small_book, levels=2) == pytest.approx((30 - 20) / 50)
    assert compute_book_imbalance(small_book, levels=10) == pytest.approx((60 - 45) / 105)


def test_imbalance__matches_pandas_on_simulated_books() -> None:
    for snapshot in simulated_books(20):
        for levels in (1, 3, 5, 10):
            assert compute_book_imbalance(snapshot, levels) == pytest.approx(
                reference.book_imbalance(snapshot, levels), rel=1e-12, abs=1e-15)


@PROPERTIES
@given(st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=10),
       st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=10), st.integers(1, 12))
def test_imbalance__lies_in_minus_one_to_one(bid_sizes, ask_sizes, levels) -> None:
    snapshot = book([(100.0 - i, s) for i, s in enumerate(bid_sizes)],
                    [(101.0 + i, s) for i, s in enumerate(ask_sizes)])
    assert -1 <= compute_book_imbalance(snapshot, levels) <= 1


@pytest.mark.parametrize(("snapshot", "error"), BAD_BOOKS)
def test_imbalance__refuses_bad_books(snapshot, error) -> None:
    with pytest.raises(error):
        compute_book_imbalance(snapshot)


def test_imbalance__refuses_zero_levels(small_book) -> None:
    with pytest.raises(InvalidParameter):
        compute_book_imbalance(small_book, levels=0)


def test_spread__hand_computed(small_book) -> None:
    result = compute_spread_and_microprice(small_book)
    assert (result.bid, result.ask, result.mid, result.spread) == (99.0, 101.0, 100.0, 2.0)
    assert result.spread_bps == pytest.approx(200.0)
    # bid size 10 against ask size 5: the microprice leans to the ask, (99*5 + 101*10) / 15
    assert result.microprice == pytest.approx((99 * 5 + 101 * 10) / 15)


def test_spread__matches_pandas_on_simulated_books() -> None:
    for snapshot in simulated_books(20):
        result = compute_spread_and_microprice(snapshot)
        assert (result.spread_bps, result.microprice) == pytest.approx(
            reference.spread_and_microprice(snapshot), rel=1e-12)


@PROPERTIES
@given(st.floats(1.0, 1e5), st.floats(1e-4, 10.0), st.floats(1e-3, 1e6), st.floats(1e-3, 1e6))
def test_spread__microprice_lies_within_the_touch(bid, gap, bid_size, ask_size) -> None:
    result = compute_spread_and_microprice(book([(bid, bid_size)], [(bid + gap, ask_size)]))
    assert result.spread > 0
    assert result.bid <= result.microprice <= result.ask


@pytest.mark.parametrize(("snapshot", "error"), BAD_BOOKS)
def test_spread__refuses_bad_books(snapshot, error) -> None:
    with pytest.raises(error):
        compute_spread_and_microprice(snapshot)


def steady(size: float = 10.0, wall: float | None = None):
    asks = [(101.0, size), (102.0, size), (103.0, wall or size), (104.0, size)]
    return book([(100.0, size), (99.0, size), (98.0, size), (97.0, size)], asks)


def test_anomaly__hand_computed_withdrawal_and_wall() -> None:
    quiet = detect_book_anomaly([steady(), steady(), steady()], levels=4)
    assert (quiet.depth_ratio, quiet.withdrawal, quiet.walls) == (1.0, False, ())
    thin = detect_book_anomaly([steady(), steady(), steady(size=3.0)], levels=4)
    assert thin.withdrawal
    assert thin.depth_ratio == pytest.approx(0.3)
    walled = detect_book_anomaly([steady(), steady(wall=100.0)], levels=2)
    assert walled.depth_ratio == 1.0
    [wall] = walled.walls
    assert (wall.side, wall.price, wall.size, wall.multiple) == ("ask", 103.0, 100.0, 10.0)


def test_anomaly__matches_pandas_on_simulated_books() -> None:
    books = simulated_books(200, withdrawal_probability=0.1, wall_probability=0.1)
    for end in range(2, 200, 7):
        window = books[max(0, end - 20):end]
        ours = detect_book_anomaly(window)
        ratio, withdrawal, walls = reference.book_anomaly(window)
        assert ours.depth_ratio == pytest.approx(ratio, rel=1e-12)
        assert (ours.withdrawal, len(ours.walls)) == (withdrawal, walls)


def test_anomaly__books_of_different_depths_are_compared_on_common_levels() -> None:
    deeper = book([(100.0, 10.0), (99.0, 10.0), (98.0, 10.0)], [(101.0, 10.0), (102.0, 10.0),
                                                              (103.0, 10.0)])
    result = detect_book_anomaly([deeper, steady()], levels=2)
    assert result.depth_ratio == 1.0


def test_anomaly__refuses_a_single_snapshot_and_bad_parameters() -> None:
    with pytest.raises(EmptyInput):
        detect_book_anomaly([steady()])
    for kwargs in ({"levels": 0}, {"withdrawal_ratio": 1.0}, {"wall_multiple": 1.0}):
        with pytest.raises(InvalidParameter):
            detect_book_anomaly([steady(), steady()], **kwargs)


@pytest.mark.parametrize(("snapshot", "error"), BAD_BOOKS)
def test_anomaly__refuses_a_bad_book_anywhere_in_the_sequence(snapshot, error) -> None:
    with pytest.raises(error):
        detect_book_anomaly([snapshot, steady(), steady()])


def test_anomaly__refuses_sizes_that_do_not_match_prices() -> None:
    ragged = steady()
    ragged = type(ragged)(ragged.instrument, ragged.at, ragged.bid_prices,
                          np.append(ragged.bid_sizes, 1.0), ragged.ask_prices, ragged.ask_sizes)
    with pytest.raises(MalformedInput):
        detect_book_anomaly([ragged, steady()])
