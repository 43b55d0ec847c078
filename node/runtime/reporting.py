"""What a node tells the backend: heartbeats (also on the bus), its execution records and, for
a validator, the consensus rounds it decided (POST /nodes/rounds) and every consensus message
it signed or received (POST /nodes/consensus-messages).

Nothing here holds consensus up: the logs are bounded queues the validator appends to, shipped
every SHIP_EVERY_S by the node's shipping task; while the backend does not answer they keep
the newest and drop (and count) the oldest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime

from client import AsyncBackendClient, BackendError
from client.models import ExecutionRecord, MessageReport, RoundReport
from node.execution import Execution, ExecutionLog
from node.runtime import metrics
from node.runtime.network import Network
from node.settings import NodeSettings
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.reporting")
BATCH = 500
"""The most records the backend takes in one POST /nodes/executions."""
SHIP_EVERY_S = 1.0
FINAL_BEAT_S = 5.0
FINAL_BEAT_RETRY_S = 0.25
REFUSED_FOR_GOOD = (409, 422)
"""Answers after which a round is dropped, not retried: the backend will never take it."""
MESSAGES_REFUSED = (*REFUSED_FOR_GOOD, 413)


class RoundLog:
    """A validator's word on its rounds, kept until shipped: one per (feed, round), the
    newest replacing the older (bounded: the oldest rounds go first)."""

    def __init__(self, max_pending: int = 1_000) -> None:
        self.max_pending = max_pending
        self.dropped = 0
        self._pending: dict[tuple[str, int], RoundReport] = {}

    def record(self, report: RoundReport) -> None:
        self._pending.pop((report.feed, report.round), None)
        self._pending[(report.feed, report.round)] = report
        while len(self._pending) > self.max_pending:
            del self._pending[next(iter(self._pending))]
            self.dropped += 1

    def drain(self) -> list[RoundReport]:
        drained, self._pending = list(self._pending.values()), {}
        return drained

    def requeue(self, reports: list[RoundReport]) -> None:
        """Put back rounds that could not be shipped, unless a newer word replaced them."""
        newer, self._pending = self._pending, {}
        for report in reports:
            self.record(report)
        for report in newer.values():
            self.record(report)

    def __len__(self) -> int:
        return len(self._pending)


class MessageLog:
    """Consensus messages this validator signed or received, kept until shipped. Each is
    kept once: a retransmission (the same signed message again) of one recorded among the
    last `remembered` is skipped. Bounded: past `max_pending` the oldest go first, counted in
    `dropped` and in the metric noderr_consensus_messages_dropped."""

    def __init__(self, max_pending: int = 5_000, remembered: int = 20_000) -> None:
        self.max_pending, self.remembered = max_pending, remembered
        self.dropped = 0
        self._pending: list[MessageReport] = []
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def record(self, feed: str, text: str, signature: str, seen_at: datetime) -> None:
        key = (feed, signature)
        if key in self._seen:
            return
        self._seen[key] = None
        if len(self._seen) > self.remembered:
            self._seen.popitem(last=False)
        self._pending.append(MessageReport(feed=feed, text=text, signature=signature,
                                           seen_at=seen_at))
        self._bound()

    def drain(self) -> list[MessageReport]:
        drained, self._pending = self._pending, []
        return drained

    def requeue(self, messages: list[MessageReport]) -> None:
        """Put back messages that could not be shipped, ahead of those recorded since."""
        self._pending = messages + self._pending
        self._bound()

    def _bound(self) -> None:
        excess = len(self._pending) - self.max_pending
        if excess > 0:
            del self._pending[:excess]
            self.dropped += excess
            metrics.messages_dropped(excess)

    def __len__(self) -> int:
        return len(self._pending)


class Reporter:
    def __init__(self, client: AsyncBackendClient, network: Network, node_type: NodeType,
                 token_id: int, version: str,
                 unreachable: Callable[[BackendError], None]) -> None:
        self.client, self.network, self.unreachable = client, network, unreachable
        self.node_type, self.token_id, self.version = node_type, token_id, version
        self.log = ExecutionLog()
        self.rounds = RoundLog()
        self.messages = MessageLog()

    async def heartbeats_until(self, stopped: asyncio.Event, state: Callable[[], str],
                               settings: NodeSettings) -> None:
        """A beat every interval until `stopped`; a beat in flight is finished, not cancelled,
        so the last word ("stopping") cannot be overtaken by an earlier beat the backend was
        still storing."""
        while not stopped.is_set():
            await self.beat(state())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), settings.node_heartbeat_interval)

    async def beat(self, state: str) -> None:
        """One heartbeat to the backend and one to the bus's heartbeat bucket. A backend that
        does not answer is reported to `unreachable` (the node then stops executing until the
        license watch hears from it again); any other failure is logged."""
        try:
            await self.client.heartbeat(int(self.node_type), self.token_id, self.version, state)
        except BackendError as error:
            log.warning("heartbeat to the backend failed: %s", error)
            if error.unreachable:
                self.unreachable(error)
        await self.network.beat(state, self.version)

    async def ship_forever(self) -> None:
        while True:
            await asyncio.sleep(SHIP_EVERY_S)
            await self.ship()

    async def ship(self) -> None:
        await self.ship_executions()
        await self.ship_rounds()
        await self.ship_messages()

    async def ship_rounds(self) -> None:
        """Send the pending rounds (posting one again is harmless)."""
        await self._ship_batch(self.rounds, lambda items: self.client.report_rounds(items),
                               REFUSED_FOR_GOOD, "consensus rounds")

    async def ship_messages(self) -> None:
        """Send the pending consensus messages (posting one again stores nothing)."""
        await self._ship_batch(self.messages, lambda items: self.client.report_messages(items),
                               MESSAGES_REFUSED, "consensus messages")

    @staticmethod
    async def _ship_batch(queue: RoundLog | MessageLog,
                          send: Callable[[list], Awaitable[object]],
                          refused_for_good: tuple[int, ...], what: str) -> None:
        """Send `queue`'s pending items in one call: kept for later when the backend does not
        answer, dropped when it refuses them for good."""
        pending = queue.drain()
        if not pending:
            return
        try:
            await send(pending)
        except BackendError as error:
            if error.status in refused_for_good:
                log.warning("%s refused, dropped (%d): %s", what, len(pending), error)
                return
            log.warning("%s kept for later (%d): %s", what, len(pending), error)
            queue.requeue(pending)

    async def ship_executions(self) -> None:
        """Send pending execution records; what the backend cannot take now is kept for later.
        A batch refused for good (409/422) is sent again one record at a time, so the records
        the backend takes are stored and only those it refuses are dropped, each named: a bad
        record never blocks the ones behind it."""
        pending = self.log.drain()
        for start in range(0, len(pending), BATCH):
            batch = pending[start:start + BATCH]
            try:
                await self._report(batch)
            except BackendError as error:
                unsent = (await self._one_by_one(batch) if error.status in REFUSED_FOR_GOOD
                          else batch)
                if unsent:
                    log.warning("execution records kept for later (%d): %s",
                                len(unsent) + len(pending) - start - len(batch), error)
                    self.log.requeue(unsent + pending[start + BATCH:])
                    return

    async def _one_by_one(self, batch: list[Execution]) -> list[Execution]:
        """Each record of `batch` alone; those refused for good are dropped. The records not
        yet sent when the backend stops answering."""
        for index, item in enumerate(batch):
            try:
                await self._report([item])
            except BackendError as error:
                if error.status not in REFUSED_FOR_GOOD:
                    return batch[index:]
                log.warning("execution record of %s refused, dropped: %s", item.function,
                            error)
        return []

    async def _report(self, batch: list[Execution]) -> None:
        records = [ExecutionRecord.model_validate(item) for item in batch]
        await self.client.report_executions(int(self.node_type), self.token_id, records)
        metrics.count(batch)

    async def final(self, state: str) -> None:
        """Ship what is pending, then say `state` (stopping) even when shipping failed."""
        try:
            await self.ship()
        finally:
            await self.last_beat(state)

    async def last_beat(self, state: str) -> None:
        """The node's last heartbeat, retried for FINAL_BEAT_S while the backend cannot take it
        (no answer, or 503 while its mirror lags): lost, the network would show the stopped
        node active until it went stale."""
        deadline = asyncio.get_running_loop().time() + FINAL_BEAT_S
        while True:
            try:
                await self.client.heartbeat(int(self.node_type), self.token_id, self.version,
                                            state)
                break
            except BackendError as error:
                transient = error.unreachable or error.status == 503
                if not transient or asyncio.get_running_loop().time() >= deadline:
                    log.warning("last heartbeat to the backend failed: %s", error)
                    break
                await asyncio.sleep(FINAL_BEAT_RETRY_S)
        await self.network.beat(state, self.version)
