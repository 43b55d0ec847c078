"""Halt propagation (`make bench-halt`): how long an emergency halt takes from a desk's
drawdown breach to that desk's next order being refused, stage by stage, over --runs halts,
against the indexer's poll interval.

One stack for the whole run, as tests/node/guardians/conftest.py wires it: anvil with the
contracts deployed under the test governance (timelock delay 0), a fresh embedded PostgreSQL
database, a vault keyring, NATS with JetStream, `noderr index` (NODERR_INDEXER_POLL_INTERVAL =
--poll-interval) and `noderr api`, and two Guardian nodes (`noderr node run --type guardian`,
anvil #3 and #8, NODERR_GUARDIAN_MAX_DRAWDOWN 5%) as processes: a halt needs both signatures.
The desk, in this process, is anvil #4 under an Oracle license, joined to the bus as
`noderr trade paper --guardians` joins it: a BusRiskGate, and the desk's own follower of the
indexed blocks (node/runtime/desk.py's _follow_chain, which calls obey_guard).

Each run: the desk publishes, as its equity_publisher does, a new run's first equity point,
then one 10% lower (the breach; its publication starts the clock). Stages, each timed from the
one before:
  guardian decided  the first guardian's "breach at" line (timed by this process's thread
                    reading the guardian's output);
  first signature   the first guardian's halt signature arriving on the bus (this process
                    subscribes to the guardians' halt signatures);
  quorum signed     QUORUM distinct guardians' signatures of that halt arrived;
  halt on-chain     NodeGuard.is_halted() true at the latest block (polled every POLL_S; the
                    first signer in address order sends the halt at once, anvil automines);
  indexed           GET /network/guard says halted (polled every POLL_S);
  desk refused      the desk's gate set halted by its follower, and an order then refused
                    with check "halted" (polled every POLL_S).
Then governance resumes (the timelock's resume(), sent as an executed proposal would send it)
and the next run waits until the mirror and the desk see the guard resumed. Polling adds up to
POLL_S to each polled stage. With --write, the figures go in docs/benchmarks.md, section
"Halt propagation".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tqdm import tqdm
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import stop_postgres
from report import write_section

from client import AsyncBackendClient, BackendError
from node.bus.server import NatsServer
from node.desk.gate import RiskContext
from node.desk.records import Order
from node.guardian.shutdown import TradingState
from node.runtime.desk import _follow_chain
from node.runtime.guardian import EQUITY, HALT_SIGNATURES
from node.runtime.keys import anvil_account
from node.runtime.network import Network, Verified
from node.runtime.risk_gate import HALTED_CHECK, BusRiskGate
from node.settings import NodeSettings
from noderr.db import embedded_url
from noderr.domain import NodeType
from noderr.halt_report import GUARD_CONTRACT
from noderr.migrate import upgrade
from noderr.ports import free_port
from noderr.settings import LOCAL_CHAIN_ID
from noderr_cli.services import Services, backend_services, ensure_vault_keyring
from onchain.anvil import start_anvil
from onchain.compile import compiled
from onchain.deploy import DEPLOYED_CONTRACTS, deploy_all
from tests.backend.chain_helpers import LicenseOps
from tests.backend.helpers import GENEROUS_RATE_LIMIT_ENV
from tests.fixtures_chain import GOVERNANCE
from tests.node.runtime.processes import NodeProcess

GUARDIANS = (3, 8)
DESK_ACCOUNT = 4
MAX_DRAWDOWN = 0.05
INITIAL_EQUITY = 10_000.0
BREACHED_EQUITY = 9_000.0
"""10% below the run's first point: past MAX_DRAWDOWN and the kill switch."""
QUORUM = 2
"""NodeGuard's default: a majority of the active guardians."""
ANSWERS_REQUIRED = 2
ANSWER_TIMEOUT_S = 3.0
POLL_S = 0.02
STEP_TIMEOUT_S = 60.0
NODE_ROUND_INTERVAL = 0.5
STAGES = ("guardian decided", "first signature", "quorum signed", "halt on-chain", "indexed",
          "desk refused")


@dataclass
class Stack:
    services: Services
    w3: Web3
    ops: LicenseOps
    guard: object
    guardians: list[NodeProcess]


@contextlib.contextmanager
def stack(folder: Path, poll_interval: float) -> Iterator[Stack]:
    anvil_port = free_port()
    anvil = start_anvil(anvil_port)
    pg = folder / "pg"
    guardians: list[NodeProcess] = []
    try:
        rpc_url = f"http://127.0.0.1:{anvil_port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        deployment = deploy_all(w3, w3.eth.accounts[0], GOVERNANCE.model_copy(deep=True),
                                compiled(DEPLOYED_CONTRACTS))
        deployment.save(folder / "deployment.json")
        database_url = embedded_url(pg, "noderr_bench")
        upgrade(database_url)
        with NatsServer(f"nats://127.0.0.1:{free_port()}", folder / "bus") as bus:
            os.environ["NODERR_BUS_URL"] = bus.url
            services = Services(
                rpc_url=rpc_url, deployment=folder / "deployment.json",
                database_url=database_url, api_port=free_port(), bus_url=bus.url,
                vault_key_file=folder / "vault-keys.json",
                overrides={**GENEROUS_RATE_LIMIT_ENV,
                           "NODERR_INDEXER_POLL_INTERVAL": str(poll_interval)})
            ensure_vault_keyring(services, services.vault_key_file, folder / "logs" / "vault.log")
            with backend_services(services, folder / "logs", dashboard=False):
                ops = LicenseOps(w3, deployment, rpc_url, database_url)
                record = deployment.contracts[GUARD_CONTRACT]
                guard = w3.eth.contract(address=record.address, abi=record.abi)
                guardians += start_guardians(services, ops, folder)
                yield Stack(services, w3, ops, guard, guardians)
    finally:
        for node in guardians:
            with contextlib.suppress(Exception):
                node.stop()
        anvil.kill()
        anvil.wait()
        if pg.exists():
            stop_postgres(pg)


