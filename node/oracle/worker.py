"""The Oracle round: collect -> validate -> detect outliers -> aggregate -> decide publish, with
the market-data, order-book and liquidity analytics of each feed alongside.

Every round, for each feed, the worker runs each of the 15 catalogue functions inside
`ExecutionLog.run(name)` (validate_observation once per quote), so every execution is recorded.
A typed refusal is recorded as "rejected" and the round goes on without what was refused: a
refused quote leaves the aggregate, a refused aggregate leaves the feed unpublished this round.
Functions that need the round's aggregate (the publish decision and the five book functions,
whose simulated book sits around it) do not run for a feed that has none that round.

Times: `now` is the node's wall time (observations and the heartbeat use it); the sources are
asked at the clock's replay time for the feed (staleness, TWAP window and bar look-back are in
that time). "Last answer" for the deviation rule is the worker's own last published value; the
contract's answer takes its place once validators transmit reports (next issue). When the
replay wraps around, a feed's history starts again."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import numpy as np

from node.errors import FunctionInputError, InvalidParameter, UnknownInstrument
from node.execution import ExecutionLog
from node.oracle.aggregation import (
    ConfidentPrice,
    PublishDecision,
    aggregate_confidence_weighted_price,
    aggregate_median_price,
    compute_twap,
    should_publish_update,
)
from node.oracle.liquidity import (
    compute_amihud_illiquidity,
    compute_market_depth,
    estimate_price_impact,
)
from node.oracle.market_data import (
    collect_ohlcv_bars,
    compute_realized_volatility,
    compute_vwap,
)
from node.oracle.observation import Observation, to_scaled
from node.oracle.order_book import (
    compute_book_imbalance,
    compute_spread_and_microprice,
    detect_book_anomaly,
)
from node.oracle.quality import SourceOutliers, detect_source_outliers, validate_observation
from node.sources.base import Clock, Source
from node.sources.book import BookSimulator
from node.sources.market import Bars, BookSnapshot, Quote, to_ns

Result = TypeVar("Result")


@dataclass(frozen=True)
class OracleParams:
    """Durations marked (replay) are in the sources' time, the others in wall time."""

    f: int = 1
    max_age: timedelta = timedelta(days=2)  # (replay)
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    max_jump_sigmas: float = 10.0
    min_history: int = 10
    history_length: int = 256
    outlier_threshold: float = 3.5
    deviation_threshold: float = 0.005
    heartbeat: timedelta = timedelta(seconds=60)
    twap_window: timedelta = timedelta(days=7)  # (replay)
    bar_period: timedelta = timedelta(days=1)
    bar_lookback: timedelta = timedelta(days=90)  # (replay)
    bar_max_age: timedelta = timedelta(days=7)  # (replay)
    periods_per_year: float = 252.0
    amihud_window: int = 20
    book_levels: int = 5
    depth_bps: float = 10.0
    impact_notional: float = 1_000_000.0
    book_history: int = 20
    withdrawal_ratio: float = 0.5
    wall_multiple: float = 8.0

    def __post_init__(self) -> None:
        """The rules of the worker's own bookkeeping; each function checks the rest itself and
        a broken one shows as that function's refusals in the execution log."""
        rules = {"f >= 0": self.f >= 0,
                 "history_length >= min_history": self.history_length >= self.min_history,
                 "book_history >= 2": self.book_history >= 2}
        broken = [rule for rule, holds in rules.items() if not holds]
        if broken:
            raise InvalidParameter(f"oracle params: {', '.join(broken)}")


@dataclass
class _Feed:
    sources: tuple[Source, ...]
    times: deque[int]
    values: deque[float]
    books: deque[BookSnapshot]
    last_at_ns: int | None = None
    last_answer: float | None = None
    last_updated: datetime | None = None

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.fromiter(self.times, np.int64, len(self.times)),
                np.fromiter(self.values, np.float64, len(self.values)))

    def record(self, at_ns: int, value: float) -> None:
        """Append the round's median; a second round at the same replay time replaces it."""
        if self.times and self.times[-1] == at_ns:
            self.values[-1] = value
            return
        self.times.append(at_ns)
        self.values.append(value)

    def restart_if_rewound(self, at_ns: int) -> None:
        if self.last_at_ns is not None and at_ns < self.last_at_ns:
            self.times.clear()
            self.values.clear()
            self.books.clear()
        self.last_at_ns = at_ns


