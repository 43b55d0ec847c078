"""Volatility-targeted trend following on the agreed feed values (PAPER trading).

Signal: the sign of the fast moving average of the feed values minus the slow one (+1 long,
-1 short, or 0 when they are equal or shorts are not allowed). Size (Moskowitz, Ooi and
Pedersen's time-series momentum; Carver's volatility targeting):

    leverage = min(target_volatility / forecast annual volatility, max_leverage)
    target   = signal * leverage * equity / price      (rounded toward zero to quantity_step)

The forecast is per period (one feed step) from an injected callable over the log returns of the
values the strategy sees, annualised by sqrt(periods_per_year); the default is RiskMetrics'
EWMA with lambda 0.94. An injected `instrument_forecast` (the ML service's next-day forecast,
node/runtime/forecasts.py) is asked first, by instrument and time; when it has none the
returns' forecast decides. A forecast of zero takes the cap. A change smaller than
min_trade_fraction of equity is not traded (no churn on small moves), and a change that crosses
zero is two orders, one closing the position and one opening the other side, so that a
REDUCING trading state can let the first through."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

import numpy as np

from node.desk.money import MONEY_CONTEXT, ZERO, decimal_of
from node.desk.records import Order
from node.errors import NonFiniteInput
from node.oracle import checks

M = MONEY_CONTEXT
RISKMETRICS_LAMBDA = 0.94

VolatilityForecast = Callable[[np.ndarray], float]
"""Log returns, oldest first -> the standard deviation of the next one (same period)."""
InstrumentForecast = Callable[[str, datetime], "float | None"]
"""(instrument, time of the latest value) -> the standard deviation of the instrument's next
period return, or None when there is none."""


class Strategy(Protocol):
    """What the desk asks of a strategy."""

    @property
    def lookback(self) -> int:
        """How many of the latest feed values of an instrument it reads."""
        ...

    def orders(self, instrument: str, prices: Sequence[float], position: Decimal,
               equity: Decimal, at: datetime, next_id: Callable[[], str]) -> list[Order]:
        """The orders that move `position` towards the strategy's target, ids from next_id."""
        ...


def ewma_volatility(returns: np.ndarray, decay: float = RISKMETRICS_LAMBDA) -> float:
    """sqrt(sum_k decay^k r_{t-k}^2 / sum_k decay^k): the newest return weighs most, the
    weights normalised over the returns given."""
    values = checks.finite_array("returns", returns)
    checks.require(0 < decay < 1, f"decay must be in (0, 1), got {decay}")
    weights = decay ** np.arange(values.size - 1, -1, -1, dtype=np.float64)
    return float(math.sqrt(np.dot(weights, values * values) / weights.sum()))


@dataclass(frozen=True)
class VolTargetTrend:
    fast: int = 20
    slow: int = 100
    target_volatility: float = 0.10
    periods_per_year: int = 252
    max_leverage: float = 2.0
    min_trade_fraction: float = 0.02
    quantity_step: Decimal = Decimal("0.001")
    allow_short: bool = True
    forecast: VolatilityForecast = field(default=ewma_volatility)
    instrument_forecast: InstrumentForecast | None = None

    def __post_init__(self) -> None:
        checks.count("fast", self.fast, 1)
        checks.count("slow", self.slow, 2)
        checks.require(self.fast < self.slow, "fast must be shorter than slow")
        checks.require(self.target_volatility > 0, "target_volatility must be > 0")
        checks.count("periods_per_year", self.periods_per_year, 1)
        checks.require(self.max_leverage > 0, "max_leverage must be > 0")
        checks.require(0 <= self.min_trade_fraction < 1, "min_trade_fraction must be in [0, 1)")
        checks.require(self.quantity_step > ZERO, "quantity_step must be > 0")

    @property
    def lookback(self) -> int:
        """How many of the latest feed values the strategy reads."""
        return self.slow + 1

    def signal(self, prices: Sequence[float]) -> int:
        values = checks.positive_array("prices", prices, self.slow)
        gap = values[-self.fast:].mean() - values[-self.slow:].mean()
        direction = int(np.sign(gap))
        return direction if self.allow_short or direction > 0 else 0

    def leverage(self, prices: Sequence[float], instrument: str | None = None,
                 at: datetime | None = None) -> float:
        """target / forecast annual volatility, capped at max_leverage; the instrument's
        forecast at `at` when there is one, else the returns' forecast."""
        values = checks.positive_array("prices", prices, 3)
        period = self._period_volatility(values, instrument, at)
        if not math.isfinite(period) or period < 0:
            raise NonFiniteInput(f"volatility forecast is {period}, need a finite value >= 0")
        annual = period * math.sqrt(self.periods_per_year)
        if annual == 0:
            return self.max_leverage
        return min(self.target_volatility / annual, self.max_leverage)

    def _period_volatility(self, values: np.ndarray, instrument: str | None,
                           at: datetime | None) -> float:
        if self.instrument_forecast is not None and instrument is not None and at is not None:
            sigma = self.instrument_forecast(instrument, at)
            if sigma is not None:
                return sigma
        return self.forecast(np.diff(np.log(values)))

    def target_position(self, prices: Sequence[float], equity: Decimal,
                        instrument: str | None = None, at: datetime | None = None) -> Decimal:
        """The position to hold (0 until `slow` values are there)."""
        if len(prices) < self.slow:
            return ZERO
        direction = self.signal(prices)
        if direction == 0 or equity <= ZERO:
            return ZERO
        leverage = decimal_of("leverage",
                              self.leverage(prices[-self.lookback:], instrument, at))
        size = M.divide(M.multiply(leverage, equity), decimal_of("price", prices[-1]))
        return M.multiply(direction, self._rounded(size))

    def _rounded(self, size: Decimal) -> Decimal:
        steps = M.divide(size, self.quantity_step).to_integral_value(rounding=ROUND_DOWN)
        return M.multiply(steps, self.quantity_step)

    def orders(self, instrument: str, prices: Sequence[float], position: Decimal,
               equity: Decimal, at: datetime, next_id: Callable[[], str]) -> list[Order]:
        """Market orders from `position` to the target, or none for a change too small."""
        target = self.target_position(prices, equity, instrument, at)
        change = M.subtract(target, position)
        price = decimal_of("price", prices[-1])
        threshold = M.multiply(decimal_of("min_trade_fraction", self.min_trade_fraction), equity)
        if change == ZERO or M.multiply(abs(change), price) < threshold:
            return []
        if position != ZERO and target != ZERO and (position > ZERO) != (target > ZERO):
            legs = [-position, target]
        else:
            legs = [change]
        return [Order(next_id(), instrument, "buy" if leg > ZERO else "sell", abs(leg), at)
                for leg in legs]
