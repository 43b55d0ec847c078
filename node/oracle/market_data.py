"""Market data collection: bars in, checked and resampled; VWAP; realised volatility.

Volatility estimators (annualised with sqrt(periods_per_year)):
- close-to-close: the sample standard deviation (ddof 1) of log close-to-close returns;
- Parkinson (1980): sqrt(mean(ln(H/L)^2) / (4 ln 2)), from each bar's range;
- Garman-Klass (1980): sqrt(mean(0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2)); each term is >= 0
  for a consistent bar (|ln C/O| <= ln H/L)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from node.errors import EmptyInput, StaleInput
from node.oracle import checks
from node.sources.market import Bars, to_ns

LN2 = math.log(2.0)
MIN_VOLATILITY_BARS = 3


def collect_ohlcv_bars(bars: Bars, period: timedelta, now: datetime | None = None,
                       max_age: timedelta | None = None) -> Bars:
    """Check a source's bars and resample them to `period` (buckets aligned on the Unix epoch,
    labelled by their start; empty buckets are left out): open of the first bar, highest high,
    lowest low, close of the last, summed volume. With `now` and `max_age`, bars whose newest
    opened more than `max_age` before `now` are refused as stale."""
    period_ns = checks.positive_duration("period", period)
    time, open_, high, low, close, volume = checks.bars(bars)
    checks.require((now is None) == (max_age is None),
                   "now and max_age go together (both or neither)")
    if now is not None and max_age is not None:
        age_ns = to_ns(now) - int(time[-1])
        if age_ns > checks.positive_duration("max_age", max_age):
            raise StaleInput(f"newest bar opened {age_ns / checks.NS_PER_SECOND:.0f} s before now")
    bucket = time // period_ns
    starts = np.flatnonzero(np.diff(bucket, prepend=bucket[0] - 1))
    ends = np.append(starts[1:], bucket.size) - 1
    return Bars(bars.instrument, (bucket[starts] * period_ns).astype("datetime64[ns]"),
                open_[starts], np.maximum.reduceat(high, starts),
                np.minimum.reduceat(low, starts), close[ends], np.add.reduceat(volume, starts))


def compute_vwap(bars: Bars) -> float:
    """Volume-weighted average of the bars' typical price (H + L + C) / 3; a trade is a bar with
    O = H = L = C, so a list of trades gives the trade VWAP."""
    _, _, high, low, close, volume = checks.bars(bars)
    total = volume.sum()
    if total <= 0:
        raise EmptyInput("no volume traded in these bars")
    return float(np.dot(high + low + close, volume) / (3 * total))


@dataclass(frozen=True)
class RealizedVolatility:
    close_to_close: float
    parkinson: float
    garman_klass: float


def compute_realized_volatility(bars: Bars, periods_per_year: float = 252.0) -> RealizedVolatility:
    """The three estimators over the same bars (at least three), annualised."""
    checks.require(periods_per_year > 0, "periods_per_year must be > 0")
    _, open_, high, low, close, _ = checks.bars(bars, MIN_VOLATILITY_BARS)
    returns = np.diff(np.log(close))
    range_squared = np.log(high / low) ** 2
    body_squared = np.log(close / open_) ** 2
    annual = math.sqrt(periods_per_year)
    return RealizedVolatility(
        close_to_close=float(returns.std(ddof=1)) * annual,
        parkinson=math.sqrt(range_squared.mean() / (4 * LN2)) * annual,
        garman_klass=math.sqrt(max(float(np.mean(0.5 * range_squared
                                                 - (2 * LN2 - 1) * body_squared)), 0.0)) * annual,
    )
