"""Oracle functions benchmark: microseconds per call of each of the 15 functions of
node.oracle against the straightforward pandas implementation of the same computation
(tests/node/oracle/pandas_reference.py, also the tests' reference), both on the inputs an
Oracle round gives them: replayed data (arch / backtesting packages), five replayed sources,
the seeded book simulator. Ratio = ours / pandas (goal: <= 1 for every function). Before
timing, each pair's answers are compared ("agree"). Then the cost of a whole round of the
worker over the four replayed feeds (every function, the execution log included).

Timed by benchmarks/per_call.py (best of a few runs of enough calls). The whole
run takes about half a minute. Print only: the lead records the figures in docs/benchmarks.md.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from per_call import Case, close, compare

from node.execution import ExecutionLog
from node.oracle import aggregation, liquidity, market_data, order_book, quality
from node.oracle.registry import ORACLE_FUNCTIONS
from node.oracle.worker import OracleParams, OracleWorker
from node.sources.book import BookSimulator
from node.sources.market import Bars, from_ns
from node.sources.replay import (
    DEFAULT_PROFILES,
    INSTRUMENTS,
    ReplayClock,
    load_tape,
    replay_sources,
)
from tests.node.oracle import pandas_reference as pandas_impl

ROUNDS = 60
PARAMS = OracleParams()




def round_inputs() -> dict[str, object]:
    """What one SP500 round hands the functions, at a replay time in 2008 (volatile)."""
    tape = load_tape("SP500")
    index = int(np.searchsorted(tape.bars.time, np.datetime64("2008-10-01")))
    at = from_ns(int(tape.start_ns[index])) + timedelta(hours=9)
    sources = [s for s in replay_sources(3) if s.name != "cirrus"]
    quotes = [q for s in sources if (q := s.quote("SP500", at)) is not None]
    history = tape.bars.slice(index - PARAMS.history_length, index)
    books = BookSimulator(3)
    snapshots = [books.snapshot("SP500", float(c), at) for c in tape.bars.close[index - 20:index]]
    eurusd_tape = load_tape("EURUSD")
    eurusd_at = from_ns(int(eurusd_tape.start_ns[3000]))
    hourly = sources[0].bars("EURUSD", eurusd_at - PARAMS.bar_lookback, eurusd_at)
    daily = market_data.collect_ohlcv_bars(sources[0].bars("SP500", at - PARAMS.bar_lookback, at),
                                           PARAMS.bar_period)
    return {"at": at, "quotes": quotes, "history": history, "books": snapshots,
            "hourly": hourly, "daily": daily}


def cases(inputs: dict[str, object]) -> list[Case]:
    at: datetime = inputs["at"]  # type: ignore[assignment]
    quotes = inputs["quotes"]
    names = [q.source for q in quotes]  # type: ignore[union-attr]
    prices = np.array([q.price for q in quotes])  # type: ignore[union-attr]
    confidences = np.array([q.confidence for q in quotes])  # type: ignore[union-attr]
    history: Bars = inputs["history"]  # type: ignore[assignment]
    books = inputs["books"]
    book = books[-1]  # type: ignore[index]
    hourly: Bars = inputs["hourly"]  # type: ignore[assignment]
    daily: Bars = inputs["daily"]  # type: ignore[assignment]
    end = from_ns(int(history.time[-1].astype(np.int64))) + timedelta(hours=12)
    last_time = from_ns(int(history.time[-1].astype(np.int64)))
    observed = last_time + timedelta(days=1)
    value = float(history.close[-1]) * 1.01
    jump = quality.validate_observation
    return [
        Case("aggregate_median_price",
             lambda: aggregation.aggregate_median_price(prices, PARAMS.f),
             lambda: pandas_impl.median_price(prices), close),
        Case("aggregate_confidence_weighted_price",
             lambda: aggregation.aggregate_confidence_weighted_price(prices, confidences),
             lambda: pandas_impl.confidence_weighted_price(prices, confidences),
             lambda a, b: close(a.price, b[0]) and close(a.confidence, b[1])),
        Case("compute_twap",
             lambda: aggregation.compute_twap(history.time, history.close, end,
                                              PARAMS.twap_window),
             lambda: pandas_impl.twap(history.time, history.close, end, PARAMS.twap_window),
             close),
        Case("should_publish_update",
             lambda: aggregation.should_publish_update(
                 float(prices[0]), at - timedelta(seconds=30), float(prices[1]), at,
                 PARAMS.deviation_threshold, PARAMS.heartbeat),
             lambda: pandas_impl.should_publish(
                 float(prices[0]), at - timedelta(seconds=30), float(prices[1]), at,
                 PARAMS.deviation_threshold, PARAMS.heartbeat),
             lambda a, b: a.publish == b),
        Case("collect_ohlcv_bars",
             lambda: market_data.collect_ohlcv_bars(hourly, PARAMS.bar_period),
             lambda: pandas_impl.resample(hourly, PARAMS.bar_period),
             lambda a, b: bool(np.allclose(a.close, b["close"]) and len(a) == len(b))),
        Case("compute_vwap", lambda: market_data.compute_vwap(daily),
             lambda: pandas_impl.vwap(daily), close),
        Case("compute_realized_volatility",
             lambda: market_data.compute_realized_volatility(daily, PARAMS.periods_per_year),
             lambda: pandas_impl.realized_volatility(daily, PARAMS.periods_per_year),
             lambda a, b: all(close(x, y) for x, y in zip(
                 (a.close_to_close, a.parkinson, a.garman_klass), b, strict=True))),
        Case("compute_book_imbalance",
             lambda: order_book.compute_book_imbalance(book, PARAMS.book_levels),
             lambda: pandas_impl.book_imbalance(book, PARAMS.book_levels), close),
        Case("compute_spread_and_microprice",
             lambda: order_book.compute_spread_and_microprice(book),
             lambda: pandas_impl.spread_and_microprice(book),
             lambda a, b: close(a.spread_bps, b[0]) and close(a.microprice, b[1])),
        Case("detect_book_anomaly",
             lambda: order_book.detect_book_anomaly(books, PARAMS.book_levels),
             lambda: pandas_impl.book_anomaly(books, PARAMS.book_levels),
             lambda a, b: close(a.depth_ratio, b[0]) and a.withdrawal == b[1]
             and len(a.walls) == b[2]),
        Case("compute_market_depth",
             lambda: liquidity.compute_market_depth(book, PARAMS.depth_bps),
             lambda: pandas_impl.market_depth(book, PARAMS.depth_bps),
             lambda a, b: close(a.bid_size, b[0]) and close(a.ask_size, b[1])),
        Case("estimate_price_impact",
             lambda: liquidity.estimate_price_impact(book, PARAMS.impact_notional),
             lambda: pandas_impl.price_impact(book, PARAMS.impact_notional),
             lambda a, b: close(a.impact_bps, b)),
        Case("compute_amihud_illiquidity",
             lambda: liquidity.compute_amihud_illiquidity(daily, PARAMS.amihud_window),
             lambda: pandas_impl.amihud(daily, PARAMS.amihud_window),
             lambda a, b: bool(np.allclose(a.rolling, b.to_numpy(), rtol=1e-9))),
        Case("validate_observation",
             lambda: jump(value, observed, observed, history.time, history.close,
                          max_age=PARAMS.max_age, max_jump_sigmas=PARAMS.max_jump_sigmas),
             lambda: pandas_impl.jump_sigmas(value, observed, history.time, history.close),
             lambda a, b: close(a.jump_sigmas, b)),
        Case("detect_source_outliers",
             lambda: quality.detect_source_outliers(names, prices, PARAMS.outlier_threshold),
             lambda: pandas_impl.source_outliers(names, prices, PARAMS.outlier_threshold),
             lambda a, b: list(a.outliers) == b),
    ]


def round_milliseconds() -> tuple[float, float]:
    """Median and worst wall time of a worker round over the four feeds (5 sources, 1 biased)."""
    started = datetime(2024, 1, 1, tzinfo=UTC)
    profiles = [dataclasses.replace(p, bias_bps=250) if p.name == "cirrus" else p
                for p in DEFAULT_PROFILES]
    log = ExecutionLog()
    worker = OracleWorker(replay_sources(3, profiles), INSTRUMENTS, ReplayClock(started),
                          BookSimulator(3), PARAMS, log)
    worker.run_round(0, started)
    samples = []
    for round_id in range(1, ROUNDS + 1):
        began = time.perf_counter()
        worker.run_round(round_id, started + round_id * timedelta(seconds=1.37))
        samples.append((time.perf_counter() - began) * 1e3)
        log.drain()
    return statistics.median(samples), max(samples)


def main() -> int:
    inputs = round_inputs()
    table = cases(inputs)
    assert [case.name for case in table] == list(ORACLE_FUNCTIONS), "one case per function"
    slower = compare(table)
    median, worst = round_milliseconds()
    print(f"\nworker round, 4 feeds x 5 sources, all 15 functions: median {median:.1f} ms, "
          f"worst {worst:.1f} ms over {ROUNDS} rounds (budget 100 ms)")
    if slower:
        print(f"slower than pandas: {', '.join(slower)}")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
