"""The forecasters the model must beat, all forecasting the same thing: row t's forecast is a
variance for day t+1 made with data up to day t's close.

Each has `fit(panel, stop)` (train on rows first..stop-1, whose targets are known by the close
of day `stop`) and `predict(panel, start, stop)`. EWMA and GARCH forecast close-to-close
variance, as they are used in practice; HAR and ridge are fitted to the GK proxy itself.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from typing import Protocol

import numpy as np

from ml.panel import VARIANCE_FLOOR, Panel
from ml.scaler import Scaler

RISKMETRICS_LAMBDA = 0.94
HAR_WINDOWS = (1, 5, 22)
RIDGE_ALPHA = 30.0
"""Ridge penalty on standardised features, chosen on the 2011-2014 validation years."""
GARCH_SCALE = 100.0
"""arch fits percent returns: its optimiser is badly conditioned on raw daily returns."""


class Forecaster(Protocol):
    name: str

    def fit(self, panel: Panel, stop: int) -> None: ...

    def predict(self, panel: Panel, start: int, stop: int) -> np.ndarray: ...


class Ewma:
    """RiskMetrics: h(t+1) = λ h(t) + (1 - λ) r(t)², λ = 0.94, started at the first returns'
    mean square; nothing to fit."""

    name = "ewma"

    def __init__(self, decay: float = RISKMETRICS_LAMBDA) -> None:
        self.decay = decay

    def fit(self, panel: Panel, stop: int) -> None:
        pass

    def predict(self, panel: Panel, start: int, stop: int) -> np.ndarray:
        return ewma_path(panel.returns, self.decay)[start:stop]


def ewma_path(returns: np.ndarray, decay: float) -> np.ndarray:
    """Forecast made at each row (NaN on the first, which has no return)."""
    squared = returns[1:] ** 2
    forecasts = np.full(len(returns), np.nan)
    level = squared[:20].mean()
    for t, value in enumerate(squared, start=1):
        level = decay * level + (1 - decay) * value
        forecasts[t] = level
    return np.maximum(forecasts, VARIANCE_FLOOR)


class Garch:
    """GARCH(1,1) with a constant mean and normal errors (arch), fitted on returns up to the
    refit day; between refits the parameters stay fixed and the filter runs on."""

    name = "garch"

    def fit(self, panel: Panel, stop: int) -> None:
        from arch import arch_model

        self.model = arch_model(panel.returns[1:] * GARCH_SCALE, mean="Constant", vol="GARCH",
                                p=1, q=1, dist="normal", rescale=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.result = self.model.fit(last_obs=stop, disp="off")

    def predict(self, panel: Panel, start: int, stop: int) -> np.ndarray:
        forecast = self.result.forecast(horizon=1, start=start - 1, reindex=False)
        variance = forecast.variance.to_numpy()[: stop - start, 0] / GARCH_SCALE ** 2
        return np.maximum(variance, VARIANCE_FLOOR)


class LogLinear(ABC):
    """Least squares (optionally ridge) on log GK, mapped back with Duan's smearing factor
    mean(exp(residual)), which removes the bias exp(E[log]) < E[level] would leave."""

    name: str

    def __init__(self, alpha: float = 0.0) -> None:
        self.alpha = alpha

    @abstractmethod
    def prepare(self, panel: Panel, start: int, stop: int, fit: bool) -> np.ndarray:
        """Regressors of rows start..stop-1 (`fit`: they are the training rows)."""

    def fit(self, panel: Panel, stop: int) -> None:
        inputs = self.prepare(panel, panel.first, stop, fit=True)
        self.coefficients, self.smearing = log_ridge(inputs, np.log(panel.target[panel.first:stop]),
                                                     self.alpha)

    def predict(self, panel: Panel, start: int, stop: int) -> np.ndarray:
        inputs = self.prepare(panel, start, stop, fit=False)
        log_forecast = self.coefficients[0] + inputs @ self.coefficients[1:]
        return np.maximum(np.exp(log_forecast) * self.smearing, VARIANCE_FLOOR)


def log_ridge(inputs: np.ndarray, log_target: np.ndarray,
              alpha: float) -> tuple[np.ndarray, float]:
    """Ridge regression of a log variance on `inputs` (intercept first and unpenalised) and
    Duan's smearing factor of its residuals."""
    design = np.column_stack([np.ones(len(inputs)), inputs])
    penalty = alpha * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    coefficients = np.linalg.solve(design.T @ design + penalty, design.T @ log_target)
    return coefficients, float(np.exp(log_target - design @ coefficients).mean())


class Har(LogLinear):
    """Corsi's HAR on log GK: log h(t+1) = b0 + b1 log GK(t) + b5 log mean GK(t-4..t)
    + b22 log mean GK(t-21..t)."""

    name = "har"

    def prepare(self, panel: Panel, start: int, stop: int, fit: bool) -> np.ndarray:
        return har_regressors(panel.gk)[start:stop]


def har_regressors(gk: np.ndarray) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(gk)])
    columns = []
    for window in HAR_WINDOWS:
        means = np.full(len(gk), np.nan)
        means[window - 1:] = (cumulative[window:] - cumulative[:-window]) / window
        columns.append(np.log(means))
    return np.column_stack(columns)


class Ridge(LogLinear):
    """Ridge regression of log GK(t+1) on the 94 features, scaled as the model scales them."""

    name = "ridge"

    def __init__(self, alpha: float = RIDGE_ALPHA) -> None:
        super().__init__(alpha)

    def prepare(self, panel: Panel, start: int, stop: int, fit: bool) -> np.ndarray:
        if fit:
            self.scaler = Scaler.fit(panel.features[start:stop])
        return self.scaler.transform(panel.features[start:stop])


def all_baselines() -> list[Forecaster]:
    return [Ewma(), Garch(), Har(), Ridge()]
