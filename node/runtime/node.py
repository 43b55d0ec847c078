"""One node process: it activates only with an active license of its type, then runs its duties
while the license stays active, pauses while it is suspended or while the backend cannot
vouch for it, and exits once the license is revoked or reassigned.

Every decision comes from the backend's mirror of the chain, re-read on every indexed block
(`GET /nodes/me/watch`, a long-poll the backend wakes from the indexer's commit), never from a
timer: a suspension reaches the node within the indexer's poll interval plus one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_utils import to_checksum_address

from client import AsyncBackendClient, BackendError
from client.models import LicenseWatch
from node.runtime import metrics
from node.runtime.duties import Duties
from node.runtime.keys import NodeKey
from node.runtime.network import BusUnreachable, Network
from node.runtime.reporting import Reporter
from node.runtime.standing import Standing, Verdict, choose_license, judge, refusal
from node.settings import NodeSettings
from node.sources import replay
from noderr.domain import NodeType

log = logging.getLogger("noderr.node")
START_DEADLINE_S = 30.0
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0)
HEARTBEAT_DRAIN_S = 10.0
"""How long a stopping node lets a heartbeat in flight finish before its last one."""


class ExitStatus(enum.IntEnum):
    STOPPED = 0
    FAILED = 1
    NO_LICENSE = 3
    LICENSE_GONE = 4


class StartRefused(Exception):
    """The node cannot start; `status` is the process's exit status, the message its line."""

    def __init__(self, status: ExitStatus, line: str) -> None:
        super().__init__(line)
        self.status = status


@dataclass
class NodeConfig:
    node_type: NodeType
    key: NodeKey
    chain_id: int
    settings: NodeSettings
    version: str


@dataclass
class Gate:
    """Whether the node may execute now: only with the license active and the backend's word
    on it fresh. The reason is what the node last said about its state."""

    open: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str = "not started"


