"""Input checks shared by the Oracle functions: each returns the checked value as a numpy type or
raises the typed refusal that names the problem. Cheap (a few vectorised passes) so that the
functions stay faster than their pandas baselines with the checks included."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
from numpy.typing import ArrayLike

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput, NonPositivePrice
from node.oracle.refusals import MalformedInput
from node.sources.market import Bars, BookSnapshot

NS_PER_SECOND = 1_000_000_000


def finite_array(name: str, values: ArrayLike, minimum: int = 1) -> np.ndarray:
    """`values` as a 1-D float64 array of at least `minimum` finite numbers."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise MalformedInput(f"{name}: expected a 1-D sequence, got shape {array.shape}")
    if array.size < minimum:
        raise EmptyInput(f"{name}: {array.size} value(s), need at least {minimum}")
    if not np.isfinite(array).all():
        raise NonFiniteInput(f"{name}: {int((~np.isfinite(array)).sum())} NaN or infinite value(s)")
    return array


def positive_array(name: str, values: ArrayLike, minimum: int = 1) -> np.ndarray:
    """Finite and every value above zero."""
    array = finite_array(name, values, minimum)
    if not (array > 0).all():
        raise NonPositivePrice(f"{name}: {int((array <= 0).sum())} value(s) at or below zero")
    return array


def non_negative_array(name: str, values: ArrayLike, minimum: int = 1) -> np.ndarray:
    array = finite_array(name, values, minimum)
    if (array < 0).any():
        raise NonPositivePrice(f"{name}: {int((array < 0).sum())} negative value(s)")
    return array


def finite_scalar(name: str, value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise NonFiniteInput(f"{name} is {number}")
    return number


def positive_scalar(name: str, value: float) -> float:
    number = finite_scalar(name, value)
    if number <= 0:
        raise NonPositivePrice(f"{name} is {number}, must be above zero")
    return number


def require(condition: bool, requirement: str) -> None:
    """Refuse a parameter that breaks `requirement` (worded as what must hold)."""
    if not condition:
        raise InvalidParameter(requirement)


def count(name: str, value: int, minimum: int) -> int:
    require(isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
            f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def positive_duration(name: str, value: timedelta) -> int:
    """`value` in nanoseconds, refused unless above zero."""
    require(isinstance(value, timedelta) and value > timedelta(0),
            f"{name} must be a positive timedelta, got {value!r}")
    return value // timedelta(microseconds=1) * 1_000


def same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise MalformedInput(f"lengths differ: {lengths}")


def nanoseconds(name: str, times: ArrayLike) -> np.ndarray:
    """Instants (datetime64 or int64 ns since the epoch) as strictly increasing int64 ns."""
    array = np.asarray(times)
    if array.dtype.kind == "M":
        array = array.astype("datetime64[ns]").view(np.int64)
    elif array.dtype.kind not in "iu":
        raise MalformedInput(f"{name}: expected datetime64 or int nanoseconds, not {array.dtype}")
    if array.ndim != 1:
        raise MalformedInput(f"{name}: expected a 1-D sequence, got shape {array.shape}")
    if array.size > 1 and not (array[1:] > array[:-1]).all():
        raise MalformedInput(f"{name}: times must strictly increase")
    return array.astype(np.int64, copy=False)


def bars(checked: Bars, minimum: int = 1) -> tuple[np.ndarray, ...]:
    """(time ns, open, high, low, close, volume) of consistent bars, else the refusal."""
    time = nanoseconds("time", checked.time)
    columns = [positive_array(name, getattr(checked, name), minimum)
               for name in ("open", "high", "low", "close")]
    volume = non_negative_array("volume", checked.volume, minimum)
    same_length(time=time, open=columns[0], high=columns[1], low=columns[2], close=columns[3],
                volume=volume)
    open_, high, low, close = columns
    top, bottom = np.maximum(open_, close), np.minimum(open_, close)
    inconsistent = (high < top) | (low > bottom)
    if inconsistent.any():
        raise MalformedInput(f"{int(inconsistent.sum())} bar(s) with open or close outside "
                             f"[low, high], first at index {int(np.argmax(inconsistent))}")
    return time, open_, high, low, close, volume


def book(snapshot: BookSnapshot) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bid prices, bid sizes, ask prices, ask sizes) of an ordered, uncrossed book."""
    bid_prices = positive_array("bid prices", snapshot.bid_prices)
    bid_sizes = positive_array("bid sizes", snapshot.bid_sizes)
    ask_prices = positive_array("ask prices", snapshot.ask_prices)
    ask_sizes = positive_array("ask sizes", snapshot.ask_sizes)
    same_length(bid_prices=bid_prices, bid_sizes=bid_sizes)
    same_length(ask_prices=ask_prices, ask_sizes=ask_sizes)
    if not (bid_prices[1:] < bid_prices[:-1]).all():
        raise MalformedInput("bid prices must strictly decrease from the best")
    if not (ask_prices[1:] > ask_prices[:-1]).all():
        raise MalformedInput("ask prices must strictly increase from the best")
    if bid_prices[0] >= ask_prices[0]:
        raise MalformedInput(f"crossed book: best bid {bid_prices[0]} >= best ask {ask_prices[0]}")
    return bid_prices, bid_sizes, ask_prices, ask_sizes


def book_sizes(snapshots: Sequence[BookSnapshot]) -> tuple[np.ndarray, np.ndarray]:
    """(bid sizes, ask sizes) of ordered, uncrossed books, one row per book. Books with the same
    number of levels on each side (the usual case) are checked together in one pass."""
    shapes = {(len(book.bid_prices), len(book.ask_prices)) for book in snapshots}
    if len(shapes) != 1:
        checked = [book(snapshot) for snapshot in snapshots]
        width = min(min(len(sides[1]), len(sides[3])) for sides in checked)
        return (np.stack([sides[1][:width] for sides in checked]),
                np.stack([sides[3][:width] for sides in checked]))
    bid_prices, ask_prices = _stack(snapshots, "bid_prices"), _stack(snapshots, "ask_prices")
    bid_sizes, ask_sizes = _stack(snapshots, "bid_sizes"), _stack(snapshots, "ask_sizes")
    if bid_sizes.shape != bid_prices.shape or ask_sizes.shape != ask_prices.shape:
        raise MalformedInput("each side needs one size per price level")
    for name, values in (("bid prices", bid_prices), ("bid sizes", bid_sizes),
                         ("ask prices", ask_prices), ("ask sizes", ask_sizes)):
        positive_array(name, values.ravel())
    if not (bid_prices[:, 1:] < bid_prices[:, :-1]).all():
        raise MalformedInput("bid prices must strictly decrease from the best")
    if not (ask_prices[:, 1:] > ask_prices[:, :-1]).all():
        raise MalformedInput("ask prices must strictly increase from the best")
    if not (bid_prices[:, 0] < ask_prices[:, 0]).all():
        raise MalformedInput("crossed book: a best bid at or above the best ask")
    return bid_sizes, ask_sizes


def _stack(snapshots: Sequence[BookSnapshot], side: str) -> np.ndarray:
    try:
        return np.array([getattr(snapshot, side) for snapshot in snapshots], dtype=np.float64)
    except ValueError as error:
        raise MalformedInput(f"{side}: {error}") from error


def names(sources: Sequence[str], length: int) -> tuple[str, ...]:
    labels = tuple(sources)
    if len(labels) != length:
        raise MalformedInput(f"{len(labels)} source names for {length} values")
    if len(set(labels)) != len(labels):
        raise MalformedInput(f"source names repeat: {labels}")
    return labels
