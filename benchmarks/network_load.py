"""Network under load (`make bench-network`): the demo-sized network (the four genesis
validators, two oracles, two guardians as `noderr node run` processes, the four replayed feeds,
anvil, embedded PostgreSQL, NATS, indexer, API) first idle, then under a sustained load for the
same time, with every figure as a ratio of the loaded phase to the idle one.

Load: orders asked of the guardians over the bus (BusRiskGate, both guardians' answers
required) at --orders-per-second, and license-gated API calls (GET /nodes/me with a session) at
--api-per-second, both open loop (sent on schedule, whether or not earlier ones answered). The
idle phase probes the same paths at one order and two API calls per second, so both phases
have latencies to compare.

Per phase: rounds landed on-chain against the rounds the schedule allows (four feeds, one
consensus round every NODERR_VALIDATOR_ROUND_EVERY oracle rounds),
consensus latency (a round's Transmitted block time minus its report's observation time;
anvil's block times are whole seconds), order check latency, API gated latency, indexer lag
(chain head minus the indexed block, sampled twice a second) and CPU per process (cores).
With --write, the figures go in docs/benchmarks.md, section "Network under load".

`--sweep` looks for the largest network this machine sustains: validators 4, 7 and 10, each with
2 and then 4 oracles (always 2 guardians), every size a fresh stack measured once under the same
load for --seconds (30 by default), until a size no longer keeps up: under 90% of the rounds
the schedule allows landed, or a consensus latency p99 above the round period. With --write,
its table goes in section "The largest network".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import psutil
from tqdm import tqdm
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import stop_postgres
from report import write_section

from client import AsyncBackendClient, BackendError
from node.bus.server import NatsServer
from node.bus.settings import get_bus_settings
from node.desk.gate import RiskContext
from node.desk.records import Order
from node.guardian.shutdown import TradingState
from node.runtime.keys import anvil_account
from node.runtime.network import Network
from node.runtime.risk_gate import BusRiskGate
from node.settings import NodeSettings, ValidatorSettings
from noderr.db import embedded_url
from noderr.domain import NodeType
from noderr.feeds import REPLAYED_INSTRUMENTS
from noderr.migrate import upgrade
from noderr.ports import free_port
from noderr.settings import LOCAL_CHAIN_ID, get_settings
from noderr_cli.demo_network import (
    DEMO_ACCOUNTS,
    node_network,
    wait_activated,
    wait_until_members,
)
from noderr_cli.deploy import run_deploy
from noderr_cli.services import (
    Services,
    backend_services,
    ensure_vault_keyring,
    running,
    start_service,
)
from onchain.anvil import start_anvil

REQUESTER_ACCOUNT = 1
ANSWERS_REQUIRED = 2
ANSWER_TIMEOUT_S = 3.0
SAMPLE_EVERY_S = 0.5
FIRST_NODE_ACCOUNT = 4
"""A swept network's nodes take anvil's accounts from #4 on (#1 asks for the orders)."""
NODE_START_TIMEOUT_S = 240.0
"""Sixteen node processes start in about a minute on two idle cores; a loaded host is slower."""
LANDED_AT_LEAST = 0.9
SWEEP_SECONDS = 30.0


@dataclass(frozen=True)
class Size:
    validators: int
    oracles: int
    guardians: int = 2

    def nodes(self) -> list[tuple[NodeType, int]]:
        """Each node's type and anvil account: the validators, then oracles, then guardians."""
        types = ([NodeType.VALIDATOR] * self.validators + [NodeType.ORACLE] * self.oracles
                 + [NodeType.GUARDIAN] * self.guardians)
        return [(node_type, FIRST_NODE_ACCOUNT + index) for index, node_type in enumerate(types)]

    def validator_addresses(self) -> list[str]:
        return [anvil_account(account, LOCAL_CHAIN_ID).address
                for node_type, account in self.nodes() if node_type is NodeType.VALIDATOR]


SWEEP = tuple(Size(validators, oracles) for validators in (4, 7, 10) for oracles in (2, 4))


@dataclass
class Stack:
    services: Services
    w3: Web3
    feeds: dict[str, object]
    folder: Path
    bus: NatsServer


