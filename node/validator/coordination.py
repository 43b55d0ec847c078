"""Network coordination: how far a validator trusts each peer (score_peer) and who holds the
coordinator lease (acquire_leader_lease).

score_peer (gossipsub v1.1's idea, a bounded product instead of its weighted sum):

    score = uptime * validity² * latency_factor, each factor in [0, 1]
    uptime         = rounds the peer was heard in / rounds it was a member in
    validity       = 1 - invalid messages / messages (1 when it sent none)
    latency_factor = h / (h + median latency), h = half_latency_ms (the latency that halves it)

Invalid messages weigh quadratically (as gossipsub's P4, invalid message deliveries): a peer
with 10% invalid messages keeps 81% of its score, one with half invalid a quarter.

acquire_leader_lease decides from what the key-value store holds (holder, expiry, revision) and
the clock whether to create the lease, renew or take over an expired one (a compare-and-swap
on the revision read, so of two contenders only one writes), or wait; node/runtime/lease.py
carries the decision out on JetStream KV."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from node.errors import EmptyInput, InvalidParameter, NonFiniteInput

DEFAULT_HALF_LATENCY_MS = 250.0


@dataclass(frozen=True)
class PeerStats:
    messages: int
    invalid_messages: int
    latencies_ms: Sequence[float]
    rounds_heard: int
    rounds_member: int


@dataclass(frozen=True)
class PeerScore:
    score: float
    uptime: float
    validity: float
    latency_factor: float


def score_peer(stats: PeerStats, half_latency_ms: float = DEFAULT_HALF_LATENCY_MS) -> PeerScore:
    """The peer's score in [0, 1] by the formula of the module docstring. A peer never a member
    has no score (EmptyInput); counts that contradict each other are refused. Negative
    latencies (clock skew between hosts) count as 0."""
    if stats.rounds_member <= 0:
        raise EmptyInput("the peer was a member in no round: nothing to score")
    if not 0 <= stats.rounds_heard <= stats.rounds_member:
        raise InvalidParameter(f"rounds heard {stats.rounds_heard} not in [0, "
                               f"{stats.rounds_member}]")
    if not 0 <= stats.invalid_messages <= stats.messages:
        raise InvalidParameter(f"invalid messages {stats.invalid_messages} not in [0, "
                               f"{stats.messages}]")
    if not (math.isfinite(half_latency_ms) and half_latency_ms > 0):
        raise InvalidParameter(f"half_latency_ms must be > 0, got {half_latency_ms}")
    if not all(math.isfinite(latency) for latency in stats.latencies_ms):
        raise NonFiniteInput("a latency is NaN or infinite")
    uptime = stats.rounds_heard / stats.rounds_member
    validity = 1 - stats.invalid_messages / stats.messages if stats.messages else 1.0
    median = max(0.0, statistics.median(stats.latencies_ms)) if stats.latencies_ms else 0.0
    latency_factor = half_latency_ms / (half_latency_ms + median)
    return PeerScore(uptime * validity ** 2 * latency_factor, uptime, validity, latency_factor)


@dataclass(frozen=True)
class Lease:
    """The coordinator lease as stored: who holds it until when (seconds since the epoch)."""

    holder: str
    expires_at: float


@dataclass(frozen=True)
class Stored:
    lease: Lease
    revision: int


@dataclass(frozen=True)
class LeaseDecision:
    """"create" (the key must be absent), "renew" or "take_over" (the key must still be at
    `revision`) writing `lease`; or "wait" until `lease` (the holder's) expires."""

    action: str
    lease: Lease
    revision: int | None = None

    @property
    def writes(self) -> bool:
        return self.action != "wait"


def acquire_leader_lease(stored: Stored | None, me: str, now: float,
                         ttl: float) -> LeaseDecision:
    """Whether and how `me` takes the lease for `ttl` seconds from `now`, given what the store
    holds (None: no key)."""
    if not (math.isfinite(ttl) and ttl > 0):
        raise InvalidParameter(f"ttl must be > 0 seconds, got {ttl}")
    if not math.isfinite(now):
        raise NonFiniteInput("now is NaN or infinite")
    mine = Lease(me, now + ttl)
    if stored is None:
        return LeaseDecision("create", mine)
    if stored.lease.holder == me:
        return LeaseDecision("renew", mine, stored.revision)
    if now >= stored.lease.expires_at:
        return LeaseDecision("take_over", mine, stored.revision)
    return LeaseDecision("wait", stored.lease, stored.revision)
