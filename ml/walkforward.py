"""Walk-forward evaluation on an expanding window: every forecaster is refitted every
`refit_every` test rows on all rows before them, then forecasts the next block; all of them
forecast the same test days against the same proxy."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml import metrics
from ml.baselines import Forecaster
from ml.panel import Panel

REFIT_EVERY = 126
"""Test rows between refits: about half a year of trading days."""
TEST_YEARS = 4
MIN_TRAIN_ROWS = 250


@dataclass
class Evaluation:
    dates: pd.DatetimeIndex
    """The forecast days (each row's target day)."""
    proxy: np.ndarray
    forecasts: dict[str, np.ndarray]
    fit_seconds: dict[str, list[float]] = field(default_factory=dict)

    def table(self, reference: str = "model") -> dict[str, dict[str, float | None]]:
        """QLIKE, MSE and the DM t statistic (QLIKE losses of `reference` minus the row's)."""
        losses = {name: metrics.qlike_losses(self.proxy, f) for name, f in self.forecasts.items()}
        return {
            name: {
                "qlike": float(losses[name].mean()),
                "mse": metrics.mse(self.proxy, forecast),
                "dm_t": None if name == reference
                else metrics.diebold_mariano(losses[reference], losses[name]),
            }
            for name, forecast in self.forecasts.items()
        }


def default_test_start(panel: Panel) -> pd.Timestamp:
    """The last TEST_YEARS years of the data, or its last 20% of rows when that would leave
    fewer than half of the rows for training."""
    last = panel.dates[panel.last]
    start = pd.Timestamp(year=last.year - TEST_YEARS + 1, month=1, day=1)
    usable = panel.last - panel.first
    if panel.rows_from(start) - panel.first < usable / 2:
        start = panel.dates[panel.first + int(usable * 0.8) + 1]
    return start


def blocks(panel: Panel, start: int, stop: int, refit_every: int) -> list[tuple[int, int]]:
    if start - panel.first < MIN_TRAIN_ROWS:
        raise ValueError(f"need at least {MIN_TRAIN_ROWS} training rows before the test window, "
                         f"got {max(start - panel.first, 0)}")
    return [(s, min(s + refit_every, stop)) for s in range(start, stop, refit_every)]


def evaluate(panel: Panel, forecasters: Sequence[Forecaster], test_start: str | pd.Timestamp,
             test_end: str | pd.Timestamp | None = None, refit_every: int = REFIT_EVERY,
             progress: Callable[[list[tuple[int, int]]], Iterable[tuple[int, int]]] = iter,
             ) -> Evaluation:
    """Forecasts of every forecaster for the target days in [test_start, test_end).

    `progress` wraps the list of (start, stop) blocks, e.g. in tqdm."""
    start = panel.rows_from(test_start)
    stop = panel.last if test_end is None else panel.rows_from(test_end)
    forecasts = {f.name: np.empty(stop - start) for f in forecasters}
    seconds: dict[str, list[float]] = {f.name: [] for f in forecasters}
    for block_start, block_stop in progress(blocks(panel, start, stop, refit_every)):
        for forecaster in forecasters:
            began = time.perf_counter()
            forecaster.fit(panel, block_start)
            seconds[forecaster.name].append(time.perf_counter() - began)
            forecasts[forecaster.name][block_start - start:block_stop - start] = (
                forecaster.predict(panel, block_start, block_stop))
    return Evaluation(dates=panel.dates[start + 1:stop + 1], proxy=panel.target[start:stop],
                      forecasts=forecasts, fit_seconds=seconds)