class Node:
    def __init__(self, config: NodeConfig, say: Callable[[str], None]) -> None:
        self.config = config
        self.say = say
        self.client = AsyncBackendClient(config.settings.api_url)
        self.gate = Gate()
        self.stopped = asyncio.Event()
        self.exit_status = ExitStatus.STOPPED
        self.token_id: int | None = None
        self.indexed_block: int | None = None
        self.network: Network | None = None

    # start-up
    async def start(self) -> None:
        """Sign in, find the license, load its credentials, join the bus; StartRefused else."""
        deadline = time.monotonic() + START_DEADLINE_S
        key, node_type = self.config.key, self.config.node_type
        await self._retry_until(deadline, "sign in", self._sign_in)
        watch: LicenseWatch = await self._retry_until(
            deadline, "read the license", lambda: self.client.watch_licenses(None, 0))
        chosen = choose_license(watch, node_type)
        if chosen is None:
            raise StartRefused(ExitStatus.NO_LICENSE, refusal(watch, node_type))
        self.token_id, self.indexed_block = chosen.token_id, watch.indexed_block
        credentials = await self._retry_until(deadline, "read the vault", self._credentials)
        try:
            self.network = await Network.join(key, node_type, self.config.chain_id,
                                              self.client, chosen.token_id)
        except BusUnreachable as error:
            raise StartRefused(ExitStatus.FAILED, str(error)) from None
        await self.network.refresh_members()
        self.reporter = Reporter(self.client, self.network, node_type, chosen.token_id,
                                 self.config.version, self._unreachable)
        if node_type is NodeType.ORACLE or self.config.settings.ml_target:
            replay.preload()
        self.duties = await asyncio.to_thread(
            Duties.for_type, node_type, self.network, self.reporter.log, credentials,
            self.config.settings, int(key.address[-8:], 16), key, self.reporter.rounds,
            self.reporter.messages)
        await self.network.announce(self.config.version)
        self.say(f"{key.address}: {node_type.label} license #{chosen.token_id} active at block "
                 f"{watch.indexed_block}; {len(credentials)} vault credential(s) loaded; node "
                 f"activated")
        self._open(f"license #{chosen.token_id} active")

    async def _sign_in(self) -> None:
        key = self.config.key
        await self.client.sign_in(key.address, self.config.chain_id, key.sign_message)

    async def _credentials(self) -> dict[str, dict]:
        """The vault's secrets of this node's license, by name (values never printed)."""
        assert self.token_id is not None
        summaries = await self.client.list_secrets(self.token_id)
        return {summary.name: (await self.client.get_secret(self.token_id, summary.name)).data
                for summary in summaries}

    async def _retry_until(self, deadline: float, what: str, action: Callable):
        """`action()`, retried while the backend is unreachable or busy (503) until `deadline`;
        a refusal (4xx) is final."""
        attempt = 0
        while True:
            try:
                return await action()
            except BackendError as error:
                if not (error.unreachable or error.status in (429, 503)):
                    raise StartRefused(ExitStatus.FAILED, f"cannot {what}: {error}") from None
                if time.monotonic() >= deadline:
                    raise StartRefused(ExitStatus.FAILED,
                                       f"cannot {what} within {START_DEADLINE_S:.0f} s: "
                                       f"{error}") from None
                log.warning("cannot %s yet, retrying: %s", what, error)
                await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
                attempt += 1

    # running
    async def run(self) -> ExitStatus:
        """Run until stopped (signal, license gone); the exit status."""
        tasks = [asyncio.create_task(coroutine, name=name) for name, coroutine in (
            ("watch", self._watch_forever()), ("duties", self._duties_forever()),
            ("executions", self.reporter.ship_forever()))]
        heartbeats = asyncio.create_task(self.reporter.heartbeats_until(
            self.stopped, self._state, self.config.settings), name="heartbeats")
        try:
            await self.stopped.wait()
        finally:
            self.stopped.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(heartbeats, HEARTBEAT_DRAIN_S)
            await self._shut_down()
        return self.exit_status

    def stop(self, status: ExitStatus = ExitStatus.STOPPED) -> None:
        self.exit_status = status
        self.stopped.set()

    def _state(self) -> str:
        if self.stopped.is_set():
            return "stopping"
        return "active" if self.gate.open.is_set() else "suspended"

    async def _watch_forever(self) -> None:
        """Long-poll the license from the last indexed block; after a failure ask for it as it
        is (the backend answers at once), so a node paused by an outage resumes as soon as the
        backend is back, not a long poll's timeout later when nothing moved on-chain."""
        settings, attempt = self.config.settings, 0
        while True:
            after_block = self.indexed_block if attempt == 0 else None
            try:
                watch = await self.client.watch_licenses(after_block,
                                                         settings.node_watch_timeout)
            except BackendError as error:
                await self._backend_failed(error, attempt)
                attempt += 1
                continue
            attempt = 0
            await self._apply(watch)

    async def _backend_failed(self, error: BackendError, attempt: int) -> None:
        """Fail closed: no execution while the backend cannot confirm the license."""
        if error.status == 401:
            with contextlib.suppress(BackendError):
                await self._sign_in()
        self._unreachable(error)
        await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])

    def _unreachable(self, error: BackendError) -> None:
        self._close(f"the backend cannot confirm the license ({error}); execution paused")

    async def _apply(self, watch: LicenseWatch) -> None:
        assert self.token_id is not None and self.network is not None
        moved = watch.indexed_block != self.indexed_block
        if watch.indexed_block is not None:
            self.indexed_block = watch.indexed_block
        verdict = judge(watch, self.token_id, self.config.node_type)
        if verdict.standing is Standing.GONE:
            await self._license_gone(verdict)
        elif verdict.standing is Standing.SUSPENDED:
            self._close(f"{verdict.reason}: execution paused until it is reinstated")
        else:
            self._open(verdict.reason)
        if moved:
            await self.network.refresh_members()

    async def _license_gone(self, verdict: Verdict) -> None:
        metrics.ACTIVE.set(0)
        self.gate.open.clear()
        self.say(f"{await self._why_gone(verdict)}; the node stops")
        self.stop(ExitStatus.LICENSE_GONE)

    async def _why_gone(self, verdict: Verdict) -> str:
        """Revoked or reassigned, from the license's public history when the backend says."""
        assert self.token_id is not None
        try:
            detail = await self.client.license(self.token_id)
        except BackendError:
            return verdict.reason
        if detail.status == "revoked":
            reason = f": {detail.status_reason}" if detail.status_reason else ""
            return f"license #{self.token_id} was revoked{reason}"
        if detail.owner.lower() != self.config.key.address.lower():
            return f"license #{self.token_id} was reassigned to {to_checksum_address(detail.owner)}"
        return verdict.reason

    def _open(self, reason: str) -> None:
        metrics.ACTIVE.set(1)
        if self.indexed_block is not None:
            metrics.CONFIRMED_BLOCK.set(self.indexed_block)
        if not self.gate.open.is_set():
            if self.gate.reason != "not started":
                self.say(f"{reason}: execution resumed")
            self.gate.open.set()
        self.gate.reason = reason

    def _close(self, reason: str) -> None:
        metrics.ACTIVE.set(0)
        if self.gate.open.is_set() or reason != self.gate.reason:
            self.say(reason)
        self.gate.open.clear()
        self.gate.reason = reason

    async def _duties_forever(self) -> None:
        interval = self.config.settings.node_round_interval
        first = True
        while True:
            await self.gate.open.wait()
            started = time.monotonic()
            executed = await self.duties.step()
            if first and executed:
                self.say(f"first round done: {executed} function execution(s)")
                first = False
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    async def _shut_down(self) -> None:
        with contextlib.suppress(Exception):
            await self.reporter.final(self._state())
        if self.network is not None:
            await self.network.close()
        with contextlib.suppress(BackendError):
            await self.client.logout()
        await self.client.aclose()


async def run_node(config: NodeConfig, say: Callable[[str], None]) -> ExitStatus:
    """Start and run a node; stop on SIGINT/SIGTERM. The exit status."""
    node = Node(config, say)
    metrics.serve(config.settings.node_metrics_port)
    try:
        await node.start()
    except StartRefused as refused:
        say(str(refused))
        await node.client.aclose()
        if node.network is not None:
            await node.network.close()
        return refused.status
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, node.stop)
    return await node.run()
