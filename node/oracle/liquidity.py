"""Liquidity analysis: depth near the mid, the cost of a market order, and Amihud's ratio.

Amihud (2002): ILLIQ = mean over days of |R_t| / (P_t V_t), the price move per unit of
currency traded; days without volume are left out of the mean (his rule). Returned per unit of
currency (papers often print it times 1e6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from node.errors import EmptyInput
from node.oracle import checks
from node.sources.market import Bars, BookSnapshot

BPS = 1e4


@dataclass(frozen=True)
class MarketDepth:
    bps: float
    bid_size: float
    ask_size: float
    bid_notional: float
    ask_notional: float


def compute_market_depth(book: BookSnapshot, bps: float) -> MarketDepth:
    """Cumulative size and notional of the levels within `bps` basis points of the mid."""
    checks.require(bps >= 0, "bps must be >= 0")
    bid_prices, bid_sizes, ask_prices, ask_sizes = checks.book(book)
    mid = (bid_prices[0] + ask_prices[0]) / 2
    band = mid * bps / BPS
    bids = bid_prices >= mid - band
    asks = ask_prices <= mid + band
    return MarketDepth(float(bps), float(bid_sizes[bids].sum()), float(ask_sizes[asks].sum()),
                       float(np.dot(bid_prices[bids], bid_sizes[bids])),
                       float(np.dot(ask_prices[asks], ask_sizes[asks])))


@dataclass(frozen=True)
class PriceImpact:
    side: Literal["buy", "sell"]
    notional: float
    filled_notional: float
    quantity: float
    average_price: float
    impact_bps: float
    levels_consumed: int
    exhausted: bool


def estimate_price_impact(book: BookSnapshot, notional: float,
                          side: Literal["buy", "sell"] = "buy") -> PriceImpact:
    """Walk the asks (buy) or the bids (sell) until `notional` is spent: the average fill price
    and its distance from the mid in basis points (half the spread included). When the book
    holds less than `notional` it is walked to its end and `exhausted` says so."""
    checks.require(side in ("buy", "sell"), f"side must be 'buy' or 'sell', got {side!r}")
    target = checks.positive_scalar("notional", notional)
    bid_prices, bid_sizes, ask_prices, ask_sizes = checks.book(book)
    mid = (bid_prices[0] + ask_prices[0]) / 2
    prices, sizes = (ask_prices, ask_sizes) if side == "buy" else (bid_prices, bid_sizes)
    cumulative = np.cumsum(prices * sizes)
    full = int(np.searchsorted(cumulative, target, side="left"))
    exhausted = full == prices.size
    if exhausted:
        filled, quantity, consumed = float(cumulative[-1]), float(sizes.sum()), prices.size
    else:
        before = float(cumulative[full - 1]) if full else 0.0
        filled = target
        quantity = float(sizes[:full].sum()) + (target - before) / float(prices[full])
        consumed = full + 1
    average = filled / quantity
    signed = average / mid - 1 if side == "buy" else 1 - average / mid
    return PriceImpact(side, target, filled, quantity, average, signed * BPS, consumed, exhausted)


@dataclass(frozen=True)
class AmihudIlliquidity:
    latest: float
    rolling: np.ndarray


def compute_amihud_illiquidity(bars: Bars, window: int = 20) -> AmihudIlliquidity:
    """Rolling Amihud ratio over `window` returns (simple close-to-close returns over close
    times volume), one value per window ending at bars window..n-1, and the latest one."""
    checks.count("window", window, 1)
    _, _, _, _, close, volume = checks.bars(bars, window + 1)
    dollar_volume = close[1:] * volume[1:]
    traded = dollar_volume > 0
    ratio = np.zeros_like(dollar_volume)
    np.divide(np.abs(np.diff(close)) / close[:-1], dollar_volume, out=ratio, where=traded)
    sums = _window_sums(ratio, window)
    days = _window_sums(traded.astype(np.float64), window)
    rolling = np.full(sums.size, np.nan)
    np.divide(sums, days, out=rolling, where=days > 0)
    if not days[-1]:
        raise EmptyInput(f"no volume traded in the last {window} bars")
    return AmihudIlliquidity(float(rolling[-1]), rolling)


def _window_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sums of each `window` consecutive values, each summed on its own: differences of one
    running sum would lose the small late values against the large early ones."""
    return np.lib.stride_tricks.sliding_window_view(values, window).sum(axis=1)