@dataclass
class Phase:
    name: str
    seconds: float
    rounds_landed: int = 0
    rounds_possible: float = 0.0
    consensus_s: list[float] = field(default_factory=list)
    order_ms: list[float] = field(default_factory=list)
    orders_refused: int = 0
    api_ms: list[float] = field(default_factory=list)
    api_failed: int = 0
    lag_blocks: list[int] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def stack(folder: Path, size: Size | None = None) -> Iterator[Stack]:
    """The whole stack with the demo's network, or one of `size` (its validators the genesis
    validators of a fresh deployment)."""
    anvil_port = free_port()
    accounts = DEMO_ACCOUNTS if size is None else FIRST_NODE_ACCOUNT + len(size.nodes())
    anvil = start_anvil(anvil_port, LOCAL_CHAIN_ID, accounts=max(DEMO_ACCOUNTS, accounts))
    pg = folder / "pg"
    if size is not None:
        os.environ["NODERR_GENESIS_VALIDATORS"] = ",".join(size.validator_addresses())
    try:
        rpc_url = f"http://127.0.0.1:{anvil_port}"
        path, deployment = run_deploy(rpc_url, folder / "deployment.json", get_settings(),
                                      lambda _line: None)
        database_url = embedded_url(pg, "noderr_bench")
        upgrade(database_url)
        with NatsServer(f"nats://127.0.0.1:{free_port()}", folder / "bus") as bus:
            os.environ["NODERR_BUS_URL"] = bus.url
            get_bus_settings.cache_clear()  # a sweep's next stack has a bus of its own
            services = Services(rpc_url=rpc_url, deployment=path, database_url=database_url,
                                api_port=free_port(), bus_url=bus.url,
                                vault_key_file=folder / "vault-keys.json")
            ensure_vault_keyring(services, services.vault_key_file, folder / "logs" / "v.log")
            w3 = Web3(Web3.HTTPProvider(rpc_url))
            nodes = (node_network(services, deployment, w3, folder / "logs") if size is None
                     else sized_network(services, deployment, w3, folder / "logs", size))
            with backend_services(services, folder / "logs", dashboard=False), nodes:
                feeds = {name: w3.eth.contract(address=deployment.contracts[
                    f"NodeFeed.{name}"].address, abi=deployment.contracts[
                    f"NodeFeed.{name}"].abi) for name in REPLAYED_INSTRUMENTS}
                mint_requester(w3, deployment)
                yield Stack(services, w3, feeds, folder, bus)
    finally:
        os.environ.pop("NODERR_GENESIS_VALIDATORS", None)
        anvil.kill()
        anvil.wait()
        if pg.exists():
            stop_postgres(pg)


@contextlib.contextmanager
def sized_network(services: Services, deployment, w3: Web3, log_dir: Path,
                  size: Size) -> Iterator[None]:
    """Licenses for the oracles and guardians (the validators are genesis), every node a
    `noderr node run` process, until each has activated."""
    nodes = size.nodes()
    for node_type, account in nodes:
        if node_type is not NodeType.VALIDATOR:
            mint(w3, deployment, w3.eth.accounts[account], node_type)
    wait_until_members(services.api_url, {w3.eth.accounts[account] for _, account in nodes},
                       timeout=60)
    with contextlib.ExitStack() as processes:
        logs = []
        for node_type, account in nodes:
            log = log_dir / f"node-{node_type.label.lower()}-{account}.log"
            processes.enter_context(running(start_service(
                ["node", "run", "--type", node_type.label.lower(), "--account", str(account)],
                services, log)))
            logs.append(log)
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        for log in logs:
            wait_activated(log, deadline)
        yield


def mint_requester(w3: Web3, deployment) -> None:
    mint(w3, deployment, w3.eth.accounts[REQUESTER_ACCOUNT], NodeType.ORACLE)


def mint(w3: Web3, deployment, owner: str, node_type: NodeType) -> None:
    """A license of `node_type` to `owner`, from anvil #0 (the MINTER)."""
    record = deployment.contracts["NodeLicense"]
    license_ = w3.eth.contract(address=record.address, abi=record.abi)
    tx = license_.functions.mint(owner, node_type, os.urandom(32)).transact(
        {"from": w3.eth.accounts[0]})
    if w3.eth.wait_for_transaction_receipt(tx)["status"] != 1:
        raise RuntimeError(f"minting a {node_type.label} license to {owner} reverted")


