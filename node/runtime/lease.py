"""The coordinator lease on JetStream KV: acquire_leader_lease (node/validator/coordination.py)
decides, this carries the decision out with the store's compare-and-swap.

One key per duty in the bucket `noderr_leases`, whose max age is the lease's TTL, so a lease
nobody renews disappears on its own. The value is {"holder", "expires_at"} (JSON); a write is
`kv.create` (only when the key is absent) or `kv.update(last=revision)` (only when the key
is still at the revision the decision read), so two contenders who read the same state
cannot both write: the second gets KeyWrongLastSequenceError and does not hold the lease.

Holding is also bounded in time on the holder's side: `holds()` is true only until the expiry
it wrote, less MARGIN_S. A holder that stalls past its expiry (a paused process, a slow bus)
stops acting before another validator can take the lease over (a take-over needs the expiry
passed, or the key gone, TTL after the holder's write), so two validators never act as
coordinator at once; the margin covers the clocks' drift between validators.

`Coordination` is the validator's use of it: one key, renewed once per consensus round, for
the duties one validator runs for all (the consensus watch's peer scoring,
node/runtime/consensus_watch.py). A bus that does not answer means not holding: consensus
itself never waits on the lease."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (
    BadRequestError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

from node.bus.heartbeats import STREAM_IN_USE
from node.validator.coordination import Lease, Stored, acquire_leader_lease

log = logging.getLogger("noderr.node.validator")
BUCKET = "noderr_leases"
COORDINATOR = "coordinator"
MARGIN_S = 1.0


async def open_lease_bucket(js: JetStreamContext, ttl_s: float,
                            bucket: str = BUCKET) -> KeyValue:
    """The lease bucket, created with max age `ttl_s` when missing (one created at the same
    moment by another node is used as it is)."""
    try:
        return await js.key_value(bucket)
    except BucketNotFoundError:
        pass
    try:
        return await js.create_key_value(KeyValueConfig(
            bucket=bucket, ttl=ttl_s, history=1, storage=StorageType.FILE))
    except BadRequestError as error:
        if error.err_code != STREAM_IN_USE:
            raise
        return await js.key_value(bucket)


class LeaderLease:
    """`me`'s claim on the lease of `key` for `ttl_s` seconds at a time."""

    def __init__(self, kv: KeyValue, key: str, me: str, ttl_s: float,
                 margin_s: float = MARGIN_S) -> None:
        self.kv, self.key, self.me, self.ttl_s, self.margin_s = kv, key, me, ttl_s, margin_s
        self.expires_at = 0.0
        """The expiry of the lease this claim last wrote (0: it holds none)."""

    def holds(self, now: float | None = None) -> bool:
        """Whether `me` may act as the holder now: before the expiry it wrote, less the
        margin."""
        return (time.time() if now is None else now) < self.expires_at - self.margin_s

    async def acquire(self, now: float | None = None) -> bool:
        """Create, renew or take over the lease when the decision says so; whether `me`
        holds it afterwards."""
        decision = acquire_leader_lease(await self.read(), self.me,
                                        time.time() if now is None else now, self.ttl_s)
        if not decision.writes:
            self.expires_at = 0.0
            return False
        value = orjson.dumps({"holder": decision.lease.holder,
                              "expires_at": decision.lease.expires_at})
        try:
            if decision.revision is None:
                await self.kv.create(self.key, value)
            else:
                await self.kv.update(self.key, value, last=decision.revision)
        except KeyWrongLastSequenceError:
            self.expires_at = 0.0
            return False
        self.expires_at = decision.lease.expires_at
        return True

    async def read(self) -> Stored | None:
        """The lease as stored, None when there is none (never written, expired or deleted)."""
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:
            return None
        value = orjson.loads(entry.value)
        return Stored(Lease(str(value["holder"]), float(value["expires_at"])), entry.revision)


class Coordination:
    """`me`'s claim on the validators' coordinator lease (COORDINATOR in the lease bucket),
    `ttl_s` at a time, over the JetStream context `jetstream()` gives."""

    def __init__(self, jetstream: Callable[[], JetStreamContext], me: str, ttl_s: float,
                 key: str = COORDINATOR, bucket: str = BUCKET,
                 margin_s: float = MARGIN_S) -> None:
        self.jetstream, self.me, self.ttl_s = jetstream, me, ttl_s
        self.key, self.bucket, self.margin_s = key, bucket, margin_s
        self.lease: LeaderLease | None = None

    async def renew(self) -> bool:
        """Take or renew the lease when free or ours; whether this validator holds it. A bus
        error is logged and means not holding."""
        try:
            if self.lease is None:
                kv = await open_lease_bucket(self.jetstream(), self.ttl_s, self.bucket)
                self.lease = LeaderLease(kv, self.key, self.me, self.ttl_s, self.margin_s)
            return await self.lease.acquire()
        except (TimeoutError, NatsError) as error:
            log.warning("coordinator lease not renewed: %s: %s", type(error).__name__, error)
            if self.lease is not None:
                self.lease.expires_at = 0.0
            return False

    def holds(self) -> bool:
        return self.lease is not None and self.lease.holds()
