"""The market data an Oracle function takes: bars, quotes and L2 book snapshots.

Plain containers: the functions check what they use (and refuse it with a typed error), so a
malformed bar or book is refused by the function that would have computed on it and recorded as
such. Times in arrays are UTC nanoseconds as numpy datetime64[ns]; single instants are
timezone-aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from node.errors import InvalidParameter

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NANOSECOND_PER_MICROSECOND = 1_000


def to_ns(at: datetime) -> int:
    """`at` as integer nanoseconds since the Unix epoch (exact: no float on the way)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidParameter(f"{at.isoformat()} is a naive datetime: give it a timezone")
    return (at - EPOCH) // timedelta(microseconds=1) * NANOSECOND_PER_MICROSECOND


def from_ns(ns: int) -> datetime:
    """The UTC datetime of `ns` nanoseconds since the epoch (to the microsecond)."""
    return EPOCH + timedelta(microseconds=int(ns) // NANOSECOND_PER_MICROSECOND)


@dataclass(frozen=True, eq=False)
class Bars:
    """OHLCV bars of one instrument, oldest first; bar i spans [time[i], time[i + 1])."""

    instrument: str
    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.time)

    def slice(self, start: int, stop: int) -> Bars:
        """Bars start..stop-1 (views, no copy)."""
        return Bars(self.instrument, self.time[start:stop], self.open[start:stop],
                    self.high[start:stop], self.low[start:stop], self.close[start:stop],
                    self.volume[start:stop])


@dataclass(frozen=True)
class Quote:
    """One source's price for an instrument, with the uncertainty it declares (Pyth's conf)."""

    source: str
    instrument: str
    price: float
    confidence: float
    observed_at: datetime


@dataclass(frozen=True, eq=False)
class BookSnapshot:
    """An L2 book: bids best (highest) first, asks best (lowest) first; sizes in units."""

    instrument: str
    at: datetime
    bid_prices: np.ndarray
    bid_sizes: np.ndarray
    ask_prices: np.ndarray
    ask_sizes: np.ndarray
