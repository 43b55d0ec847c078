"""Two Guardian nodes as real `noderr node run` processes on a stack of their own (anvil,
Postgres, indexer, API, NATS: tests/node/runtime/conftest.py's `network`, a separate instance
for this folder), and requesters in the test process: fresh keys holding Oracle licenses (all
licenses minted by anvil #0), asking through BusRiskGate on their own bus connection.

Guardians: anvil #3 and #8. No feed is needed: guardians read no contract."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import ape
from eth_account import Account
from eth_account.signers.local import LocalAccount
from prometheus_client import CollectorRegistry

from client import AsyncBackendClient
from node.bus.envelope import Domain, Signer
from node.bus.heartbeats import Heartbeats
from node.bus.membership import Membership
from node.bus.transport import Bus
from node.bus.verify import Verifier
from node.desk.gate import RiskContext
from node.desk.records import Order
from node.guardian.decisions import LimitDecision
from node.guardian.shutdown import TradingState
from node.runtime.keys import anvil_account
from node.runtime.network import Network as BusNetwork
from node.runtime.risk_gate import BusRiskGate
from noderr.domain import NodeType
from noderr.settings import LOCAL_CHAIN_ID
from tests.node.runtime.conftest import Network, network  # noqa: F401
from tests.node.runtime.processes import NodeProcess

GUARDIANS = (3, 8)
DESK_ACCOUNT = 4
MAX_NOTIONAL = 10_000.0
MAX_POSITION = 100.0
PRICE = 1_000.0
TIMEOUT_S = 3.0
MAX_DRAWDOWN = 0.05
"""Breached by the 2007-2008 replay of test_f_halt.py (8.6% deepest, 5% first reached on
2007-12-06), not by test_desk_live.py's 2007 replays (3.5% at most)."""
MAX_VAR = 0.02
"""Crossed (EWMA VaR 2.12% on 2008-10-29) by test_desk_reducing.py's replay of October 2008,
whose drawdown stays near 3%; test_desk_live.py's 2007 replays stay under 1.5%, and
test_f_halt.py's crash replay first reduces on its drawdown (VaR 1.58% on 2007-12-06)."""


@dataclass
class Requester:
    account: LocalAccount
    token_id: int


@dataclass
class Asked:
    decisions: list[LimitDecision]
    latencies_s: list[float]
    dropped: Counter[str]


@dataclass
class GuardianNetwork:
    network: Network
    guardians: dict[int, NodeProcess]
    requester: Requester
    revocable: Requester
    denied: Requester

    def ask(self, requester: Requester, orders: list[Order], required: int = 2,
            during: Callable[[str], Awaitable[object]] | None = None) -> Asked:
        """Each order asked in turn through a BusRiskGate on the requester's own connection;
        `during(bus_url)`, when given, runs alongside (a forger)."""
        return asyncio.run(ask(self.network, requester, orders, required, during))


def order(quantity: str = "1", side: str = "buy", number: int = 1) -> Order:
    return Order(f"test-{number}", "SP500", side, Decimal(quantity), datetime.now(UTC))


def context() -> RiskContext:
    return RiskContext(datetime.now(UTC), PRICE, {"SP500": 0.0}, 1_000_000.0,
                       TradingState.ACTIVE)


async def requester_network(network: Network, key: bytes, token_id: int) -> BusNetwork:  # noqa: F811
    domain, membership = Domain(LOCAL_CHAIN_ID), Membership()
    signer = Signer(key, NodeType.ORACLE, domain)
    bus = await Bus.connect(network.services.bus_url, signer, Verifier(domain, membership),
                            registry=CollectorRegistry())
    heartbeats = await Heartbeats.open(bus, 15.0)
    joined = BusNetwork(bus, heartbeats, membership,
                        AsyncBackendClient(network.services.api_url), token_id)
    await joined.refresh_members()
    return joined


async def ask(network: Network, requester: Requester, orders: list[Order],  # noqa: F811
              required: int, during: Callable[[str], Awaitable[object]] | None) -> Asked:
    joined = await requester_network(network, bytes(requester.account.key), requester.token_id)
    side = asyncio.create_task(during(network.services.bus_url)) if during else None
    try:
        if side is not None:
            await asyncio.sleep(0.5)
        gate = BusRiskGate(joined, required, TIMEOUT_S)
        decisions, latencies = [], []
        for each in orders:
            started = asyncio.get_running_loop().time()
            decisions.append(await gate.decide(each, context()))
            latencies.append(asyncio.get_running_loop().time() - started)
        await joined.bus.flush()
        return Asked(decisions, latencies, Counter(joined.bus.dropped))
    finally:
        if side is not None:
            side.cancel()
        await joined.close()
        await joined.client.aclose()


def new_requester(network: Network) -> Requester:  # noqa: F811
    account = Account.create()
    token = network.ops.mint(account.address, NodeType.ORACLE, salt=os.urandom(4).hex())
    return Requester(account, token)


@ape.fixture(scope="package", chain_isolation=False)
def guardian_network(network: Network) -> Iterator[GuardianNetwork]:  # noqa: F811
    requester, revocable, denied = (new_requester(network) for _ in range(3))
    for account in GUARDIANS:
        network.ops.mint(network.account(account), NodeType.GUARDIAN, salt=os.urandom(4).hex())
    env = {"NODERR_GUARDIAN_MAX_NOTIONAL": str(MAX_NOTIONAL),
           "NODERR_GUARDIAN_MAX_POSITION": str(MAX_POSITION),
           "NODERR_GUARDIAN_MAX_DRAWDOWN": str(MAX_DRAWDOWN),
           "NODERR_GUARDIAN_MAX_VAR": str(MAX_VAR),
           "NODERR_GUARDIAN_RATE_CAPACITY": "1000", "NODERR_GUARDIAN_RATE_PER_SECOND": "100",
           "NODERR_GUARDIAN_DENYLIST": f"{Account.create().address},{denied.account.address}"}
    guardians = {account: network.start_node(NodeType.GUARDIAN, account, **env)
                 for account in GUARDIANS}
    for node in guardians.values():
        node.wait_for("node activated", timeout=60)
    guarded = GuardianNetwork(network, guardians, requester, revocable, denied)
    network.wait_until(lambda: guarded.ask(requester, [order()]).decisions[0].allowed,
                       "both guardians answering", timeout=60)
    yield guarded


@ape.fixture(scope="package", chain_isolation=False)
def desk_account(guardian_network: GuardianNetwork) -> int:
    """anvil #4 with an Oracle license the guardians already count."""
    stack = guardian_network.network
    token = stack.ops.mint(stack.account(DESK_ACCOUNT), NodeType.ORACLE,
                             salt=os.urandom(4).hex())
    key = anvil_account(DESK_ACCOUNT, LOCAL_CHAIN_ID).private_key
    desk = Requester(Account.from_key(key), token)
    stack.wait_until(lambda: guardian_network.ask(desk, [order()]).decisions[0].allowed,
                       "the guardians to count the desk's license", timeout=60)
    return DESK_ACCOUNT
