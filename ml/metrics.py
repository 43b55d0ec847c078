"""Forecast losses and the Diebold-Mariano test, on variance forecasts `h` of a proxy `s`.

QLIKE is Patton's (2011) loss normalised to zero at the truth: s/h - log(s/h) - 1. With MSE it
is one of the two losses whose ranking of forecasts survives a noisy but unbiased proxy; QLIKE
punishes under-prediction of risk far more than over-prediction and does not let a few calm-
to-crash days dominate, which is why it is the headline figure.
"""

from __future__ import annotations

import math

import numpy as np

PERCENT_SQUARED = 1e4
"""MSE is reported on variances in percent² (daily variance × 10⁴), so it reads as numbers."""


def qlike_losses(proxy: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    ratio = proxy / forecast
    return ratio - np.log(ratio) - 1


def mse_losses(proxy: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    return ((proxy - forecast) * PERCENT_SQUARED) ** 2


def qlike(proxy: np.ndarray, forecast: np.ndarray) -> float:
    return float(qlike_losses(proxy, forecast).mean())


def mse(proxy: np.ndarray, forecast: np.ndarray) -> float:
    return float(mse_losses(proxy, forecast).mean())


def newey_west_lag(count: int) -> int:
    """Newey and West's (1994) automatic bandwidth for the Bartlett kernel: ⌊4 (T/100)^(2/9)⌋."""
    return math.floor(4 * (count / 100) ** (2 / 9))


def newey_west_variance(values: np.ndarray, lag: int) -> float:
    """Long-run variance of `values`: autocovariances to `lag`, Bartlett weights 1 - j/(lag+1)."""
    centred = values - values.mean()
    count = len(centred)
    variance = centred @ centred / count
    for j in range(1, lag + 1):
        variance += 2 * (1 - j / (lag + 1)) * (centred[j:] @ centred[:-j]) / count
    return float(variance)


def diebold_mariano(losses_a: np.ndarray, losses_b: np.ndarray, lag: int | None = None) -> float:
    """DM t statistic of mean(losses_a - losses_b); below -1.96, `a` is better at the 5% level."""
    differential = np.asarray(losses_a) - np.asarray(losses_b)
    count = len(differential)
    lag = newey_west_lag(count) if lag is None else lag
    variance = newey_west_variance(differential, lag)
    if variance <= 0:
        return 0.0 if differential.mean() == 0 else math.copysign(math.inf, differential.mean())
    return float(differential.mean() / math.sqrt(variance / count))
