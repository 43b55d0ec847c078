"""Heartbeats: one entry per node in the JetStream KV bucket `noderr_heartbeats`, which expire
on their own `ttl_s` after a node's last beat (the bucket's max age), so a dead node
disappears from `alive()` without anyone deleting it.

Each value is a signed frame (node/bus/envelope.py, subject `noderr.node.heartbeat`) under
the key of its sender's lowercase hex address: anyone who can write to the bucket can write
bytes, but `alive()` lists only entries whose signature recovers to the key's address, whose
sender holds an active license of the type it claims, and whose signed time is within the
TTL. The bucket also leaves a purge marker when a key expires (server >= 2.11), which a
watcher sees: the hook for failover."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError
from nats.js.kv import KeyValue

from node.bus import subjects
from node.bus.transport import Bus
from node.bus.verify import Dropped, DropReason
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.bus")
BUCKET = "noderr_heartbeats"
DEFAULT_TTL_S = 15.0
STREAM_IN_USE = 10058
"""JetStream's error code when a stream exists with another configuration (another node
created the bucket first, with another TTL)."""


@dataclass(frozen=True)
class Heartbeat:
    address: str
    node_type: NodeType
    token_id: int
    state: str
    version: str
    at_ms: int


def key_of(address: str) -> str:
    return address.lower()


async def open_bucket(bus: Bus, ttl_s: float = DEFAULT_TTL_S, bucket: str = BUCKET) -> KeyValue:
    """The heartbeat bucket, created if missing. Nodes starting at once may all call this:
    the same configuration twice is accepted by JetStream, and a bucket made first by
    another node (with another TTL) is used as it is."""
    js = bus.jetstream
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    config = KeyValueConfig(bucket=bucket, ttl=ttl_s, history=1, storage=StorageType.FILE,
                            limit_marker_ttl=max(ttl_s, 1.0))
    try:
        return await js.create_key_value(config)
    except BadRequestError as error:
        if error.err_code != STREAM_IN_USE:
            raise
        return await js.key_value(bucket)


class Heartbeats:
    """This node's beats and everyone's live entries."""

    def __init__(self, bus: Bus, kv: KeyValue, ttl_s: float) -> None:
        self.bus = bus
        self.kv = kv
        self.ttl_ms = int(ttl_s * 1000)

    @classmethod
    async def open(cls, bus: Bus, ttl_s: float = DEFAULT_TTL_S,
                   bucket: str = BUCKET) -> Heartbeats:
        return cls(bus, await open_bucket(bus, ttl_s, bucket), ttl_s)

    async def beat(self, token_id: int, state: str, version: str) -> int:
        """Put this node's signed heartbeat (its key's address and node type); the revision."""
        signer = self.bus.signer
        payload = {"token_id": token_id, "state": state, "version": version}
        frame = signer.seal(subjects.HEARTBEAT, orjson.dumps(payload))
        return await self.kv.put(key_of(signer.address), frame)

    async def alive(self, timeout_s: float = 5.0) -> list[Heartbeat]:
        """The verified, unexpired heartbeats in the bucket, by address."""
        watcher = await self.kv.watchall(ignore_deletes=True)
        beats = []
        try:
            while (entry := await watcher.updates(timeout_s)) is not None:
                if (beat := self._verified(entry.key, entry.value)) is not None:
                    beats.append(beat)
        finally:
            await watcher.stop()
        return sorted(beats, key=lambda beat: beat.address)

    def _verified(self, key: str, value: bytes) -> Heartbeat | None:
        try:
            message = self.bus.verifier.verify(subjects.HEARTBEAT, value, self.ttl_ms)
            if key_of(message.sender) != key:
                raise Dropped(DropReason.SUBJECT_MISMATCH, message.sender)
            return _heartbeat(message.sender, message.node_type, message.timestamp_ms,
                              message.payload)
        except Dropped as drop:
            if drop.reason is not DropReason.STALE:
                log.warning("heartbeat under %s ignored: %s (sender %s)", key,
                            drop.reason.value, drop.sender or "unknown")
            return None


def _heartbeat(address: str, node_type: NodeType, at_ms: int,
               payload: dict[str, Any]) -> Heartbeat | None:
    try:
        return Heartbeat(address, node_type, int(payload["token_id"]), str(payload["state"]),
                         str(payload["version"]), at_ms)
    except (KeyError, TypeError, ValueError):
        log.warning("heartbeat of %s ignored: payload lacks token_id, state or version",
                    address)
        return None
