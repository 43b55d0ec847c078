"""What a node tells the backend: heartbeats (also on the bus) and its execution records."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from client import AsyncBackendClient, BackendError
from client.models import ExecutionRecord
from node.execution import ExecutionLog
from node.runtime import metrics
from node.runtime.network import Network
from node.settings import NodeSettings
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.reporting")
BATCH = 500
"""The most records the backend takes in one POST /nodes/executions."""
SHIP_EVERY_S = 1.0


class Reporter:
    def __init__(self, client: AsyncBackendClient, network: Network, node_type: NodeType,
                 token_id: int, version: str,
                 unreachable: Callable[[BackendError], None]) -> None:
        self.client, self.network, self.unreachable = client, network, unreachable
        self.node_type, self.token_id, self.version = node_type, token_id, version
        self.log = ExecutionLog()

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
