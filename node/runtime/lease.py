"""The coordinator lease on JetStream KV: acquire_leader_lease (node/validator/coordination.py)
decides, this carries the decision out with the store's compare-and-swap.

One key per duty in the bucket `noderr_leases`, whose max age is the lease's TTL, so a lease
nobody renews disappears on its own. The value is {"holder", "expires_at"} (JSON); a write is
`kv.create` (only when the key is absent) or `kv.update(last=revision)` (only when the key
is still at the revision the decision read), so two contenders who read the same state
cannot both write: the second gets KeyWrongLastSequenceError and does not hold the lease."""

from __future__ import annotations

import time

import orjson
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

BUCKET = "noderr_leases"


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

    def __init__(self, kv: KeyValue, key: str, me: str, ttl_s: float) -> None:
        self.kv, self.key, self.me, self.ttl_s = kv, key, me, ttl_s

    async def acquire(self, now: float | None = None) -> bool:
        """Create, renew or take over the lease when the decision says so; whether `me`
        holds it afterwards."""
        decision = acquire_leader_lease(await self.read(), self.me,
                                        time.time() if now is None else now, self.ttl_s)
        if not decision.writes:
            return False
        value = orjson.dumps({"holder": decision.lease.holder,
                              "expires_at": decision.lease.expires_at})
        try:
            if decision.revision is None:
                await self.kv.create(self.key, value)
            else:
                await self.kv.update(self.key, value, last=decision.revision)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def read(self) -> Stored | None:
        """The lease as stored, None when there is none (never written, expired or deleted)."""
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:
            return None
        value = orjson.loads(entry.value)
        return Stored(Lease(str(value["holder"]), float(value["expires_at"])), entry.revision)
