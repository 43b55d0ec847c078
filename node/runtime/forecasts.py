"""Next-day volatility forecasts of the replayed instruments from the ML service (docs/ml.md),
for a node holding an Oracle or Guardian license and signed in.

The question is the instrument's daily OHLCV history up to the bar in progress at the asked
time (`daily_history`, at most HISTORY_BARS of them); the answer, its forecast sigma of the
next bar's return, is cached per instrument until the replay moves to a new bar, so a node
asks once per day and instrument however many equity points or orders arrive in it. Every
call has a deadline (NODERR_ML_DEADLINE). A refusal or a timeout is no answer: the caller falls
back to its EWMA, the log line names the gRPC status and the server's reason (a warning when
the status is new, at debug level while it repeats), `fallbacks` keeps it, and that day is not
asked again (the next bar is). Nothing here waits on the ML
service longer than the deadline, and a guardian calls it off its event loop
(`sigma_async`), so order checks never wait on it."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from client.forecasts import OHLCV, ForecastClient, ForecastError, History
from node.oracle.observation import Observation, to_scaled
from node.settings import NodeSettings
from node.sources.market import to_ns
from node.sources.replay import load_tape

log = logging.getLogger("noderr.node.forecasts")
HISTORY_BARS = 250
"""Bars sent per question: the model's 61-row feature warm-up plus its input span, with room."""
MAX_FALLBACKS_KEPT = 100
NO_SESSION = "NO_SESSION"
"""The fallback code when the node holds no session token to present."""
UNUSABLE = "UNUSABLE_FORECAST"
"""The fallback code of an answer that is not a finite volatility >= 0."""
VOLATILITY_FEED_SUFFIX = "_VOL"
"""An Oracle's forecast volatility of INSTRUMENT goes out as feed INSTRUMENT_VOL (a name of
noderr.feeds.FEED_NAME's pattern, distinct from every price feed)."""
VOLATILITY_SOURCE = "ml"


def bars_until(instrument: str, at: datetime) -> int:
    """How many of the instrument's bars have begun by `at` (the bar in progress included)."""
    return int(np.searchsorted(load_tape(instrument).start_ns, to_ns(at), side="right"))


def daily_history(instrument: str, at: datetime, bars: int = HISTORY_BARS) -> History:
    """The last `bars` OHLCV bars of the replayed instrument up to the one in progress at `at`,
    oldest first, as the ML service takes them."""
    stop = bars_until(instrument, at)
    window = load_tape(instrument).bars.slice(max(stop - bars, 0), stop)
    return {name: getattr(window, name).tolist() for name in OHLCV}


def volatility_feed(instrument: str) -> str:
    return f"{instrument}{VOLATILITY_FEED_SUFFIX}"


def volatility_observation(instrument: str, round_id: int, sigma: float,
                           now: datetime) -> Observation | None:
    """The forecast sigma as an Oracle observation of feed INSTRUMENT_VOL (scaled by 10**8, as
    prices are; no confidence of its own), None when it rounds to zero."""
    value = to_scaled(sigma)
    if value <= 0:
        return None
    return Observation(volatility_feed(instrument), round_id, value, 0, (VOLATILITY_SOURCE,),
                       now)


@dataclass(frozen=True)
class Fallback:
    """A forecast not had: the instrument, the bar it was for, the gRPC status name (or
    NO_SESSION) and the reason."""

    instrument: str
    bar: int
    code: str
    reason: str


class VolatilityForecasts:
    """Forecast sigmas of instruments from the ML service at `target`, presented with the
    session token `token()` gives at each call (a node signs in again when its session ends)."""

    def __init__(self, target: str, token: Callable[[], str | None], deadline: float) -> None:
        self.target, self.token, self.deadline = target, token, deadline
        self.fallbacks: deque[Fallback] = deque(maxlen=MAX_FALLBACKS_KEPT)
        """The latest fallbacks; `fallback_codes` counts them all by code."""
        self.fallback_codes: Counter[str] = Counter()
        self.answered = 0
        self._failing: str | None = None
        self._latest: dict[str, tuple[int, float | None]] = {}
        self._client: tuple[str, ForecastClient] | None = None
        self._lock = threading.Lock()

    def sigma(self, instrument: str, at: datetime) -> float | None:
        """The forecast sigma of the next bar's return of `instrument` as of `at`, or None (the
        caller's EWMA then); blocks up to the deadline on a new bar, not at all on a known one."""
        bar = bars_until(instrument, at)
        with self._lock:
            known = self._latest.get(instrument)
            if known is not None and known[0] == bar:
                return known[1]
            answer = self._ask(instrument, bar, at)
            self._latest[instrument] = (bar, answer)
            return answer

    @property
    def fell_back(self) -> int:
        return self.fallback_codes.total()

    async def sigma_async(self, instrument: str, at: datetime) -> float | None:
        """`sigma` in a worker thread, leaving the event loop free while the service answers."""
        return await asyncio.to_thread(self.sigma, instrument, at)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client[1].close()
                self._client = None

    def _ask(self, instrument: str, bar: int, at: datetime) -> float | None:
        token = self.token()
        if not token:
            self._fell_back(Fallback(instrument, bar, NO_SESSION, "the node is not signed in"))
            return None
        try:
            forecast = self._client_for(token).predict(instrument,
                                                       daily_history(instrument, at))
        except ForecastError as error:
            self._fell_back(Fallback(instrument, bar, error.code, error.detail))
            return None
        if not (math.isfinite(forecast.volatility) and forecast.volatility >= 0):
            self._fell_back(Fallback(instrument, bar, UNUSABLE, f"volatility "
                                     f"{forecast.volatility} from {forecast.model_version}"))
            return None
        self.answered += 1
        self._failing = None
        return forecast.volatility

    def _client_for(self, token: str) -> ForecastClient:
        if self._client is None or self._client[0] != token:
            if self._client is not None:
                self._client[1].close()
            self._client = (token, ForecastClient(self.target, token, self.deadline))
        return self._client[1]

    def _fell_back(self, fallback: Fallback) -> None:
        self.fallback_codes[fallback.code] += 1
        self.fallbacks.append(fallback)
        level = logging.DEBUG if fallback.code == self._failing else logging.WARNING
        self._failing = fallback.code
        log.log(level, "no ML forecast of %s (bar %d) from %s: %s %s; EWMA volatility used",
                fallback.instrument, fallback.bar, self.target, fallback.code, fallback.reason)


def node_forecasts(settings: NodeSettings,
                   token: Callable[[], str | None]) -> VolatilityForecasts | None:
    """The forecasts of a node configured with NODERR_ML_TARGET, None without it."""
    if not settings.ml_target:
        return None
    return VolatilityForecasts(settings.ml_target, token, settings.ml_deadline)