def process_groups(folder: Path) -> dict[str, list[psutil.Process]]:
    """The stack's processes by role: this process's descendants, and every backend of the
    embedded PostgreSQL (which runs detached)."""
    groups: dict[str, list[psutil.Process]] = {}
    candidates = psutil.Process().children(recursive=True) + [
        process for process in psutil.process_iter()
        if str(folder / "pg") in " ".join(_cmdline(process))]
    for process in candidates:
        role = role_of(" ".join(_cmdline(process)))
        if role:
            groups.setdefault(role, []).append(process)
    return groups


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def role_of(line: str) -> str | None:
    if "node run --type" in line:
        return f"{line.split('--type')[1].split()[0]} nodes"
    for needle, role in (("anvil", "anvil"), ("nats-server", "nats-server"),
                         ("noderr_cli index", "indexer"), ("noderr_cli api", "api"),
                         ("postgres", "postgres")):
        if needle in line:
            return role
    return None


def cpu_seconds(groups: dict[str, list[psutil.Process]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for role, processes in groups.items():
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                totals[role] = totals.get(role, 0.0) + times.user + times.system
    return totals


def order(number: int) -> Order:
    return Order(f"load-{number}", "SP500", "buy" if number % 2 else "sell",
                 Decimal(1 + number % 3), datetime.now(UTC))


def context() -> RiskContext:
    return RiskContext(datetime.now(UTC), 5_000.0, {"SP500": 4.0}, 1e6, TradingState.ACTIVE)


async def open_loop(rate: float, seconds: float, call, label: str) -> None:
    """`call(n)` started every 1/rate seconds for `seconds`, without waiting for answers."""
    tasks, began, count = [], time.monotonic(), int(rate * seconds)
    for number in tqdm(range(count), desc=label, unit="call", leave=False, file=sys.stderr):
        await asyncio.sleep(max(0.0, began + number / rate - time.monotonic()))
        tasks.append(asyncio.create_task(call(number)))
    await asyncio.gather(*tasks)


async def run_phase(stack_: Stack, phase: Phase, gate: BusRiskGate,
                    client: AsyncBackendClient, orders_rate: float, api_rate: float) -> None:
    w3, feeds = stack_.w3, stack_.feeds
    groups = process_groups(stack_.folder)
    cpu_before, start_block = cpu_seconds(groups), w3.eth.block_number

    async def ask(number: int) -> None:
        began = time.perf_counter()
        decision = await gate.decide(order(number), context())
        phase.order_ms.append((time.perf_counter() - began) * 1e3)
        phase.orders_refused += not decision.allowed

    async def gated(_number: int) -> None:
        began = time.perf_counter()
        try:
            await client.nodes_me()
            phase.api_ms.append((time.perf_counter() - began) * 1e3)
        except (BackendError, httpx.HTTPError):  # a refusal under load is a figure
            phase.api_failed += 1

    async def sample_lag() -> None:
        async with httpx.AsyncClient(base_url=stack_.services.api_url, timeout=10) as http:
            deadline = time.monotonic() + phase.seconds
            while time.monotonic() < deadline:
                indexed = (await http.get("/network/guard")).json()["indexed_block"] or 0
                phase.lag_blocks.append(max(0, w3.eth.block_number - indexed))
                await asyncio.sleep(SAMPLE_EVERY_S)

    began = time.monotonic()
    await asyncio.gather(open_loop(orders_rate, phase.seconds, ask, f"{phase.name}: orders"),
                         open_loop(api_rate, phase.seconds, gated, f"{phase.name}: API"),
                         sample_lag())
    elapsed = time.monotonic() - began
    cpu_after = cpu_seconds(groups)
    phase.cpu = {role: (cpu_after.get(role, 0.0) - cpu_before.get(role, 0.0)) / elapsed
                 for role in cpu_after}
    phase.rounds_possible = len(feeds) * elapsed / round_period()
    end_block = w3.eth.block_number
    for feed in feeds.values():
        landed = feed.events.Transmitted().get_logs(from_block=start_block, to_block=end_block)
        phase.rounds_landed += len(landed)
        for event in landed:
            block = w3.eth.get_block(event["blockNumber"])
            phase.consensus_s.append(block["timestamp"] - event["args"]["observed_at"])


async def measure(stack_: Stack, phases: list[tuple[Phase, float, float]]) -> list[Phase]:
    """Each phase in turn at its (orders/s, API calls/s)."""
    key = anvil_account(REQUESTER_ACCOUNT, LOCAL_CHAIN_ID)
    client = AsyncBackendClient(stack_.services.api_url)
    await client.sign_in(key.address, LOCAL_CHAIN_ID, key.sign_message)
    me = await licensed(client)
    token = next(item.token_id for item in me.licenses if item.node_type == NodeType.ORACLE)
    network = await Network.join(key, NodeType.ORACLE, LOCAL_CHAIN_ID, client, token)
    try:
        await network.refresh_members()
        gate = BusRiskGate(network, ANSWERS_REQUIRED, ANSWER_TIMEOUT_S)
        for phase, orders_rate, api_rate in phases:
            await run_phase(stack_, phase, gate, client, orders_rate, api_rate)
        return [phase for phase, _, _ in phases]
    finally:
        await network.close()
        await client.aclose()


async def licensed(client: AsyncBackendClient, timeout_s: float = 60.0):
    """/nodes/me once the requester's mint is indexed."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await client.nodes_me()
        except BackendError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def report(phases: list[Phase], orders_rate: float, api_rate: float, started: datetime) -> str:
    idle, load = phases
    rows = [
        ("rounds landed / possible", f"{idle.rounds_landed} / {idle.rounds_possible:.0f}",
         f"{load.rounds_landed} / {load.rounds_possible:.0f}",
         (load.rounds_landed / load.rounds_possible) / (idle.rounds_landed /
                                                        idle.rounds_possible)),
        ("consensus latency p99 (s, block-time resolution)", f"{pct(idle.consensus_s, 99):.0f}",
         f"{pct(load.consensus_s, 99):.0f}", None),
        ("order check p50 / p99 (ms)", f"{pct(idle.order_ms, 50):.1f} / "
         f"{pct(idle.order_ms, 99):.1f}", f"{pct(load.order_ms, 50):.1f} / "
         f"{pct(load.order_ms, 99):.1f}", pct(load.order_ms, 99) / pct(idle.order_ms, 99)),
        ("API gated p50 / p99 (ms)", f"{pct(idle.api_ms, 50):.1f} / {pct(idle.api_ms, 99):.1f}",
         f"{pct(load.api_ms, 50):.1f} / {pct(load.api_ms, 99):.1f}",
         pct(load.api_ms, 99) / pct(idle.api_ms, 99)),
        ("API calls failed", str(idle.api_failed), str(load.api_failed), None),
        ("indexer lag p95 (blocks)", f"{pct(idle.lag_blocks, 95):.0f}",
         f"{pct(load.lag_blocks, 95):.0f}", None),
    ]
    for role in sorted(set(idle.cpu) | set(load.cpu)):
        before, after = idle.cpu.get(role, 0.0), load.cpu.get(role, 0.0)
        rows.append((f"CPU, {role} (cores)", f"{before:.2f}", f"{after:.2f}",
                     after / before if before > 0.01 else None))
    lines = ["## Network under load", "",
             f"`make bench-network` (benchmarks/network_load.py), {started:%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores shared with other work (load average "
             f"{os.getloadavg()[0]:.1f} at the end). The demo's network: 4 validators, 2 "
             f"oracles, 2 guardians, 4 feeds. Each phase {idle.seconds:.0f} s; load: "
             f"{orders_rate:g} orders/s (both guardians answer each), {api_rate:g} gated API "
             "calls/s; idle probes 1 order/s and 2 calls/s.", "",
             "| figure | idle | load | load / idle |", "|---|---:|---:|---:|"]
    for name, first, second, ratio in rows:
        lines.append(f"| {name} | {first} | {second} | "
                     f"{'' if ratio is None else f'{ratio:.2f}'} |")
    lines += ["", f"Orders refused by a guardian check (the rate limit, mostly): idle "
              f"{idle.orders_refused} of {len(idle.order_ms)}, load {load.orders_refused} of "
              f"{len(load.order_ms)}. Consensus latency median: idle "
              f"{statistics.median(idle.consensus_s) if idle.consensus_s else float('nan'):.0f}"
              f" s, load {statistics.median(load.consensus_s) if load.consensus_s else 0:.0f} "
              "s."]
    return "\n".join(lines) + "\n"


def round_period() -> float:
    return NodeSettings().node_round_interval * ValidatorSettings().validator_round_every


def sustained(phase: Phase) -> bool:
    """Rounds landed every interval: enough of them, and soon enough."""
    return (phase.rounds_landed >= LANDED_AT_LEAST * phase.rounds_possible
            and pct(phase.consensus_s, 99) <= round_period())


def sweep(seconds: float, orders_rate: float, api_rate: float) -> list[tuple[Size, Phase]]:
    """Each size of SWEEP in turn, a fresh stack each, until one is not sustained."""
    measured: list[tuple[Size, Phase]] = []
    for size in tqdm(SWEEP, desc="sweep", unit="network", file=sys.stderr):
        with tempfile.TemporaryDirectory(prefix="noderr-network-") as directory, \
                stack(Path(directory), size) as running_stack:
            [phase] = asyncio.run(measure(running_stack, [
                (Phase(f"{size.validators}v{size.oracles}o", seconds), orders_rate,
                 api_rate)]))
        measured.append((size, phase))
        if not sustained(phase):
            break
    return measured


def sweep_report(measured: list[tuple[Size, Phase]], orders_rate: float, api_rate: float,
                 started: datetime) -> str:
    held = [size for size, phase in measured if sustained(phase)]
    largest = (f"{held[-1].validators} validators and {held[-1].oracles} oracles"
               if held else "none of the sizes")
    lines = ["## The largest network", "",
             f"`benchmarks/network_load.py --sweep`, {started:%Y-%m-%d %H:%M} UTC, "
             f"{os.cpu_count()} cores shared with other work (load average "
             f"{os.getloadavg()[0]:.1f} at the end). Each size a fresh stack (2 guardians, 4 "
             f"feeds, a consensus round due every {round_period():g} s per feed) under "
             f"{orders_rate:g} orders/s and {api_rate:g} gated API calls/s for "
             f"{measured[0][1].seconds:.0f} s; sustained: at least {LANDED_AT_LEAST:.0%} of "
             "the rounds landed and consensus p99 within the round period. The sweep stops "
             "at the first size not sustained.", "",
             "| validators | oracles | rounds landed / possible | consensus p99 (s) | "
             "order check p99 (ms) | API gated p99 (ms) | CPU, nodes (cores) | sustained |",
             "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for size, phase in measured:
        nodes_cpu = sum(cores for role, cores in phase.cpu.items() if role.endswith(" nodes"))
        lines.append(
            f"| {size.validators} | {size.oracles} | {phase.rounds_landed} / "
            f"{phase.rounds_possible:.0f} ({phase.rounds_landed / phase.rounds_possible:.2f}) "
            f"| {pct(phase.consensus_s, 99):.1f} | {pct(phase.order_ms, 99):.1f} | "
            f"{pct(phase.api_ms, 99):.1f} | {nodes_cpu:.2f} | "
            f"{'yes' if sustained(phase) else 'no'} |")
    lines += ["", f"Largest sustained: {largest}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None,
                        help=f"length of each phase (45; {SWEEP_SECONDS:g} per size with --sweep)")
    parser.add_argument("--orders-per-second", type=float, default=20.0)
    parser.add_argument("--api-per-second", type=float, default=50.0)
    parser.add_argument("--sweep", action="store_true",
                        help="the largest network sustained: validators 4, 7, 10 by oracles 2, 4")
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args()
    started = datetime.now(UTC)
    if args.sweep:
        measured = sweep(args.seconds or SWEEP_SECONDS, args.orders_per_second,
                         args.api_per_second)
        text = sweep_report(measured, args.orders_per_second, args.api_per_second, started)
    else:
        text = network_under_load(args.seconds or 45.0, args.orders_per_second,
                                  args.api_per_second, started)
    print(text)
    if args.write:
        write_section(text)


def network_under_load(seconds: float, orders_rate: float, api_rate: float,
                       started: datetime) -> str:
    with tempfile.TemporaryDirectory(prefix="noderr-network-") as directory:
        print("starting the demo-sized network …", file=sys.stderr)
        with stack(Path(directory)) as running_stack:
            phases = asyncio.run(measure(running_stack, [
                (Phase("idle", seconds), 1.0, 2.0),
                (Phase("load", seconds), orders_rate, api_rate)]))
    return report(phases, orders_rate, api_rate, started)


if __name__ == "__main__":
    main()
