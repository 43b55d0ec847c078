"""What a subscription admits, in order: the checks of node/bus/verify.py, its replay guard,
then, where the subscriber gives one, a per-sender budget (a token bucket per sender: a
licensed sender may send `burst` messages at once, then `rate_per_s` a second; the excess is
dropped as `flooding` before any handler work).

The budget comes last so that only the sender's own fresh signatures spend its tokens: a forger
naming an honest sender (bad_signature) or a replayer of its frames (replayed) never drains
it. Senders are licensed holders, so the buckets are as many as the members; no pruning is
needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from node.bus.verify import Dropped, DropReason, Message, ReplayGuard, Verifier


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float


class SenderBudget:
    """Admits at most `burst` + `rate_per_s` * T messages from one sender over any span T."""

    def __init__(self, rate_per_s: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s, self.burst, self.clock = rate_per_s, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, message: Message) -> None:
        """Spend one of the sender's tokens; Dropped (flooding) when it has none left."""
        now = self.clock()
        bucket = self._buckets.get(message.sender)
        if bucket is None:
            bucket = self._buckets[message.sender] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst),
                            bucket.tokens + (now - bucket.updated_s) * self.rate_per_s)
        bucket.updated_s = now
        if bucket.tokens < 1.0:
            raise Dropped(DropReason.FLOODING, message.sender)
        bucket.tokens -= 1.0


@dataclass(frozen=True, slots=True)
class Admission:
    """One subscription's checks of a received frame."""

    verifier: Verifier
    guard: ReplayGuard
    budget: SenderBudget | None = None

    def admit(self, subject: str, data: bytes) -> Message:
        """The verified message in `data`, received on `subject`; otherwise Dropped."""
        message = self.verifier.verify(subject, data)
        self.guard.admit(message)
        if self.budget is not None:
            self.budget.admit(message)
        return message