class OracleWorker:
    """Runs Oracle rounds over `sources` for `feeds` (instrument names)."""

    def __init__(self, sources: Sequence[Source], feeds: Sequence[str], clock: Clock,
                 books: BookSimulator, params: OracleParams, log: ExecutionLog) -> None:
        self.clock, self.books, self.params, self.log = clock, books, params, log
        self._feeds: dict[str, _Feed] = {}
        for feed in feeds:
            serving = tuple(source for source in sources if feed in source.instruments)
            if not serving:
                raise UnknownInstrument(f"no source serves {feed!r}")
            if len(serving) < 2 * params.f + 1:
                raise InvalidParameter(f"{feed}: {len(serving)} source(s), f = {params.f} "
                                       f"needs 2f+1 = {2 * params.f + 1}")
            self._feeds[feed] = _Feed(serving, deque(maxlen=params.history_length),
                                      deque(maxlen=params.history_length),
                                      deque(maxlen=params.book_history))
        self.latest: dict[str, dict[str, Any]] = {feed: {} for feed in self._feeds}
        """Per feed, each function's latest result, or the refusal it raised."""

    @property
    def feeds(self) -> tuple[str, ...]:
        return tuple(self._feeds)

    def run_round(self, round_id: int, now: datetime) -> list[Observation]:
        """One round over every feed; the observations to publish (feeds whose value moved past
        the deviation threshold, whose heartbeat is due, or never published). `now` must carry
        a timezone (InvalidParameter otherwise: a naive time would be read as local time)."""
        to_ns(now)
        published = (self._run_feed(feed, round_id, now.astimezone(UTC)) for feed in self._feeds)
        return [observation for observation in published if observation is not None]

    def _attempt(self, feed: str, name: str, function: Callable[..., Result],
                 *args: Any, **kwargs: Any) -> Result | None:
        try:
            with self.log.run(name):
                result = function(*args, **kwargs)
        except FunctionInputError as refusal:
            self.latest[feed][name] = refusal
            return None
        self.latest[feed][name] = result
        return result

    def _run_feed(self, feed: str, round_id: int, now: datetime) -> Observation | None:
        state, params = self._feeds[feed], self.params
        at = self.clock.replay_time(feed, now)
        at_ns = to_ns(at)
        state.restart_if_rewound(at_ns)
        quotes = self._valid_quotes(feed, state, at)
        kept = self._without_outliers(feed, quotes)
        prices = [quote.price for quote in kept]
        median = self._attempt(feed, "aggregate_median_price", aggregate_median_price,
                               prices, params.f)
        confident: ConfidentPrice | None = self._attempt(
            feed, "aggregate_confidence_weighted_price", aggregate_confidence_weighted_price,
            prices, [quote.confidence for quote in kept], min_publishers=2 * params.f + 1)
        if median is not None:
            state.record(at_ns, median)
        self._attempt(feed, "compute_twap", compute_twap, *state.history(), at,
                      params.twap_window)
        self._analyse_bars(feed, self._bar_source(state, kept).bars(
            feed, at - params.bar_lookback, at), at)
        if median is None or confident is None:
            return None
        self._analyse_book(feed, state, self.books.snapshot(feed, median, at))
        decision: PublishDecision | None = self._attempt(
            feed, "should_publish_update", should_publish_update, state.last_answer,
            state.last_updated, median, now, params.deviation_threshold, params.heartbeat)
        if decision is None or not decision.publish:
            return None
        state.last_answer, state.last_updated = median, now
        return Observation(feed, round_id, to_scaled(median), to_scaled(confident.confidence),
                           tuple(quote.source for quote in kept), now)

    def _valid_quotes(self, feed: str, state: _Feed, at: datetime) -> list[Quote]:
        params = self.params
        times, values = state.history()
        quotes = (source.quote(feed, at) for source in state.sources)
        return [quote for quote in quotes if quote is not None and self._attempt(
            feed, "validate_observation", validate_observation, quote.price, quote.observed_at,
            at, times, values, max_age=params.max_age, bounds=params.bounds.get(feed),
            max_jump_sigmas=params.max_jump_sigmas, min_history=params.min_history) is not None]

    def _without_outliers(self, feed: str, quotes: list[Quote]) -> list[Quote]:
        """The quotes not flagged; all of them when too few to judge (the median refuses them
        then anyway, as fewer than 2f + 1 for any f >= 1)."""
        report: SourceOutliers | None = self._attempt(
            feed, "detect_source_outliers", detect_source_outliers,
            [quote.source for quote in quotes], [quote.price for quote in quotes],
            threshold=self.params.outlier_threshold)
        if report is None:
            return quotes
        return [quote for quote in quotes if quote.source not in report.outliers]

    @staticmethod
    def _bar_source(state: _Feed, kept: list[Quote]) -> Source:
        """The first source not flagged this round: a biased source's bars stay out too."""
        trusted = {quote.source for quote in kept}
        return next((source for source in state.sources if source.name in trusted),
                    state.sources[0])

    def _analyse_bars(self, feed: str, raw: Bars, at: datetime) -> None:
        params = self.params
        bars = self._attempt(feed, "collect_ohlcv_bars", collect_ohlcv_bars, raw,
                             params.bar_period, now=at, max_age=params.bar_max_age)
        if bars is None:
            return
        self._attempt(feed, "compute_vwap", compute_vwap, bars)
        self._attempt(feed, "compute_realized_volatility", compute_realized_volatility, bars,
                      params.periods_per_year)
        self._attempt(feed, "compute_amihud_illiquidity", compute_amihud_illiquidity, bars,
                      params.amihud_window)

    def _analyse_book(self, feed: str, state: _Feed, book: BookSnapshot) -> None:
        params = self.params
        state.books.append(book)
        self._attempt(feed, "compute_book_imbalance", compute_book_imbalance, book,
                      params.book_levels)
        self._attempt(feed, "compute_spread_and_microprice", compute_spread_and_microprice, book)
        self._attempt(feed, "compute_market_depth", compute_market_depth, book, params.depth_bps)
        self._attempt(feed, "estimate_price_impact", estimate_price_impact, book,
                      params.impact_notional)
        self._attempt(feed, "detect_book_anomaly", detect_book_anomaly, list(state.books),
                      params.book_levels, params.withdrawal_ratio, params.wall_multiple)
