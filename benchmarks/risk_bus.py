"""The guardian round trip of benchmarks/risk.py: a real nats-server (.venv/bin/nats-server),
Guardian responders in processes of their own running node/runtime/guardian.py's
GuardianDuties, and a desk asking them through BusRiskGate, as `noderr trade paper
--guardians` does.

Without the license stack: no chain, indexer or backend. Every process is handed the same
membership (the guardians' and the desk's licenses at one block), built directly, which is
what the guardians and the desk would otherwise read from the backend's mirror; the bus's
signature, freshness, replay and license checks all run."""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.synchronize import Event
from pathlib import Path

from eth_account import Account
from prometheus_client import CollectorRegistry
from tqdm import tqdm

from node.bus.envelope import Domain, Signer
from node.bus.membership import Member, Membership
from node.bus.server import NatsServer
from node.bus.transport import Bus
from node.bus.verify import Verifier
from node.desk.gate import RiskContext
from node.desk.records import Order
from node.execution import ExecutionLog
from node.guardian.shutdown import TradingState
from node.runtime.guardian import GuardianDuties
from node.runtime.network import Network
from node.runtime.risk_gate import BusRiskGate
from node.settings import GuardianSettings
from noderr.domain import NodeType
from noderr.ports import free_port

CHAIN_ID = 31337
BLOCK = 1
ANSWER_TIMEOUT_S = 2.0
READY_TIMEOUT_S = 30.0
DESK_KEY = bytes([9]) * 32


@dataclass(frozen=True)
class RoundTrips:
    guardians: int
    latencies_ms: list[float]
    allowed: int

    def summary(self) -> str:
        quantiles = statistics.quantiles(self.latencies_ms, n=100)
        return (f"{self.guardians} guardian(s): p50 {quantiles[49]:.2f} ms, p99 "
                f"{quantiles[98]:.2f} ms over {len(self.latencies_ms)} sequential orders "
                f"({self.allowed} allowed by all {self.guardians})")


class NoObserver:
    async def step(self) -> int:
        return 0


async def joined(url: str, key: bytes, node_type: NodeType, members: list[Member],
                 token_id: int) -> Network:
    """A Network on the bus at `url` whose membership is `members`, with no backend."""
    domain, membership = Domain(CHAIN_ID), Membership()
    membership.update(BLOCK, members)
    bus = await Bus.connect(url, Signer(key, node_type, domain), Verifier(domain, membership),
                            registry=CollectorRegistry())
    return Network(bus, None, membership, None, token_id)  # type: ignore[arg-type]


def serve_guardian(url: str, key: bytes, members: list[Member], token_id: int,
                   settings: dict[str, object], ready: multiprocessing.Queue,
                   stop: Event) -> None:
    """One Guardian node's risk answers until `stop` is set (a process's target)."""
    asyncio.run(_serve(url, key, members, token_id, settings, ready, stop))


async def _serve(url: str, key: bytes, members: list[Member], token_id: int,
                 settings: dict[str, object], ready: multiprocessing.Queue,
                 stop: Event) -> None:
    network = await joined(url, key, NodeType.GUARDIAN, members, token_id)
    duties = GuardianDuties(network, ExecutionLog(), GuardianSettings(**settings), NoObserver())
    await duties.step()
    await network.bus.connection.flush()
    ready.put(token_id)
    while not stop.is_set():
        await asyncio.sleep(0.1)
    await network.close()


def order(number: int) -> Order:
    return Order(f"bench-{number}", "SP500", "buy" if number % 2 else "sell",
                 Decimal(1 + number % 5), datetime.now(UTC))


def context() -> RiskContext:
    return RiskContext(datetime.now(UTC), 5_000.0, {"SP500": 4.0}, 1e6, TradingState.ACTIVE)


async def _ask(url: str, members: list[Member], guardians: int, orders: int) -> RoundTrips:
    network = await joined(url, DESK_KEY, NodeType.ORACLE, members, 1)
    try:
        gate = BusRiskGate(network, guardians, ANSWER_TIMEOUT_S)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (await gate.decide(order(0), context())).allowed:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{guardians} guardian(s) never all answered")
        latencies, allowed = [], 0
        for number in tqdm(range(orders), desc=f"round trips, {guardians} guardian(s)",
                           unit="order"):
            began = time.perf_counter()
            decision = await gate.decide(order(number), context())
            latencies.append((time.perf_counter() - began) * 1000)
            allowed += decision.allowed
        return RoundTrips(guardians, latencies, allowed)
    finally:
        await network.close()


def round_trips(guardians: int, orders: int, settings: dict[str, object]) -> RoundTrips:
    """`orders` asked one after the other of `guardians` guardian processes, each answer
    required, on a nats-server of their own."""
    keys = [bytes([20 + index]) * 32 for index in range(guardians)]
    members: list[Member] = [(Account.from_key(DESK_KEY).address, NodeType.ORACLE, 1)] + [
        (Account.from_key(key).address, NodeType.GUARDIAN, 100 + index)
        for index, key in enumerate(keys)]
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Queue(), spawn.Event()
    with tempfile.TemporaryDirectory() as scratch:
        server = NatsServer(f"nats://127.0.0.1:{free_port()}", Path(scratch) / "store")
        server.start()
        processes = [spawn.Process(target=serve_guardian, args=(
            server.url, key, members, 100 + index, settings, ready, stop))
            for index, key in enumerate(keys)]
        try:
            for process in processes:
                process.start()
            for _ in processes:
                ready.get(timeout=READY_TIMEOUT_S)
            return asyncio.run(_ask(server.url, members, guardians, orders))
        finally:
            stop.set()
            for process in processes:
                process.join(10)
            server.stop()
