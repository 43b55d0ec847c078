"""What a Guardian or the desk does with a forecast: one-day parametric VaR of a position, and
the position whose VaR equals a risk budget. Normal returns with the forecast variance; the
daily mean is ignored (it is two orders of magnitude below one day's volatility)."""

from __future__ import annotations

import math
from statistics import NormalDist


def value_at_risk(variance: float, notional: float, confidence: float = 0.99) -> float:
    """Loss (positive, in the notional's currency) exceeded on 1 - confidence of days."""
    _check(variance, confidence)
    return NormalDist().inv_cdf(confidence) * math.sqrt(variance) * abs(notional)


def position_size(variance: float, risk_budget: float, confidence: float = 0.99) -> float:
    """Largest notional whose one-day VaR at `confidence` stays within `risk_budget`."""
    _check(variance, confidence)
    if risk_budget < 0:
        raise ValueError("risk budget must not be negative")
    return risk_budget / (NormalDist().inv_cdf(confidence) * math.sqrt(variance))


def _check(variance: float, confidence: float) -> None:
    if not variance > 0:
        raise ValueError(f"variance must be positive, got {variance}")
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence}")
