"""`noderr trade paper --onchain`: the desk's values are the rounds the validators land on
NodeFeed.<FEED> while it runs (node/runtime/agreed_feed.py), one line on stderr per round
traded, for --rounds N rounds or until Ctrl-C. A stale feed ends the run: the summary says why
and the command exits 1 (fail closed: no order on a value not known to be current)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from node.desk.agreed_feed import AgreedBar
from node.desk.desk import PaperDesk, Step
from node.runtime.agreed_feed import OnchainFeed


class OnchainValues:
    """The feed's new rounds as (time, price) for the desk's loop, each one said once traded."""

    def __init__(self, feed: OnchainFeed, rounds: int | None,
                 say: Callable[[str], None]) -> None:
        self.feed, self.rounds, self.say = feed, rounds, say
        self.interrupted = threading.Event()
        self.traded: list[AgreedBar] = []

    def __call__(self, stop: threading.Event | None) -> Iterator[tuple[datetime, Decimal]]:
        def wait(seconds: float) -> bool:
            return self.interrupted.wait(seconds) or (stop is not None and stop.is_set())

        self.say(f"PAPER desk on {self.feed.name} at {self.feed.address}: trading each new "
                 f"round ({self.feed.agreed.period_s:g} s apart; stale after "
                 f"{self.feed.agreed.stale_after_s:g} s without one)")
        for bar in self.feed.agreed.bars(wait, self.rounds):
            self.traded.append(bar)
            yield bar.at, bar.price

    @property
    def stopped(self) -> str | None:
        return self.feed.agreed.stopped

    def said(self, desk: PaperDesk, instrument: str, step: Step) -> None:
        """One line for the round just traded: the price the desk marked and decided at (the
        answer scaled), and what it led to."""
        bar = self.traded[-1]
        prices = ", ".join(str(fill.price) for fill in step.fills)
        self.say(f"round {bar.round_id} of {self.feed.name}: {desk.marks[instrument]} (answer "
                 f"{bar.answer}, landed {bar.at.isoformat()}): {len(step.orders)} order(s), "
                 f"{len(step.fills)} fill(s){f' at {prices}' if prices else ''}, "
                 f"{len(step.rejections)} refused")

    def summary(self) -> dict[str, object]:
        first, last = self.traded[0].round_id, self.traded[-1].round_id
        report: dict[str, object] = {
            "source": f"{self.feed.name} at {self.feed.address} (agreed on-chain)",
            "rounds": f"{len(self.traded)} ({first} to {last})"}
        if self.stopped is not None:
            report["stopped"] = self.stopped
        return report

    @contextmanager
    def ctrl_c_ends_the_run(self) -> Iterator[None]:
        """Ctrl-C ends the run after the round in hand (the summary printed, the records
        stored as at the end of any run); a second Ctrl-C interrupts at once."""
        def interrupt(signum: int, frame: object) -> None:
            if self.interrupted.is_set():
                raise KeyboardInterrupt
            self.interrupted.set()
            self.say("Ctrl-C: ending after the round in hand (again to interrupt at once)")

        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
