"""What a receiver checks before a message may reach a handler (no I/O; the benchmark and
the tests drive it directly).

Checks, cheapest first, each with the reason it drops under (the payload is parsed only
after the license checks: a bad payload from a licensed sender is `malformed` too):
  malformed         not a frame (unsigned, truncated, other version) or a payload that is
                    not a JSON object
  subject_mismatch  the signed subject is not the subject the message arrived on
  stale             the signed timestamp is more than the window away from this clock
  bad_signature     the signature does not recover to the envelope's sender (forged, other
                    chain, tampered payload)
  unlicensed        the sender holds no active license now
  wrong_type        the envelope's node type is not one the subject admits, or not one the
                    sender holds a license of
  replayed          the sequence is at or below the last accepted from that sender on that
                    subject (ReplayGuard, kept per subscription)
  flooding          the sender has spent its budget of messages on the subscription
                    (node/bus/admission.py; where the subscriber gives a budget: the
                    validators' consensus and signature subjects)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from node.bus import subjects
from node.bus.envelope import Domain, Frame, MalformedFrame, checksum, decode, recover
from node.bus.membership import Membership
from noderr.domain import NodeType

DEFAULT_WINDOW_S = 30.0


class DropReason(StrEnum):
    MALFORMED = "malformed"
    SUBJECT_MISMATCH = "subject_mismatch"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"
    UNLICENSED = "unlicensed"
    WRONG_TYPE = "wrong_type"
    REPLAYED = "replayed"
    FLOODING = "flooding"


class Dropped(Exception):
    """A message that must not be acted on, and why."""

    def __init__(self, reason: DropReason, sender: bytes | str | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.sender = checksum(sender) if isinstance(sender, bytes) else sender


@dataclass(frozen=True, slots=True)
class Message:
    """A verified message: signed by `sender`, who holds an active `node_type` license.
    `frame` is the signed frame as received, for a receiver that relays the message as proof
    of what `sender` said (a validator relays oracles' observations in its proposals)."""

    sender: str
    node_type: NodeType
    sequence: int
    timestamp_ms: int
    subject: str
    payload: dict[str, Any]
    frame: bytes = field(default=b"", repr=False)


class Verifier:
    """Checks signature, freshness and license of frames for one deployment's bus."""

    def __init__(self, domain: Domain, membership: Membership,
                 window_s: float = DEFAULT_WINDOW_S,
                 clock: Callable[[], float] = time.time) -> None:
        self.domain = domain
        self.membership = membership
        self.window_ms = int(window_s * 1000)
        self.clock = clock

    def verify(self, subject: str, data: bytes, window_ms: int | None = None) -> Message:
        """The message in `data`, received on `subject`, if it passes every check but the
        replay check; otherwise Dropped. `window_ms` narrows freshness (heartbeats' TTL)."""
        return self.check(subject, self.frame(data), data, window_ms)

    @staticmethod
    def frame(data: bytes) -> Frame:
        """The frame in `data`, unchecked; Dropped (malformed) if it is not one."""
        try:
            return decode(data)
        except MalformedFrame:
            raise Dropped(DropReason.MALFORMED) from None

    def check(self, subject: str, frame: Frame, data: bytes,
              window_ms: int | None = None) -> Message:
        """`verify` of a frame already decoded from `data`."""
        envelope = frame.envelope
        if envelope.subject != subject:
            raise Dropped(DropReason.SUBJECT_MISMATCH, envelope.sender)
        window = self.window_ms if window_ms is None else window_ms
        if abs(int(self.clock() * 1000) - envelope.timestamp_ms) > window:
            raise Dropped(DropReason.STALE, envelope.sender)
        if recover(self.domain.digest(envelope), frame.signature) != envelope.sender:
            raise Dropped(DropReason.BAD_SIGNATURE, envelope.sender)
        node_type = self._licensed_type(frame)
        return Message(checksum(envelope.sender), node_type, envelope.sequence,
                       envelope.timestamp_ms, subject, _payload(frame), data)

    def _licensed_type(self, frame: Frame) -> NodeType:
        envelope = frame.envelope
        held = self.membership.types_of(envelope.sender)
        if not held:
            raise Dropped(DropReason.UNLICENSED, envelope.sender)
        if (envelope.node_type not in held
                or envelope.node_type not in subjects.allowed_types(envelope.subject)):
            raise Dropped(DropReason.WRONG_TYPE, envelope.sender)
        return NodeType(envelope.node_type)


def _payload(frame: Frame) -> dict[str, Any]:
    try:
        payload = orjson.loads(frame.payload)
    except orjson.JSONDecodeError:
        raise Dropped(DropReason.MALFORMED, frame.envelope.sender) from None
    if not isinstance(payload, dict):
        raise Dropped(DropReason.MALFORMED, frame.envelope.sender)
    return payload


class ReplayGuard:
    """The last sequence accepted per (sender, subject), for one subscription.

    Per subject because NATS keeps a publisher's order within a subscription, not across
    subscriptions; per subscription so two overlapping subscriptions both get a message.
    Entries whose newest timestamp is older than the freshness window are pruned: any replay
    of what they guarded would be dropped as stale anyway."""

    def __init__(self, window_ms: int, max_entries: int = 65_536,
                 clock: Callable[[], float] = time.time) -> None:
        self.window_ms = window_ms
        self.max_entries = max_entries
        self.clock = clock
        self._prune_above = max_entries
        self._last: dict[tuple[str, str], tuple[int, int]] = {}

    def admit(self, message: Message) -> None:
        """Record `message` as seen; Dropped (replayed) if its sequence is not new."""
        key = (message.sender, message.subject)
        last = self._last.get(key)
        if last is not None and message.sequence <= last[0]:
            raise Dropped(DropReason.REPLAYED, message.sender)
        newest = message.timestamp_ms if last is None else max(last[1], message.timestamp_ms)
        self._last[key] = (message.sequence, newest)
        if len(self._last) > self._prune_above:
            self._prune()

    def _prune(self) -> None:
        """Forget entries past the window; if most are fresh, wait for twice as many before
        the next pass, so a burst of senders never makes every admit a full scan."""
        oldest_useful = int(self.clock() * 1000) - self.window_ms
        self._last = {key: value for key, value in self._last.items()
                      if value[1] >= oldest_useful}
        self._prune_above = max(self.max_entries, 2 * len(self._last))

    def __len__(self) -> int:
        return len(self._last)
