"""What a node tells the backend: heartbeats (also on the bus), its execution records and, for
a validator, the consensus rounds it decided (POST /nodes/rounds)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from client import AsyncBackendClient, BackendError
from client.models import ExecutionRecord, RoundReport
from node.execution import ExecutionLog
from node.runtime import metrics
from node.runtime.network import Network
from node.settings import NodeSettings
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.reporting")
BATCH = 500
"""The most records the backend takes in one POST /nodes/executions."""
SHIP_EVERY_S = 1.0
REFUSED_FOR_GOOD = (409, 422)
"""Answers after which a round is dropped, not retried: the backend will never take it."""


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


class Reporter:
    def __init__(self, client: AsyncBackendClient, network: Network, node_type: NodeType,
                 token_id: int, version: str,
                 unreachable: Callable[[BackendError], None]) -> None:
        self.client, self.network, self.unreachable = client, network, unreachable
        self.node_type, self.token_id, self.version = node_type, token_id, version
        self.log = ExecutionLog()
        self.rounds = RoundLog()

    async def heartbeats_forever(self, state: Callable[[], str], settings: NodeSettings) -> None:
        while True:
            await self.beat(state())
            await asyncio.sleep(settings.node_heartbeat_interval)

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

    async def ship_rounds(self) -> None:
        """Send the pending rounds (posting one again is harmless); kept for later when the
        backend does not answer, dropped when it refuses them for good."""
        pending = self.rounds.drain()
        if not pending:
            return
        try:
            await self.client.report_rounds(pending)
        except BackendError as error:
            if error.status in REFUSED_FOR_GOOD:
                log.warning("consensus rounds refused, dropped (%d): %s", len(pending), error)
                return
            log.warning("consensus rounds kept for later (%d): %s", len(pending), error)
            self.rounds.requeue(pending)

    async def ship_executions(self) -> None:
        """Send pending execution records; what the backend does not take is kept for later."""
        pending = self.log.drain()
        for start in range(0, len(pending), BATCH):
            batch = pending[start:start + BATCH]
            records = [ExecutionRecord.model_validate(item) for item in batch]
            try:
                await self.client.report_executions(int(self.node_type), self.token_id, records)
            except BackendError as error:
                log.warning("execution records kept for later (%d): %s",
                            len(pending) - start, error)
                self.log.requeue(pending[start:])
                return
            metrics.count(batch)

    async def final(self, state: str) -> None:
        await self.ship()
        await self.beat(state)