def start_guardians(services: Services, ops: LicenseOps, folder: Path) -> list[NodeProcess]:
    env = {**services.env(), "NODERR_NODE_ROUND_INTERVAL": str(NODE_ROUND_INTERVAL),
           "NODERR_GUARDIAN_MAX_DRAWDOWN": str(MAX_DRAWDOWN),
           "NODERR_GUARDIAN_RATE_CAPACITY": "1000", "NODERR_GUARDIAN_RATE_PER_SECOND": "100"}
    nodes = []
    for account in GUARDIANS:
        ops.mint(ops.w3.eth.accounts[account], NodeType.GUARDIAN, salt=os.urandom(4).hex())
        nodes.append(NodeProcess(["--type", "guardian", "--account", str(account)], env,
                                 folder / "logs" / f"guardian-{account}.log"))
    for node in nodes:
        node.wait_for("node activated", timeout=STEP_TIMEOUT_S)
    return nodes


@dataclass
class Desk:
    """The desk as `noderr trade paper --guardians` runs it: its bus connection, its gate,
    and its follower of the indexed blocks keeping the gate's halt in step with the mirror."""

    network: Network
    gate: BusRiskGate
    follower: asyncio.Task
    signatures: list[tuple[float, str, int]] = field(default_factory=list)
    """Each halt signature the guardians published: (arrival, signer, nonce)."""

    async def on_signature(self, message: Verified) -> None:
        self.signatures.append((time.monotonic(), message.sender,
                                int(message.payload["nonce"])))

    def signed(self, nonce: int, signers: int) -> float | None:
        """When `signers` distinct guardians had signed the halt of `nonce`."""
        seen: set[str] = set()
        for at, signer, signed_nonce in list(self.signatures):
            if signed_nonce == nonce:
                seen.add(signer)
                if len(seen) == signers:
                    return at
        return None

    def order(self) -> Order:
        return Order(f"halt-{secrets.token_hex(4)}", "SP500", "buy", Decimal(1),
                     datetime.now(UTC))

    async def decide(self) -> str:
        context = RiskContext(datetime.now(UTC), 1_000.0, {"SP500": 0.0}, 1e6,
                              TradingState.ACTIVE)
        decision = await self.gate.decide(self.order(), context)
        return "allowed" if decision.allowed else decision.check

    async def publish_equity(self, run: str, equity: float) -> None:
        await self.network.publish(EQUITY, {
            "desk": self.network.bus.signer.address, "run": run, "equity": str(equity),
            "initial": str(INITIAL_EQUITY), "at": datetime.now(UTC).isoformat(),
            "cash": str(equity), "exposure": {}})


@contextlib.asynccontextmanager
async def joined_desk(stack_: Stack):
    key = anvil_account(DESK_ACCOUNT, LOCAL_CHAIN_ID)
    stack_.ops.mint(key.address, NodeType.ORACLE, salt=os.urandom(4).hex())
    client = AsyncBackendClient(stack_.services.api_url)
    await client.sign_in(key.address, LOCAL_CHAIN_ID, key.sign_message)
    me = await until(client.nodes_me, "the desk's license indexed", BackendError)
    token = next(item.token_id for item in me.licenses if item.node_type == NodeType.ORACLE)
    network = await Network.join(key, NodeType.ORACLE, LOCAL_CHAIN_ID, client, token)
    gate = BusRiskGate(network, ANSWERS_REQUIRED, ANSWER_TIMEOUT_S)
    follower = asyncio.create_task(_follow_chain(network, None, NodeSettings(), gate))
    desk = Desk(network, gate, follower)
    try:
        await network.refresh_members()
        await network.subscribe(HALT_SIGNATURES, desk.on_signature)
        await until(lambda: answered(desk), "both guardians counting the desk's license")
        yield desk
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await network.close()
        await client.aclose()


async def answered(desk: Desk) -> bool:
    return await desk.decide() == "allowed"


