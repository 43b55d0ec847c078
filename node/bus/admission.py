"""What a subscription admits, in order: the checks of node/bus/verify.py, its replay guard,
then, where the subscriber gives one, a per-sender budget (a token bucket per sender: a
licensed sender may send `burst` messages at once, then `rate_per_s` a second; the excess is
dropped as `flooding` before any handler work).

Only the sender's own fresh signatures spend its tokens: the budget is spent after the
signature, license and replay checks, so a forger naming an honest sender (bad_signature) or a
replayer of its frames (replayed) never drains it. But a sender whose tokens are already spent
has its next frames dropped before their signature is checked (recovering it is most of the
cost of a message: ~0.3 ms of ~0.6 ms on a loaded 2-core machine, where a flood of verified
messages alone kept the n = 7 chaos run's validators behind): that look spends nothing, and
only the named sender's own verified messages can have emptied its bucket, so a frame naming an
honest sender that has tokens is checked as ever. Senders are licensed holders, so the buckets
are as many as the members; no pruning is needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from node.bus.envelope import checksum
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
        bucket.tokens = self._refilled(bucket, now)
        bucket.updated_s = now
        if bucket.tokens < 1.0:
            raise Dropped(DropReason.FLOODING, message.sender)
        bucket.tokens -= 1.0

    def refuse_if_spent(self, sender: str) -> None:
        """Dropped (flooding) if `sender` has no token now; spends nothing."""
        bucket = self._buckets.get(sender)
        if bucket is not None and self._refilled(bucket, self.clock()) < 1.0:
            raise Dropped(DropReason.FLOODING, sender)

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(float(self.burst), bucket.tokens + (now - bucket.updated_s) * self.rate_per_s)


@dataclass(frozen=True, slots=True)
class Admission:
    """One subscription's checks of a received frame."""

    verifier: Verifier
    guard: ReplayGuard
    budget: SenderBudget | None = None

    def admit(self, subject: str, data: bytes) -> Message:
        """The verified message in `data`, received on `subject`; otherwise Dropped."""
        frame = self.verifier.frame(data)
        if self.budget is not None:
            self.budget.refuse_if_spent(checksum(frame.envelope.sender))
        message = self.verifier.check(subject, frame, data)
        self.guard.admit(message)
        if self.budget is not None:
            self.budget.admit(message)
        return message
