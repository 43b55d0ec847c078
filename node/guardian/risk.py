"""Real-time risk monitoring: value at risk, drawdown, exposure concentration.

Value at risk is reported as a positive loss in the positions' currency over one day.
Historical VaR revalues today's positions under each past day's returns (full revaluation of a
linear book: P&L_t = positions · r_t) and takes the `confidence` quantile of the losses (numpy's
default linear interpolation, as pandas' quantile); ES is the mean loss at or beyond it, so
ES >= VaR always. The EWMA VaR is RiskMetrics (1996): the zero-mean covariance
Sigma = sum_k w_k r_{t-k} r_{t-k}' / sum_k w_k with w_k = lambda^k (lambda = 0.94 for daily
data), the portfolio's sigma = sqrt(p' Sigma p), VaR = z_c sigma and ES = sigma phi(z_c) / (1 - c)
under normality. An external sigma forecast per instrument (a GARCH or ML model's) replaces the
EWMA volatilities and keeps the EWMA correlations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from node.errors import EmptyInput
from node.oracle import checks
from node.oracle.refusals import MalformedInput

RISKMETRICS_DAILY_DECAY = 0.94
STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class ValueAtRisk:
    var: float
    es: float
    confidence: float
    observations: int


@dataclass(frozen=True)
class ParametricValueAtRisk:
    var: float
    es: float
    confidence: float
    sigma: float
    """The portfolio's one-day P&L standard deviation, in the positions' currency."""
    forecast: bool
    """True when the instruments' sigma came from the external forecast, not the EWMA."""


def _positions_and_returns(positions: ArrayLike,
                           returns: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n values, signed, in currency) and a (days, n) return matrix; one position may
    come with a 1-D return history."""
    exposure = checks.finite_array("positions", positions)
    history = np.asarray(returns, dtype=np.float64)
    if history.ndim == 1 and exposure.size == 1:
        history = history[:, None]
    if history.ndim != 2 or history.shape[1] != exposure.size:
        raise MalformedInput(f"returns of shape {history.shape} for {exposure.size} position(s): "
                             "need one column per position")
    if history.shape[0] == 0:
        raise EmptyInput("no return history")
    if not np.isfinite(history).all():
        checks.finite_array("returns", history.ravel())
    if (history <= -1).any():
        raise MalformedInput("a return at or below -100%: returns are simple returns of prices")
    return exposure, history


def _confidence(confidence: float) -> float:
    checks.require(0.5 <= confidence < 1, f"confidence must be in [0.5, 1), got {confidence}")
    return float(confidence)


def compute_var_historical(positions: ArrayLike, returns: ArrayLike,
                           confidence: float = 0.99) -> ValueAtRisk:
    """One-day historical VaR and ES at `confidence` of the positions (currency value per
    instrument) under the return history (rows are days, oldest first). Refused when the tail
    beyond the quantile would hold no whole observation (fewer than 1 / (1 - confidence))."""
    level = _confidence(confidence)
    exposure, history = _positions_and_returns(positions, returns)
    days = history.shape[0]
    needed = math.ceil(round(1 / (1 - level), 9))
    if days < needed:
        raise EmptyInput(f"{days} day(s) of returns; a {level:.1%} tail needs {needed}")
    losses = -(history @ exposure)
    var = float(np.quantile(losses, level))
    es = float(losses[losses >= var].mean())
    return ValueAtRisk(var, es, level, days)


def compute_var_ewma(positions: ArrayLike, returns: ArrayLike, confidence: float = 0.99,
                     decay: float = RISKMETRICS_DAILY_DECAY,
                     sigma_forecast: ArrayLike | None = None) -> ParametricValueAtRisk:
    """RiskMetrics one-day VaR and ES at `confidence`; `sigma_forecast`, when given, is each
    instrument's forecast daily return sigma and replaces the EWMA's."""
    level = _confidence(confidence)
    checks.require(0 < decay < 1, f"decay must be in (0, 1), got {decay}")
    exposure, history = _positions_and_returns(positions, returns)
    days = history.shape[0]
    weights = decay ** np.arange(days - 1, -1, -1, dtype=np.float64)
    weighted = history * (weights / weights.sum())[:, None]
    covariance = weighted.T @ history
    if sigma_forecast is not None:
        covariance = _with_volatilities(covariance, sigma_forecast, exposure.size)
    sigma = math.sqrt(max(float(exposure @ covariance @ exposure), 0.0))
    z = STANDARD_NORMAL.inv_cdf(level)
    es = sigma * STANDARD_NORMAL.pdf(z) / (1 - level)
    return ParametricValueAtRisk(z * sigma, es, level, sigma, sigma_forecast is not None)


def _with_volatilities(covariance: np.ndarray, sigma_forecast: ArrayLike,
                       size: int) -> np.ndarray:
    forecast = checks.non_negative_array("sigma_forecast", sigma_forecast)
    if forecast.size != size:
        raise MalformedInput(f"{forecast.size} sigma forecast(s) for {size} position(s)")
    volatility = np.sqrt(np.diag(covariance))
    if size > 1 and (volatility == 0).any():
        raise EmptyInput("an instrument without any return in the history has no correlation "
                         "to carry the sigma forecast")
    scale = np.divide(forecast, volatility, out=np.zeros_like(forecast), where=volatility > 0)
    scaled = covariance * np.outer(scale, scale)
    if size == 1:
        scaled[0, 0] = forecast[0] ** 2
    return scaled


@dataclass(frozen=True)
class Drawdown:
    """Drawdowns as fractions of the running peak, in [0, 1]: `current` at the last point,
    `maximum` the deepest over the curve, between `peak_index` and `trough_index`."""

    current: float
    maximum: float
    peak: float
    peak_index: int
    trough_index: int


def compute_drawdown(equity: ArrayLike) -> Drawdown:
    """Current and maximum drawdown of an equity curve (positive values, oldest first)."""
    curve = checks.positive_array("equity", equity)
    running_peak = np.maximum.accumulate(curve)
    drawdowns = 1.0 - curve / running_peak
    trough = int(np.argmax(drawdowns))
    peak_index = int(np.argmax(curve[:trough + 1]))
    return Drawdown(float(drawdowns[-1]), float(drawdowns[trough]), float(running_peak[-1]),
                    peak_index, trough)


@dataclass(frozen=True)
class Exposure:
    """Gross (Σ|x|) and net (Σx) exposure in currency; the Herfindahl index of the shares
    |x_i| / gross, in [1/n, 1] for n open positions; the largest share and its instrument. A
    flat book has no concentration: Herfindahl and largest share 0, largest None."""

    gross: float
    net: float
    herfindahl: float
    largest_share: float
    largest: str | None


def compute_exposure_concentration(instruments: Sequence[str], quantities: ArrayLike,
                                   prices: ArrayLike) -> Exposure:
    """Exposure of signed quantities at their prices, and how concentrated it is."""
    size = checks.finite_array("quantities", quantities)
    price = checks.positive_array("prices", prices)
    checks.same_length(quantities=size, prices=price)
    names = tuple(instruments)
    if len(names) != size.size or len(set(names)) != len(names):
        raise MalformedInput(f"need {size.size} distinct instrument names, got {names}")
    value = size * price
    magnitude = np.abs(value)
    gross = float(magnitude.sum())
    net = float(value.sum())
    if gross == 0:
        return Exposure(0.0, net, 0.0, 0.0, None)
    shares = magnitude / gross
    largest = int(np.argmax(shares))
    return Exposure(gross, net, float(shares @ shares), float(shares[largest]), names[largest])
