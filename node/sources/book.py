"""A seeded L2 order-book simulator around a given mid price (no package ships book data).

What it claims, and tests check:
- prices sit on a tick grid (`BookProfile.ticks`, else 10**(floor(log10(mid)) - 4), about one
  basis point); bids strictly descending, asks strictly ascending, never crossed;
- the spread is 1 + Poisson(`mean_extra_spread_ticks`) ticks, so always at least one tick, and
  the book's mid is the given mid to within half a tick;
- level sizes are lognormal around a mean that grows linearly away from the touch (`depth_slope`
  per level: books thicken away from the best price), scaled so the touch holds about
  `level_notional` of quote currency whatever the price;
- with probability `withdrawal_probability` a snapshot has every size cut to
  `withdrawal_factor` (liquidity withdrawn for that snapshot);
- with probability `wall_probability` a spoof-like wall appears: one level two or more ticks
  from the touch `wall_multiple` times its size, for `wall_lifetime` snapshots, then gone;
- the same seed and the same sequence of calls give the same books.

Each instrument has its own random stream (seeded by the seed and the instrument's name), so
the books of one instrument do not depend on how often the others are asked for."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from node.errors import InvalidParameter, NonFiniteInput, NonPositivePrice
from node.sources.market import BookSnapshot

TICK_DIGITS_BELOW_PRICE = 4


def default_tick(mid: float) -> float:
    """A power of ten about a basis point of `mid` (0.1 for 1,229; 1e-4 for 1.07)."""
    return 10.0 ** (math.floor(math.log10(mid)) - TICK_DIGITS_BELOW_PRICE)


@dataclass(frozen=True)
class BookProfile:
    levels: int = 10
    level_notional: float = 250_000.0
    depth_slope: float = 0.15
    size_dispersion: float = 0.35
    mean_extra_spread_ticks: float = 0.5
    withdrawal_probability: float = 0.02
    withdrawal_factor: float = 0.2
    wall_probability: float = 0.02
    wall_multiple: float = 20.0
    wall_lifetime: int = 3
    ticks: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rules = {
            "levels >= 3": self.levels >= 3,
            "level_notional > 0": self.level_notional > 0,
            "depth_slope >= 0": self.depth_slope >= 0,
            "size_dispersion >= 0": self.size_dispersion >= 0,
            "mean_extra_spread_ticks >= 0": self.mean_extra_spread_ticks >= 0,
            "withdrawal_probability in [0, 1]": 0 <= self.withdrawal_probability <= 1,
            "withdrawal_factor in (0, 1]": 0 < self.withdrawal_factor <= 1,
            "wall_probability in [0, 1]": 0 <= self.wall_probability <= 1,
            "wall_multiple >= 1": self.wall_multiple >= 1,
            "wall_lifetime >= 1": self.wall_lifetime >= 1,
            "ticks > 0": all(tick > 0 for tick in self.ticks.values()),
        }
        broken = [rule for rule, holds in rules.items() if not holds]
        if broken:
            raise InvalidParameter(f"book profile: {', '.join(broken)}")


@dataclass
class _Wall:
    side: int
    level: int
    remaining: int


@dataclass
class _Stream:
    rng: np.random.Generator
    wall: _Wall | None = None


class BookSimulator:
    """Seeded L2 books around the mid prices it is given, one random stream per instrument."""

    def __init__(self, seed: int = 0, profile: BookProfile | None = None) -> None:
        if seed < 0:
            raise InvalidParameter("seed must be >= 0")
        self.seed = seed
        self.profile = profile or BookProfile()
        self._streams: dict[str, _Stream] = {}
        levels = self.profile.levels
        self._steps = np.arange(levels, dtype=np.float64)
        self._depth_shape = 1 + self.profile.depth_slope * self._steps

    def _stream(self, instrument: str) -> _Stream:
        stream = self._streams.get(instrument)
        if stream is None:
            rng = np.random.default_rng((self.seed, zlib.crc32(instrument.encode())))
            stream = self._streams[instrument] = _Stream(rng)
        return stream

    def snapshot(self, instrument: str, mid: float, at: datetime) -> BookSnapshot:
        """The next book of `instrument` around `mid`."""
        if not math.isfinite(mid):
            raise NonFiniteInput(f"mid of {instrument} is {mid}")
        if mid <= 0:
            raise NonPositivePrice(f"mid of {instrument} is {mid}")
        profile, stream = self.profile, self._stream(instrument)
        rng = stream.rng
        tick = profile.ticks.get(instrument) or default_tick(mid)
        bid_ticks, ask_ticks = self._touch(mid / tick, 1 + int(rng.poisson(
            profile.mean_extra_spread_ticks)))
        if bid_ticks - profile.levels < 0:
            raise InvalidParameter(f"tick {tick} too coarse for {instrument} at {mid}")
        sigma = profile.size_dispersion
        sizes = (profile.level_notional / mid) * self._depth_shape * rng.lognormal(
            -sigma * sigma / 2, sigma, size=(2, profile.levels))
        self._apply_wall(stream, sizes)
        if rng.random() < profile.withdrawal_probability:
            sizes *= profile.withdrawal_factor
        return BookSnapshot(instrument, at, (bid_ticks - self._steps) * tick, sizes[0],
                            (ask_ticks + self._steps) * tick, sizes[1])

    @staticmethod
    def _touch(mid_ticks: float, spread_ticks: int) -> tuple[int, int]:
        """Best bid and ask in ticks, `spread_ticks` apart, centred on `mid_ticks` to +-1/2."""
        if spread_ticks % 2 == 0:
            bid = round(mid_ticks) - spread_ticks // 2
        else:
            bid = math.floor(mid_ticks) - (spread_ticks - 1) // 2
        return bid, bid + spread_ticks

    def _apply_wall(self, stream: _Stream, sizes: np.ndarray) -> None:
        profile, rng = self.profile, stream.rng
        starts = rng.random() < profile.wall_probability
        if stream.wall is None and starts:
            stream.wall = _Wall(int(rng.integers(2)), int(rng.integers(2, profile.levels)),
                                profile.wall_lifetime)
        wall = stream.wall
        if wall is None:
            return
        sizes[wall.side, wall.level] *= profile.wall_multiple
        wall.remaining -= 1
        if wall.remaining == 0:
            stream.wall = None
