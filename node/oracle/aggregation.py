"""Price feed aggregation: one price out of many sources, over time, and when to publish it.

Anchors: Chainlink OCR2's median (the report's value is the observation at index n//2 of the
sorted observations, of at least 2f+1 of them, so up to f faulty ones cannot move it outside
the honest range); Pyth's aggregation (each publisher votes at p - c, p and p + c; the price is
the median of the votes, the confidence the larger distance from it to the 25th and 75th
percentile votes, with pyth-client's price_model index rules); Uniswap v3's oracle (the
time-weighted mean of the tick, i.e. the geometric mean of the price, weighted by how long each
price held); Chainlink's deviation / heartbeat trigger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from node.errors import EmptyInput
from node.oracle import checks
from node.oracle.refusals import MalformedInput
from node.sources.market import to_ns


def aggregate_median_price(prices: ArrayLike, f: int) -> float:
    """OCR2's median: the value at index n // 2 of the n sorted observations (the upper median
    when n is even, so the answer is always one of the observations), refused below 2f + 1."""
    checks.count("f", f, 0)
    values = checks.positive_array("prices", prices)
    needed = 2 * f + 1
    if values.size < needed:
        raise EmptyInput(f"{values.size} observation(s); OCR2 needs 2f+1 = {needed} for f = {f}")
    middle = values.size // 2
    return float(np.partition(values, middle)[middle])


@dataclass(frozen=True)
class ConfidentPrice:
    price: float
    confidence: float


def aggregate_confidence_weighted_price(prices: ArrayLike, confidences: ArrayLike,
                                        min_publishers: int = 1) -> ConfidentPrice:
    """Pyth's three-vote aggregation: a publisher with a tight interval puts its three votes
    close together and so weighs more on the median than one with a wide interval."""
    checks.count("min_publishers", min_publishers, 1)
    price = checks.positive_array("prices", prices)
    confidence = checks.non_negative_array("confidences", confidences)
    checks.same_length(prices=price, confidences=confidence)
    if price.size < min_publishers:
        raise EmptyInput(f"{price.size} publisher(s), need {min_publishers}")
    votes = np.concatenate((price - confidence, price, price + confidence))
    votes.sort()
    count = votes.size
    middle = count >> 1
    p50 = votes[middle] if count & 1 else (votes[middle - 1] + votes[middle]) / 2
    quarter = count >> 2
    p25, p75 = votes[quarter], votes[count - 1 - quarter]
    return ConfidentPrice(float(p50), float(max(p50 - p25, p75 - p50)))


def compute_twap(times: ArrayLike, prices: ArrayLike, end: datetime,
                 window: timedelta) -> float:
    """Geometric time-weighted average price over [end - window, end] (Uniswap v3, without tick
    rounding): each price holds from its time until the next one; the price in force at the
    window's start counts from there. Refused like Uniswap's `observe` ("OLD") when the history
    starts after the window does."""
    window_ns = checks.positive_duration("window", window)
    at = checks.nanoseconds("times", times)
    values = checks.positive_array("prices", prices)
    checks.same_length(times=at, prices=values)
    end_ns = to_ns(end)
    start_ns = end_ns - window_ns
    if at[0] > start_ns:
        raise EmptyInput("history starts after the window does: nothing says the price then")
    stop = int(np.searchsorted(at, end_ns, side="right"))
    first = int(np.searchsorted(at, start_ns, side="right")) - 1
    edges = np.empty(stop - first + 1, dtype=np.int64)
    edges[0], edges[1:-1], edges[-1] = start_ns, at[first + 1:stop], end_ns
    held = np.diff(edges).astype(np.float64)
    return float(np.exp(np.dot(held, np.log(values[first:stop])) / window_ns))


@dataclass(frozen=True)
class PublishDecision:
    publish: bool
    reason: Literal["first", "deviation", "heartbeat"] | None
    deviation: float | None


def should_publish_update(last_answer: float | None, last_updated: datetime | None,
                          new_median: float, now: datetime, deviation_threshold: float,
                          heartbeat: timedelta) -> PublishDecision:
    """Chainlink's trigger: publish when |new - last| / last >= the threshold, or when the last
    answer is `heartbeat` old, or when there is none yet."""
    checks.require(0 < deviation_threshold < 1, "deviation_threshold must be in (0, 1)")
    heartbeat_ns = checks.positive_duration("heartbeat", heartbeat)
    median = checks.positive_scalar("new_median", new_median)
    now_ns = to_ns(now)
    if (last_answer is None) != (last_updated is None):
        raise MalformedInput("last_answer and last_updated go together (both or neither)")
    if last_answer is None or last_updated is None:
        return PublishDecision(True, "first", None)
    last = checks.positive_scalar("last_answer", last_answer)
    age_ns = now_ns - to_ns(last_updated)
    if age_ns < 0:
        raise MalformedInput(f"last update {last_updated.isoformat()} is after now")
    deviation = abs(median - last) / last
    if deviation >= deviation_threshold:
        return PublishDecision(True, "deviation", deviation)
    if age_ns >= heartbeat_ns:
        return PublishDecision(True, "heartbeat", deviation)
    return PublishDecision(False, None, deviation)


