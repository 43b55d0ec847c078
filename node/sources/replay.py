"""Replay of real market data that ships inside PyPI packages, as several imperfect sources.

Data: `arch.data` S&P 500 and NASDAQ daily OHLCV (1999-2018), `backtesting.test` GOOG daily
(2004-2013) and EURUSD hourly (2017-2018). Bar i spans [time[i], time[i + 1]) (the last one as
long as the one before it). Inside a bar the price follows the usual intrabar path of
backtesters: open, then the extreme against the bar's direction, then the other extreme, then
close (open-low-high-close for an up bar, open-high-low-close for a down bar), linearly in
time, so a quote always lies in its bar's range.

Each source (`SourceProfile`) sees that path through its own imperfections: multiplicative
noise (clipped to the bar's range: every trade of a bar lies within its high and low),
latency (it reports the price of `latency` ago), dropouts (no update this time, with a
probability) and, for a faulty source, a bias applied after the clip. The randomness of a
quote depends only on (seed, source, instrument, time): the same question gets the same answer
in any order.

`ReplayClock` maps the node's wall time to each instrument's replay time at `speed` replayed
seconds per wall second, starting `warmup` after the data's first bar (so look-back windows
are full from the first round) and wrapping around at the end so a node can run forever."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from node.errors import InvalidParameter, UnknownInstrument
from node.sources.market import Bars, Quote, from_ns, to_ns

BPS = 1e-4
MIN_CONFIDENCE_BPS = 1.0
"""A source never claims more certainty than one basis point."""


def _sp500() -> pd.DataFrame:
    from arch.data import sp500

    return sp500.load()


def _nasdaq() -> pd.DataFrame:
    from arch.data import nasdaq

    return nasdaq.load()


def _goog() -> pd.DataFrame:
    from backtesting.test import GOOG

    return GOOG


def _eurusd() -> pd.DataFrame:
    from backtesting.test import EURUSD

    return EURUSD


DATASETS: dict[str, Callable[[], pd.DataFrame]] = {
    "SP500": _sp500, "NASDAQ": _nasdaq, "GOOG": _goog, "EURUSD": _eurusd,
}
INSTRUMENTS: tuple[str, ...] = tuple(DATASETS)


@dataclass(frozen=True, eq=False)
class Tape:
    """An instrument's replayed bars with each bar's start and end as int64 nanoseconds."""

    bars: Bars
    start_ns: np.ndarray
    end_ns: np.ndarray

    def bar_at(self, t_ns: int) -> int | None:
        """The index of the bar in progress at `t_ns`, None outside the data."""
        index = int(np.searchsorted(self.start_ns, t_ns, side="right")) - 1
        if index < 0 or t_ns >= self.end_ns[-1]:
            return None
        return index


def preload() -> None:
    """Load every instrument's tape now, in the calling thread. A node calls it on its main
    thread before its worker threads read tapes: importing `backtesting` (bokeh) first inside
    a worker thread aborted Oracle nodes under heavy load."""
    for instrument in INSTRUMENTS:
        load_tape(instrument)


@functools.cache
def load_tape(instrument: str) -> Tape:
    """The replayed data of `instrument` (loaded once per process, read-only)."""
    loader = DATASETS.get(instrument)
    if loader is None:
        raise UnknownInstrument(f"no replay data for {instrument!r}; known: {', '.join(DATASETS)}")
    frame = loader()
    columns = [_frozen(frame[name].to_numpy(dtype=np.float64))
               for name in ("Open", "High", "Low", "Close", "Volume")]
    time = _frozen(frame.index.to_numpy(dtype="datetime64[ns]"))
    start_ns = time.view(np.int64)
    end_ns = _frozen(np.append(start_ns[1:], 2 * start_ns[-1] - start_ns[-2]))
    return Tape(Bars(instrument, time, *columns), start_ns, end_ns)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


def intrabar_price(open_: float, high: float, low: float, close: float,
                   fraction: float) -> float:
    """The price `fraction` (0..1) of the way through a bar along the backtesters' path."""
    first, second = (low, high) if close >= open_ else (high, low)
    return float(np.interp(fraction, (0.0, 1 / 3, 2 / 3, 1.0), (open_, first, second, close)))


@dataclass(frozen=True)
class SourceProfile:
    """How one replayed source distorts the data: noise and bias in basis points, latency in
    replay time, dropout as a probability per quote."""

    name: str
    noise_bps: float = 2.0
    latency: timedelta = timedelta(0)
    dropout: float = 0.0
    bias_bps: float = 0.0

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidParameter("a source needs a name")
        if not self.noise_bps >= 0:
            raise InvalidParameter(f"{self.name}: noise_bps must be >= 0")
        if self.latency < timedelta(0):
            raise InvalidParameter(f"{self.name}: latency must be >= 0")
        if not 0 <= self.dropout < 1:
            raise InvalidParameter(f"{self.name}: dropout must be in [0, 1)")
        if not self.bias_bps > -1 / BPS:
            raise InvalidParameter(f"{self.name}: bias_bps must be above -10000")


