"""Order book monitoring: imbalance, spread and microprice, and anomalies across snapshots.

Microprice: Stoikov's weighted mid, (bid * ask_size + ask * bid_size) / (bid_size + ask_size),
computed as bid + spread * bid_size / (bid_size + ask_size) and kept inside [bid, ask] against
rounding: a heavy bid pulls the fair price towards the ask.

Anomalies: a depth withdrawal is a snapshot whose top-k depth (both sides) falls below
`withdrawal_ratio` times the median of the snapshots before it; a spoof-like wall is a level of
the latest snapshot at least `wall_multiple` times the median level size of that snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from node.errors import EmptyInput
from node.oracle import checks
from node.sources.market import BookSnapshot

BPS = 1e4


def compute_book_imbalance(book: BookSnapshot, levels: int = 5) -> float:
    """(bid depth - ask depth) / (bid depth + ask depth) over the top `levels` of each side
    (all of a side when it has fewer): +1 all bids, -1 all asks."""
    checks.count("levels", levels, 1)
    _, bid_sizes, _, ask_sizes = checks.book(book)
    bids, asks = bid_sizes[:levels].sum(), ask_sizes[:levels].sum()
    return float((bids - asks) / (bids + asks))


@dataclass(frozen=True)
class SpreadMicroprice:
    bid: float
    ask: float
    mid: float
    spread: float
    spread_bps: float
    microprice: float


def compute_spread_and_microprice(book: BookSnapshot) -> SpreadMicroprice:
    """The touch: spread in price and in basis points of the mid, and the microprice."""
    bid_prices, bid_sizes, ask_prices, ask_sizes = checks.book(book)
    bid, ask = float(bid_prices[0]), float(ask_prices[0])
    bid_size, ask_size = float(bid_sizes[0]), float(ask_sizes[0])
    mid, spread = (bid + ask) / 2, ask - bid
    microprice = bid + spread * bid_size / (bid_size + ask_size)
    return SpreadMicroprice(bid, ask, mid, spread, spread / mid * BPS,
                            min(max(microprice, bid), ask))


@dataclass(frozen=True)
class Wall:
    side: Literal["bid", "ask"]
    price: float
    size: float
    multiple: float


@dataclass(frozen=True)
class BookAnomaly:
    depth_ratio: float
    withdrawal: bool
    walls: tuple[Wall, ...]


def detect_book_anomaly(books: Sequence[BookSnapshot], levels: int = 5,
                        withdrawal_ratio: float = 0.5, wall_multiple: float = 8.0) -> BookAnomaly:
    """Anomalies of the latest of `books` (oldest first, at least two) against the others."""
    checks.count("levels", levels, 1)
    checks.require(0 < withdrawal_ratio < 1, "withdrawal_ratio must be in (0, 1)")
    checks.require(wall_multiple > 1, "wall_multiple must be > 1")
    if len(books) < 2:
        raise EmptyInput(f"{len(books)} snapshot(s), need a latest one and at least one before")
    bid_depth, ask_depth = checks.book_sizes(books)
    depth = bid_depth[:, :levels].sum(axis=1) + ask_depth[:, :levels].sum(axis=1)
    depth_ratio = float(depth[-1] / np.median(depth[:-1]))
    bid_prices, bid_sizes, ask_prices, ask_sizes = checks.book(books[-1])
    typical = np.median(np.concatenate((bid_sizes, ask_sizes)))
    walls = tuple(
        Wall(side, float(prices[index]), float(sizes[index]), float(sizes[index] / typical))
        for side, prices, sizes in (("bid", bid_prices, bid_sizes), ("ask", ask_prices, ask_sizes))
        for index in np.flatnonzero(sizes >= wall_multiple * typical))
    return BookAnomaly(depth_ratio, depth_ratio < withdrawal_ratio, walls)