async def until(check: Callable[[], Awaitable[object]], what: str,
                *tolerated: type[Exception]) -> object:
    """`check()`'s first truthy value, polled every POLL_S; its monotonic time is then
    `time.monotonic()` less at most POLL_S."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while True:
        with contextlib.suppress(*tolerated):
            value = await check()
            if value:
                return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} in {STEP_TIMEOUT_S:.0f} s")
        await asyncio.sleep(POLL_S)


async def seen_at(check: Callable[[], Awaitable[object]], what: str) -> float:
    await until(check, what)
    return time.monotonic()


async def line_at(nodes: list[NodeProcess], pattern: str, after: list[int]) -> float:
    """When the first of `nodes` to print a line matching `pattern` (past its marked line)
    printed it, as the thread reading its output timed it."""
    regex = re.compile(pattern)

    async def printed() -> float | None:
        return min((at for node, mark in zip(nodes, after, strict=True)
                    for at, line in node.lines[mark:] if regex.search(line)), default=None)

    return await until(printed, f"a guardian's line matching {pattern!r}")


async def halt_once(stack_: Stack, desk: Desk) -> list[float]:
    """One breach to refusal: the monotonic time of each of STAGES, after the breach's."""
    guardians, guard = stack_.guardians, stack_.guard
    marks = [len(node.lines) for node in guardians]
    client = desk.network.client
    run = secrets.token_hex(8)
    nonce = await asyncio.to_thread(guard.functions.halt_nonce().call)
    await desk.publish_equity(run, INITIAL_EQUITY)
    breached = time.monotonic()
    await desk.publish_equity(run, BREACHED_EQUITY)

    async def refused() -> bool:
        return desk.gate.halted_by is not None and await desk.decide() == HALTED_CHECK

    stages = await asyncio.gather(
        line_at(guardians, r"breach at ", marks),
        until(async_value(lambda: desk.signed(nonce, 1)), "a halt signature"),
        until(async_value(lambda: desk.signed(nonce, QUORUM)), "the halt's quorum"),
        seen_at(lambda: asyncio.to_thread(guard.functions.is_halted().call), "halt on-chain"),
        seen_at(lambda: halted_in_mirror(client), "halt in the mirror"),
        seen_at(refused, "refusal as halted"))
    return [breached, *stages]


def async_value(value: Callable[[], float | None]) -> Callable[[], Awaitable[float | None]]:
    async def read() -> float | None:
        return value()
    return read


async def halted_in_mirror(client: AsyncBackendClient) -> bool:
    return (await client.network_guard()).halted


async def resume(stack_: Stack, desk: Desk) -> None:
    """Governance resumes; until the mirror and the desk see it."""
    await asyncio.to_thread(stack_.ops.govern, stack_.guard.functions.resume())

    async def resumed() -> bool:
        return not await halted_in_mirror(desk.network.client) and desk.gate.halted_by is None

    await until(resumed, "resume seen by the desk")


async def measure(stack_: Stack, runs: int) -> list[list[float]]:
    """Per run, the seconds of each of STAGES since the stage before."""
    async with joined_desk(stack_) as desk:
        durations = []
        for _ in tqdm(range(runs), desc="halts", unit="halt", file=sys.stderr):
            times = await halt_once(stack_, desk)
            durations.append([later - earlier for earlier, later in itertools.pairwise(times)])
            await resume(stack_, desk)
        return durations


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def spread(values: list[float]) -> str:
    return f"{pct(values, 50):.3f} / {pct(values, 95):.3f} / {max(values):.3f}"


def report(durations: list[list[float]], poll_interval: float, started: datetime) -> str:
    lines = ["## Halt propagation", "",
             f"`make bench-halt` (benchmarks/halt_propagation.py), {started:%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores shared with other work (load average "
             f"{os.getloadavg()[0]:.1f} at the end). {len(durations)} halts: a desk's equity "
             f"drops 10% (drawdown limit {MAX_DRAWDOWN:.0%}) → two guardians (both must sign) "
             f"→ NodeGuard → indexer (poll interval {poll_interval:g} s) → the desk's next "
             f"order refused as halted; governance resumes between halts. Polled stages are "
             f"up to {POLL_S * 1e3:.0f} ms late.", "",
             "| stage | since the stage before: p50 / p95 / max (s) | since the breach: "
             "p50 / p95 / max (s) |", "|---|---:|---:|"]
    for index, stage in enumerate(STAGES):
        own = [run[index] for run in durations]
        cumulative = [sum(run[:index + 1]) for run in durations]
        lines.append(f"| {stage} | {spread(own)} | {spread(cumulative)} |")
    totals = [sum(run) for run in durations]
    lines += ["", f"Breach to refusal against the indexer's poll interval ({poll_interval:g} s): "
              f"p50 {pct(totals, 50) / poll_interval:.2f}×, p95 "
              f"{pct(totals, 95) / poll_interval:.2f}×, max {max(totals) / poll_interval:.2f}×."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="halts to time")
    parser.add_argument("--poll-interval", type=float, default=0.5,
                        help="the indexer's NODERR_INDEXER_POLL_INTERVAL (s), the baseline")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="noderr-halt-") as directory:
        print("starting anvil, Postgres, NATS, indexer, API, two guardians …", file=sys.stderr)
        with stack(Path(directory), args.poll_interval) as running:
            durations = asyncio.run(measure(running, args.runs))
    text = report(durations, args.poll_interval, started)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
