"""Small builders of the functions' inputs, and the hypothesis settings of the property tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from hypothesis import HealthCheck, settings

from node.sources.market import Bars, BookSnapshot

PROPERTIES = settings(max_examples=60, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])
"""Enough examples to find the edges; no deadline on a machine shared by several test runs."""

AT = datetime(2020, 3, 2, 15, 30, tzinfo=UTC)


def book(bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]],
         instrument: str = "TEST", at: datetime = AT) -> BookSnapshot:
    """A book from (price, size) levels, best first on each side."""
    bid = np.array(bids, dtype=np.float64).reshape(-1, 2)
    ask = np.array(asks, dtype=np.float64).reshape(-1, 2)
    return BookSnapshot(instrument, at, bid[:, 0], bid[:, 1], ask[:, 0], ask[:, 1])


def bars(open_: Sequence[float], high: Sequence[float], low: Sequence[float],
         close: Sequence[float], volume: Sequence[float], start: str = "2020-01-01",
         step: str = "1D", instrument: str = "TEST") -> Bars:
    time = np.arange(np.datetime64(start, "ns"), np.datetime64(start, "ns")
                     + len(open_) * np.timedelta64(_step_ns(step), "ns"),
                     np.timedelta64(_step_ns(step), "ns"))
    return Bars(instrument, time, *(np.asarray(column, dtype=np.float64)
                                    for column in (open_, high, low, close, volume)))


def _step_ns(step: str) -> int:
    units = {"D": 86_400, "h": 3_600, "m": 60}
    return int(step[:-1]) * units[step[-1]] * 1_000_000_000


def with_column(source: Bars, **columns: np.ndarray) -> Bars:
    """`source` with some columns replaced (to build bad input)."""
    fields = {name: getattr(source, name)
              for name in ("time", "open", "high", "low", "close", "volume")}
    fields.update(columns)
    return Bars(source.instrument, **fields)
