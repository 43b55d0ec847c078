"""The bus as a node uses it: signed publish, verified subscribe, over one NATS connection.

A handler sees only messages that passed every check of node/bus/verify.py; anything else is
dropped, counted under its reason (`noderr_bus_dropped_total{reason}` and `Bus.dropped`) and
logged at WARNING with the sender and the reason, never the payload: DROP_LINES_PER_PERIOD
lines per sender and reason every DROP_LOG_EVERY_S at most, the next period's first line
saying how many were left out (a flood of drops must not become a flood of lines: the n = 7
chaos run wrote ~24,000 `stale` lines per validator in a minute). nats-py reconnects on its
own (forever, every `reconnect_wait_s`) and re-subscribes; `connected` says whether the
connection is up right now."""

from __future__ import annotations

import collections
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from prometheus_client import REGISTRY, CollectorRegistry, Counter

from node.bus import subjects
from node.bus.admission import Admission, SenderBudget
from node.bus.envelope import Signer
from node.bus.verify import Dropped, DropReason, Message, ReplayGuard, Verifier

log = logging.getLogger("noderr.node.bus")
Handler = Callable[[Message], Awaitable[None]]
DROP_LOG_EVERY_S = 10.0
DROP_LINES_PER_PERIOD = 10
DROP_LOG_KEYS = 4096

_DROPPED: weakref.WeakKeyDictionary[CollectorRegistry, Counter] = weakref.WeakKeyDictionary()


def dropped_counter(registry: CollectorRegistry = REGISTRY) -> Counter:
    """`noderr_bus_dropped_total{reason}` in `registry`, registered once however many buses
    share it (every reason starts at 0 so dashboards see the series before the first drop)."""
    counter = _DROPPED.get(registry)
    if counter is None:
        counter = Counter("noderr_bus_dropped", "Bus messages dropped before any handler, "
                          "by reason.", ["reason"], registry=registry)
        for reason in DropReason:
            counter.labels(reason.value)
        _DROPPED[registry] = counter
    return counter


class Bus:
    """One node's connection to the bus: it signs what it publishes with `signer` and
    verifies what it receives with `verifier`."""

    def __init__(self, connection: Client, signer: Signer, verifier: Verifier,
                 registry: CollectorRegistry = REGISTRY) -> None:
        self.connection = connection
        self.signer = signer
        self.verifier = verifier
        self.dropped: collections.Counter[str] = collections.Counter()
        self._dropped_metric = dropped_counter(registry)
        self._drop_lines = DropLines()
        self._closing = False

    @classmethod
    async def connect(cls, url: str, signer: Signer, verifier: Verifier, *,
                      registry: CollectorRegistry = REGISTRY, reconnect_wait_s: float = 0.5,
                      connect_timeout_s: float = 5.0) -> Bus:
        bus = cls(Client(), signer, verifier, registry)
        await bus.connection.connect(
            url, name=f"noderr-node-{signer.address}", max_reconnect_attempts=-1,
            reconnect_time_wait=reconnect_wait_s, connect_timeout=connect_timeout_s,
            disconnected_cb=bus._disconnected, reconnected_cb=bus._reconnected,
            error_cb=bus._error)
        return bus

    @property
    def connected(self) -> bool:
        return self.connection.is_connected

    @property
    def jetstream(self) -> JetStreamContext:
        return self.connection.jetstream()

    async def publish(self, subject: str, payload: dict[str, Any]) -> None:
        """Sign `payload` for `subject` and publish it (buffered while reconnecting)."""
        if self.signer.node_type not in subjects.allowed_types(subject):
            raise ValueError(f"a {self.signer.node_type.label} node may not publish on "
                             f"{subject!r}: receivers would drop it")
        await self.connection.publish(subject, self.signer.seal(subject, orjson.dumps(payload)))

    async def subscribe(self, pattern: str, handler: Handler, queue: str = "",
                        budget: SenderBudget | None = None) -> Subscription:
        """Call `handler` with each verified message on subjects matching `pattern`, one at
        a time in arrival order; drop (and count) the rest, and what a sender sends past
        `budget`. A handler's exception is logged and the subscription goes on."""
        admission = Admission(self.verifier, ReplayGuard(self.verifier.window_ms), budget)

        async def receive(msg: Msg) -> None:
            try:
                message = admission.admit(msg.subject, msg.data)
            except Dropped as drop:
                self._count_drop(msg.subject, drop)
                return
            try:
                await handler(message)
            except Exception:
                log.exception("bus handler of %s failed on a message from %s", pattern,
                              message.sender)

        return await self.connection.subscribe(pattern, queue=queue, cb=receive)

    def _count_drop(self, subject: str, drop: Dropped) -> None:
        self.dropped[drop.reason.value] += 1
        self._dropped_metric.labels(drop.reason.value).inc()
        sender = drop.sender or "unknown sender"
        unlogged = self._drop_lines.due(drop.reason, sender)
        if unlogged is None:
            return
        log.warning("bus dropped a message on %s from %s: %s%s", subject, sender,
                    drop.reason.value,
                    f" (and {unlogged} more not logged)" if unlogged else "")

    async def flush(self, timeout_s: float = 5.0) -> None:
        """Wait until the server has everything published so far."""
        await self.connection.flush(timeout=timeout_s)

    async def close(self) -> None:
        """Deliver what is in flight, then close."""
        self._closing = True
        if not self.connection.is_closed:
            await self.connection.drain()

    async def _disconnected(self) -> None:
        if not self._closing:
            log.warning("bus disconnected; reconnecting")

    async def _reconnected(self) -> None:
        log.info("bus reconnected")

    async def _error(self, error: Exception) -> None:
        log.warning("bus connection error: %s", error)


@dataclass(slots=True)
class _Period:
    start_s: float
    lines: int = 1
    unlogged: int = 0


class DropLines:
    """When a drop may be logged: `per_period` lines of a (reason, sender) every `every_s`;
    the drops past them are counted for the first line of the next period."""

    def __init__(self, every_s: float = DROP_LOG_EVERY_S, per_period: int = DROP_LINES_PER_PERIOD,
                 max_keys: int = DROP_LOG_KEYS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s, self.per_period, self.max_keys = every_s, per_period, max_keys
        self.clock = clock
        self._periods: dict[tuple[DropReason, str], _Period] = {}

    def due(self, reason: DropReason, sender: str) -> int | None:
        """None if this drop is not logged; else the drops left unlogged before it."""
        now, key = self.clock(), (reason, sender)
        period = self._periods.get(key)
        if period is not None and now - period.start_s < self.every_s:
            if period.lines < self.per_period:
                period.lines += 1
                return 0
            period.unlogged += 1
            return None
        if len(self._periods) >= self.max_keys:
            self._forget_before(now - self.every_s)
        self._periods[key] = _Period(now)
        return 0 if period is None else period.unlogged

    def _forget_before(self, oldest_s: float) -> None:
        """Forget lines older than a period; all of them if that frees nothing (a crowd of
        made-up senders must not make every drop a full scan)."""
        self._periods = {key: period for key, period in self._periods.items()
                         if period.start_s >= oldest_s}
        if len(self._periods) >= self.max_keys:
            self._periods.clear()

    def __len__(self) -> int:
        return len(self._periods)
