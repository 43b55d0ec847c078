"""One instrument's history lined up for forecasting: row t holds the features of day t and,
as its target, day t+1's Garman-Klass variance (the proxy of that day's variance)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml import features

VARIANCE_FLOOR = 1e-8
"""Smallest variance a proxy or forecast takes (a 0.01% daily move): GK is 0 on a day whose high
equals its low, and QLIKE needs positive numbers on both sides."""


@dataclass(frozen=True)
class Panel:
    dates: pd.DatetimeIndex
    features: np.ndarray
    """(rows, 94), NaN in the warm-up rows."""
    gk: np.ndarray
    """Garman-Klass variance of each day (floored)."""
    returns: np.ndarray
    """Close-to-close log return of each day (NaN on the first)."""
    first: int
    """First row with complete features; rows first..len-2 have features and a target."""

    @property
    def target(self) -> np.ndarray:
        """Next day's GK variance per row (NaN on the last row)."""
        return np.append(self.gk[1:], np.nan)

    @property
    def last(self) -> int:
        """One past the last row that has a target."""
        return len(self.gk) - 1

    def rows_from(self, date: str | pd.Timestamp) -> int:
        """First row whose target day is on or after `date`."""
        return max(self.first, int(self.dates.searchsorted(pd.Timestamp(date))) - 1)


def build(frame: pd.DataFrame) -> Panel:
    """The panel of an OHLCV table (see ml.data.validate)."""
    if len(frame) < features.HISTORY + 1:
        raise ValueError(f"need at least {features.HISTORY + 1} rows, got {len(frame)}")
    matrix = features.compute(frame).to_numpy()
    prices = {name: frame[name].to_numpy(dtype=np.float64) for name in features.OHLCV}
    gk = features.garman_klass(prices["open"], prices["high"], prices["low"], prices["close"])
    returns = np.append(np.nan, np.diff(np.log(prices["close"])))
    return Panel(dates=pd.DatetimeIndex(frame.index), features=matrix,
                 gk=np.maximum(gk, VARIANCE_FLOOR), returns=returns, first=features.HISTORY - 1)
