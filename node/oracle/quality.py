"""Data quality validation: one observation against its feed's history, and sources against
each other.

The jump test scales with time, as a random walk does: from the history's log returns r_i over
gaps dt_i, sigma per sqrt-second is the sample standard deviation of r_i / sqrt(dt_i); a new
value observed dt after the last accepted one may move up to k * sigma * sqrt(dt) (dt floored at
the history's median gap). So a real market move that all sources report is refused only for a
while: the allowance grows with the time since the last accepted value, and the feed catches up.

Outliers: the modified z-score of Iglewicz and Hoaglin, 0.6745 (x - median) / MAD, with MAD the
median absolute deviation from the cross-source median; |z| > 3.5 marks an outlier. The MAD is
floored at `mad_floor` times the median so that sources agreeing to the last digit do not make
a one-basis-point difference an outlier."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import ArrayLike

from node.errors import EmptyInput, StaleInput
from node.oracle import checks
from node.oracle.refusals import ImplausiblePrice, MalformedInput
from node.sources.market import to_ns

MODIFIED_Z = 0.6745
MIN_SOURCES_FOR_OUTLIERS = 3


@dataclass(frozen=True)
class ObservationCheck:
    """What an accepted observation looked like: its age and its jump in standard deviations
    (None when the history was too short or too flat to judge a jump)."""

    age: timedelta
    jump_sigmas: float | None


def validate_observation(value: float, observed_at: datetime, now: datetime,
                         history_times: ArrayLike, history_values: ArrayLike, *,
                         max_age: timedelta, bounds: tuple[float, float] | None = None,
                         max_jump_sigmas: float = 10.0, min_history: int = 10) -> ObservationCheck:
    """Refuse an observation that is not a positive finite number, is stale or from the future,
    lies outside `bounds`, or jumps more than `max_jump_sigmas` from the history (oldest first;
    the jump test needs `min_history` values)."""
    price = checks.positive_scalar("value", value)
    max_age_ns = checks.positive_duration("max_age", max_age)
    checks.require(max_jump_sigmas > 0, "max_jump_sigmas must be > 0")
    checks.count("min_history", min_history, 2)
    observed_ns, now_ns = to_ns(observed_at), to_ns(now)
    age_ns = now_ns - observed_ns
    if age_ns < 0:
        raise MalformedInput(f"observed at {observed_at.isoformat()}, after now")
    if age_ns > max_age_ns:
        raise StaleInput(f"observation is {age_ns / checks.NS_PER_SECOND:.0f} s old, "
                         f"allowed {max_age_ns / checks.NS_PER_SECOND:.0f} s")
    if bounds is not None:
        low, high = bounds
        checks.require(0 <= low < high, "bounds must be (low, high) with 0 <= low < high")
        if not low <= price <= high:
            raise ImplausiblePrice(f"{price} outside the feed's bounds [{low}, {high}]")
    age = timedelta(microseconds=age_ns // 1_000)
    times = checks.nanoseconds("history_times", history_times)
    values = checks.positive_array("history_values", history_values, minimum=0)
    checks.same_length(history_times=times, history_values=values)
    if times.size < min_history:
        return ObservationCheck(age, None)
    sigmas = _jump_sigmas(price, observed_ns, times, values)
    if sigmas is not None and sigmas > max_jump_sigmas:
        raise ImplausiblePrice(f"{price} is {sigmas:.1f} sigma from {values[-1]}, "
                               f"allowed {max_jump_sigmas}")
    return ObservationCheck(age, sigmas)


def _jump_sigmas(price: float, observed_ns: int, times: np.ndarray,
                 values: np.ndarray) -> float | None:
    gaps = np.diff(times).astype(np.float64)
    sigma = float(np.std(np.diff(np.log(values)) / np.sqrt(gaps), ddof=1))
    if sigma == 0:
        return None
    elapsed = max(abs(observed_ns - int(times[-1])), float(np.median(gaps)))
    return abs(math.log(price / values[-1])) / (sigma * math.sqrt(elapsed))


@dataclass(frozen=True)
class SourceOutliers:
    median: float
    mad: float
    scores: tuple[float, ...]
    outliers: tuple[str, ...]
    kept: tuple[str, ...]


def detect_source_outliers(sources: Sequence[str], prices: ArrayLike, threshold: float = 3.5,
                           mad_floor: float = 1e-4) -> SourceOutliers:
    """Score each source by its modified z-score against the cross-source median; those above
    `threshold` are outliers, the others kept (both in the order given)."""
    checks.require(threshold > 0, "threshold must be > 0")
    checks.require(mad_floor > 0, "mad_floor must be > 0")
    values = checks.positive_array("prices", prices)
    names = checks.names(sources, values.size)
    if values.size < MIN_SOURCES_FOR_OUTLIERS:
        raise EmptyInput(f"{values.size} source(s): a median and a MAD need at least 3")
    median = float(np.median(values))
    mad = max(float(np.median(np.abs(values - median))), mad_floor * median)
    scores = MODIFIED_Z * (values - median) / mad
    outlying = np.abs(scores) > threshold
    return SourceOutliers(
        median, mad, tuple(scores.tolist()),
        tuple(name for name, out in zip(names, outlying, strict=True) if out),
        tuple(name for name, out in zip(names, outlying, strict=True) if not out))
