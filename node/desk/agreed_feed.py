"""The values the validators agreed on-chain as the desk's price source: one bar per new round of
a NodeFeed, read from its AggregatorV3 view `latestRoundData` (PAPER trading).

The round already there when the source starts is where it starts from, not a bar: the desk
trades on each round that lands while it runs. The source polls POLLS_PER_PERIOD times a round
period, so a round is seen within a quarter period of landing (polling once a period, with the
rounds' jitter, would see two rounds in one poll and skip one). A round id not above the last
one seen, or carried over from an earlier round (Chainlink's `answeredInRound < roundId`), is no
new bar.

Fail closed: when no new round has come for more than `stale_periods` round periods (the chain
unreadable counts as no round), or a round answers a value that is no price, the bars end and
`stopped` says why, so the desk sends no order on a value it cannot trust to be current.

Pure: the reader, the clock and the wait are injected (node/runtime/agreed_feed.py reads the
chain by JSON-RPC; tests pass a fake)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from node.errors import InvalidParameter

POLLS_PER_PERIOD = 4
DEFAULT_STALE_PERIODS = 5


class FeedUnreadable(Exception):
    """The feed's latest round could not be read; the message says why."""


@dataclass(frozen=True)
class RoundData:
    """AggregatorV3's `latestRoundData` answer."""

    round_id: int
    answer: int
    started_at: int
    updated_at: int
    answered_in_round: int


RoundReader = Callable[[], RoundData]
"""The feed's latest round; FeedUnreadable when there is none to read."""


@dataclass(frozen=True)
class AgreedBar:
    """A new agreed value: its round, the answer as stored, the answer scaled to a price, and
    when it landed on-chain (the round's updatedAt), the time the desk trades it at."""

    round_id: int
    answer: int
    price: Decimal
    at: datetime


class AgreedFeed:
    """The bars of a feed's new rounds, `read` every period_s / POLLS_PER_PERIOD seconds;
    `clock()` is a monotonic time in seconds."""

    def __init__(self, read: RoundReader, decimals: int, period_s: float,
                 clock: Callable[[], float], stale_periods: int = DEFAULT_STALE_PERIODS) -> None:
        if period_s <= 0 or stale_periods < 1 or decimals < 0:
            raise InvalidParameter("an agreed feed needs a period > 0, stale_periods >= 1 and "
                                   "decimals >= 0")
        self.read, self.decimals, self.period_s = read, decimals, period_s
        self.clock, self.stale_periods = clock, stale_periods
        self.stopped: str | None = None
        self.last_error: str | None = None

    @property
    def poll_s(self) -> float:
        return self.period_s / POLLS_PER_PERIOD

    @property
    def stale_after_s(self) -> float:
        return self.period_s * self.stale_periods

    def bars(self, wait: Callable[[float], bool], rounds: int | None = None
             ) -> Iterator[AgreedBar]:
        """The next `rounds` new rounds (every one while `rounds` is None), as they land;
        `wait(seconds)` waits between two polls and answers True when the run is to end
        (Ctrl-C, the desk stopped)."""
        seen = self._latest()
        fresh_since = self.clock()
        count = 0
        while (rounds is None or count < rounds) and not wait(self.poll_s):
            latest = self._latest()
            if self._is_new(latest, seen):
                seen, fresh_since = latest, self.clock()
                bar = self._bar(latest)
                if bar is None:
                    return
                count += 1
                yield bar
            elif self.clock() - fresh_since > self.stale_after_s:
                self.stopped = self._stale_reason(seen)
                return

    def _latest(self) -> RoundData | None:
        try:
            latest = self.read()
        except FeedUnreadable as error:
            self.last_error = str(error)
            return None
        self.last_error = None
        return latest

    @staticmethod
    def _is_new(latest: RoundData | None, seen: RoundData | None) -> bool:
        return (latest is not None and latest.answered_in_round >= latest.round_id
                and (seen is None or latest.round_id > seen.round_id))

    def _bar(self, data: RoundData) -> AgreedBar | None:
        if data.answer <= 0:
            self.stopped = (f"round {data.round_id} answered {data.answer}, not a price: "
                            f"no order on it or after it")
            return None
        return AgreedBar(data.round_id, data.answer, Decimal(data.answer).scaleb(-self.decimals),
                         datetime.fromtimestamp(data.updated_at, UTC))

    def _stale_reason(self, seen: RoundData | None) -> str:
        last = "no round seen" if seen is None else f"last round {seen.round_id}"
        error = "" if self.last_error is None else f"; the last read failed: {self.last_error}"
        return (f"the feed is stale: no new round for more than {self.stale_periods} periods "
                f"of {self.period_s:g} s ({last}){error}; no order sent after it")