DEFAULT_PROFILES: tuple[SourceProfile, ...] = (
    SourceProfile("atlas", noise_bps=1.5, dropout=0.02),
    SourceProfile("boreal", noise_bps=2.0, latency=timedelta(minutes=15), dropout=0.05),
    SourceProfile("cirrus", noise_bps=3.0, latency=timedelta(minutes=30), dropout=0.05),
    SourceProfile("dorado", noise_bps=2.5, latency=timedelta(minutes=5), dropout=0.08),
    SourceProfile("equinox", noise_bps=4.0, latency=timedelta(hours=1), dropout=0.10),
)
"""Five venues of different quality; latencies are in replay time."""


class ReplaySource:
    """One named source over the replayed data of some instruments (loaded when it is built,
    about a second the first time in a process, so that no round pays for it)."""

    def __init__(self, profile: SourceProfile, seed: int = 0,
                 instruments: Sequence[str] = INSTRUMENTS) -> None:
        unknown = [name for name in instruments if name not in DATASETS]
        if unknown:
            raise UnknownInstrument(f"no replay data for {', '.join(unknown)}")
        if seed < 0:
            raise InvalidParameter("seed must be >= 0")
        self.profile = profile
        self._instruments = tuple(instruments)
        for instrument in self._instruments:
            load_tape(instrument)
        self._key = (seed, zlib.crc32(profile.name.encode()))
        self._latency_ns = profile.latency // timedelta(microseconds=1) * 1_000

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def instruments(self) -> tuple[str, ...]:
        return self._instruments

    def _tape(self, instrument: str) -> Tape:
        if instrument not in self._instruments:
            raise UnknownInstrument(f"{self.name} does not serve {instrument!r}")
        return load_tape(instrument)

    def quote(self, instrument: str, at: datetime) -> Quote | None:
        tape = self._tape(instrument)
        t_ns = to_ns(at) - self._latency_ns
        index = tape.bar_at(t_ns)
        if index is None:
            return None
        rng = np.random.default_rng((*self._key, zlib.crc32(instrument.encode()), t_ns))
        if rng.random() < self.profile.dropout:
            return None
        bars = tape.bars
        fraction = (t_ns - tape.start_ns[index]) / (tape.end_ns[index] - tape.start_ns[index])
        path = intrabar_price(bars.open[index], bars.high[index], bars.low[index],
                              bars.close[index], fraction)
        seen = min(max(path * np.exp(self.profile.noise_bps * BPS * rng.standard_normal()),
                       bars.low[index]), bars.high[index])
        price = float(seen * (1 + self.profile.bias_bps * BPS))
        confidence = price * max(self.profile.noise_bps, MIN_CONFIDENCE_BPS) * BPS
        return Quote(self.name, instrument, price, confidence, from_ns(t_ns))

    def bars(self, instrument: str, start: datetime, end: datetime) -> Bars:
        tape = self._tape(instrument)
        first, stop = np.searchsorted(
            tape.end_ns, (to_ns(start) - self._latency_ns, to_ns(end) - self._latency_ns),
            side="right")
        window = tape.bars.slice(int(first), int(stop))
        if not self.profile.bias_bps:
            return window
        scale = 1 + self.profile.bias_bps * BPS
        return Bars(instrument, window.time, window.open * scale, window.high * scale,
                    window.low * scale, window.close * scale, window.volume)


def replay_sources(seed: int = 0, profiles: Sequence[SourceProfile] = DEFAULT_PROFILES,
                   instruments: Sequence[str] = INSTRUMENTS) -> list[ReplaySource]:
    """One replayed source per profile, each serving every instrument with its own noise."""
    names = [profile.name for profile in profiles]
    if len(set(names)) != len(names):
        raise InvalidParameter(f"source names must be distinct: {names}")
    return [ReplaySource(profile, seed, instruments) for profile in profiles]


@dataclass(frozen=True)
class ReplayClock:
    """Wall time -> replay time, per instrument: `speed` replayed seconds per wall second from
    `started_at`, beginning `warmup` after the instrument's first bar, wrapping at its end."""

    started_at: datetime
    speed: float = 86_400.0
    warmup: timedelta = timedelta(days=120)

    def __post_init__(self) -> None:
        to_ns(self.started_at)
        if not self.speed > 0:
            raise InvalidParameter("speed must be > 0")
        if self.warmup < timedelta(0):
            raise InvalidParameter("warmup must be >= 0")

    def replay_time(self, instrument: str, now: datetime) -> datetime:
        tape = load_tape(instrument)
        origin = int(tape.start_ns[0]) + self.warmup // timedelta(microseconds=1) * 1_000
        span = int(tape.end_ns[-1]) - origin
        if span <= 0:
            raise InvalidParameter(f"warmup {self.warmup} is longer than the {instrument} data")
        elapsed = int((to_ns(now) - to_ns(self.started_at)) * self.speed)
        return from_ns(origin + elapsed % span)
