"""Node lifecycle benchmark: how fast `noderr node run` activates, and how fast a license
change on-chain reaches a running node, against the indexer's poll interval.

One network for the whole run, as `make demo` wires it: anvil with the contracts (anvil #0
mints, suspends and revokes Oracle licenses; #9 is the genesis validator), a fresh embedded
PostgreSQL database, a vault keyring, a NATS server with JetStream, and `noderr index` (with
NODERR_INDEXER_POLL_INTERVAL = --poll-interval) and `noderr api` as subprocesses. Nodes run
with their default settings (`noderr node run --type oracle --account N`).

1. activation: process start (Popen) → the node's "node activated" line, and → its "first
   round done" line (its first Oracle round executed), on an already indexed license;
2. suspension: on one running node, suspend → "execution paused", then reinstate →
   "execution resumed", repeated, each transaction sent a random part of a poll interval
   after the previous line (else every one would land just after an indexer pass);
3. revocation: mint an Oracle license to anvil #2..#8 in turn (a revoked license is burned, so
   the same account takes a new one), start its node, wait for its first round, revoke →
   its "was revoked" line, and → its process exit (status 4).

Latencies start when the transaction's receipt is read (polled every 5 ms after the send;
anvil automines). Line times are taken by the thread reading the node's output; exit times by
polling the process (≤ 50 ms late). The issue's bound
on a license change reaching a node is poll interval + 2 s. With --write, the figures go in
docs/benchmarks.md, section "Node lifecycle".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tqdm import tqdm
from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api import stop_postgres
from report import write_section

from node.bus.server import NatsServer
from noderr.db import embedded_url
from noderr.deployment import CONTRACT_NAMES
from noderr.domain import NodeType
from noderr.migrate import upgrade
from noderr.ports import free_port
from noderr_cli.services import Services, backend_services, ensure_vault_keyring
from onchain.anvil import start_anvil
from onchain.compile import compiled
from onchain.deploy import deploy_all
from onchain.settings import DeploySettings
from tests.node.runtime.processes import NodeProcess

ACTIVATION_ACCOUNT = 1
"""Its license serves the activation starts, then the suspension cycles."""
REVOCATION_ACCOUNTS = range(2, 9)
GENESIS_VALIDATOR_ACCOUNT = 9
BOUND_SLACK_S = 2.0
"""The issue's bound on a license change reaching a node: poll interval + this."""
LICENSE_GONE = 4
STEP_TIMEOUT_S = 60.0
RECEIPT_POLL_S = 0.005


@dataclass(frozen=True)
class BenchServices(Services):
    """The demo's services with the indexer polling every `poll_interval` seconds."""

    poll_interval: float = 0.5

    def env(self) -> dict[str, str]:
        return {**super().env(), "NODERR_INDEXER_POLL_INTERVAL": str(self.poll_interval)}


class Licenses:
    """Oracle licenses on the chain, sent by anvil #0, and as the API's mirror shows them."""

    def __init__(self, w3: Web3, address: str, abi: list, api_url: str) -> None:
        self.w3 = w3
        self.contract = w3.eth.contract(address=address, abi=abi)
        self.api_url = api_url

    def send(self, function) -> float:
        """Send `function`'s transaction; the monotonic time its receipt was read (anvil
        automines, yet may answer the send before the block is sealed)."""
        tx = function.transact({"from": self.w3.eth.accounts[0]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, poll_latency=RECEIPT_POLL_S)
        mined = time.monotonic()
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx.to_0x_hex()} reverted")
        return mined

    def mint(self, account: int) -> int:
        owner = self.w3.eth.accounts[account]
        self.send(self.contract.functions.mint(owner, NodeType.ORACLE, os.urandom(32)))
        return self.contract.functions.token_of(owner, NodeType.ORACLE).call()

    def suspend(self, token_id: int) -> float:
        return self.send(self.contract.functions.suspend(token_id, "benchmark"))

    def reinstate(self, token_id: int) -> float:
        return self.send(self.contract.functions.reinstate(token_id))

    def revoke(self, token_id: int) -> float:
        return self.send(self.contract.functions.revoke(token_id, "benchmark"))

    def wait_indexed(self, token_id: int, status: str = "active") -> None:
        """Until the API's mirror shows the license in `status`: a node started before would
        be refused, which is not what the benchmark times."""
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            response = httpx.get(f"{self.api_url}/licenses/{token_id}", timeout=10)
            if response.status_code == 200 and response.json()["status"] == status:
                return
            time.sleep(0.05)
        raise RuntimeError(f"license #{token_id} not {status} in the mirror in "
                           f"{STEP_TIMEOUT_S:.0f} s")


@dataclass
class Network:
    services: BenchServices
    licenses: Licenses
    folder: Path
    jitter: random.Random = field(default_factory=lambda: random.Random(12))  # noqa: S311 - timing only

    def start_node(self, account: int, label: str) -> NodeProcess:
        return NodeProcess(["--type", "oracle", "--account", str(account)],
                           self.services.env(), self.folder / "logs" / f"node-{label}.log")


@contextlib.contextmanager
def network(folder: Path, poll_interval: float) -> Iterator[Network]:
    anvil_port = free_port()
    anvil = start_anvil(anvil_port)
    pg = folder / "pg"
    try:
        rpc_url = f"http://127.0.0.1:{anvil_port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        deployment = deploy_all(
            w3, w3.eth.accounts[0],
            DeploySettings(genesis_validators=[w3.eth.accounts[GENESIS_VALIDATOR_ACCOUNT]]),
            compiled(CONTRACT_NAMES))
        deployment.save(folder / "deployment.json")
        database_url = embedded_url(pg, "noderr_bench")
        upgrade(database_url)
        with NatsServer(f"nats://127.0.0.1:{free_port()}", folder / "bus") as bus:
            services = BenchServices(
                rpc_url=rpc_url, deployment=folder / "deployment.json",
                database_url=database_url, api_port=free_port(), bus_url=bus.url,
                vault_key_file=folder / "vault-keys.json", poll_interval=poll_interval)
            ensure_vault_keyring(services, services.vault_key_file, folder / "logs" / "vault.log")
            with backend_services(services, folder / "logs", dashboard=False):
                record = deployment.contracts["NodeLicense"]
                yield Network(services, Licenses(w3, record.address, record.abi,
                                                 services.api_url), folder)
    finally:
        anvil.kill()
        anvil.wait()
        if pg.exists():
            stop_postgres(pg)


def line_time(node: NodeProcess, index: int) -> float:
    return node.lines[index][0]


def measure_activation(net: Network, starts: int) -> dict[str, list[float]]:
    token = net.licenses.mint(ACTIVATION_ACCOUNT)
    net.licenses.wait_indexed(token)
    results: dict[str, list[float]] = {"activated": [], "first round": [], "stopped": []}
    for attempt in tqdm(range(starts), desc="activation", unit="start"):
        node = net.start_node(ACTIVATION_ACCOUNT, f"activation-{attempt}")
        try:
            activated, _ = node.wait_for(r"node activated$", timeout=STEP_TIMEOUT_S)
            first, _ = node.wait_for(r"^first round done: \d+ function", timeout=STEP_TIMEOUT_S,
                                     after=activated)
            results["activated"].append(line_time(node, activated) - node.started)
            results["first round"].append(line_time(node, first) - node.started)
            results["stopped"].append(terminate(node))
        finally:
            node.stop()
    return results


def terminate(node: NodeProcess) -> float:
    """SIGTERM → exit (status 0): seconds."""
    sent = time.monotonic()
    node.process.terminate()
    status = node.process.wait(timeout=STEP_TIMEOUT_S)
    stopped = time.monotonic() - sent
    if status != 0:
        raise RuntimeError(f"node exited {status} on SIGTERM, not 0:\n{node.output()}")
    return stopped


def off_phase(net: Network) -> None:
    """Wait a random part of a poll interval: a transaction sent right after the node's
    line, itself right after an indexer pass, would always wait a whole interval."""
    time.sleep(net.jitter.uniform(0, net.services.poll_interval))


def measure_suspension(net: Network, cycles: int) -> dict[str, list[float]]:
    """Suspend/reinstate cycles on one running node (the activation account's license)."""
    licenses = net.licenses
    token = licenses.contract.functions.token_of(
        licenses.w3.eth.accounts[ACTIVATION_ACCOUNT], NodeType.ORACLE).call()
    node = net.start_node(ACTIVATION_ACCOUNT, "suspension")
    results: dict[str, list[float]] = {"paused": [], "resumed": []}
    try:
        index, _ = node.wait_for(r"^first round done", timeout=STEP_TIMEOUT_S)
        for _ in tqdm(range(cycles), desc="suspension", unit="cycle"):
            off_phase(net)
            mined = licenses.suspend(token)
            index, _ = node.wait_for(rf"license #{token} is suspended at block \d+: execution "
                                     "paused", timeout=STEP_TIMEOUT_S, after=index + 1)
            results["paused"].append(line_time(node, index) - mined)
            off_phase(net)
            mined = licenses.reinstate(token)
            index, _ = node.wait_for(rf"license #{token} is active at block \d+: execution "
                                     "resumed", timeout=STEP_TIMEOUT_S, after=index + 1)
            results["resumed"].append(line_time(node, index) - mined)
    finally:
        node.stop()
    return results


def measure_revocation(net: Network, revocations: int) -> dict[str, list[float]]:
    licenses = net.licenses
    results: dict[str, list[float]] = {"revoked line": [], "exited": []}
    for attempt in tqdm(range(revocations), desc="revocation", unit="revocation"):
        account = REVOCATION_ACCOUNTS[attempt % len(REVOCATION_ACCOUNTS)]
        token = licenses.mint(account)
        licenses.wait_indexed(token)
        node = net.start_node(account, f"revocation-{attempt}")
        try:
            node.wait_for(r"^first round done", timeout=STEP_TIMEOUT_S)
            mined = licenses.revoke(token)
            status = node.process.wait(timeout=STEP_TIMEOUT_S)
            exited = time.monotonic()
            index, _ = node.wait_for(rf"license #{token} was revoked: benchmark; the node "
                                     "stops", timeout=STEP_TIMEOUT_S)
            if status != LICENSE_GONE:
                raise RuntimeError(f"node exited {status}, not {LICENSE_GONE}:\n"
                                   f"{node.output()}")
            results["revoked line"].append(line_time(node, index) - mined)
            results["exited"].append(exited - mined)
        finally:
            node.stop()
    return results


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Row:
    name: str
    values: list[float]
    bounded: bool
    """Whether the issue's bound (poll interval + 2 s) applies to this measure."""

    def cells(self, poll: float) -> list[str]:
        p50, p95 = percentile(self.values, 50), percentile(self.values, 95)
        verdict = (("yes" if p95 <= poll + BOUND_SLACK_S else "**no**") if self.bounded
                   else "–")
        return [self.name, str(len(self.values)), f"{p50:.2f}", f"{p95:.2f}",
                f"{max(self.values):.2f}", f"{p50 / poll:.1f}×", f"{p95 / poll:.1f}×", verdict]


def rows(activation: dict, suspension: dict, revocation: dict) -> list[Row]:
    return [Row("process start → node activated", activation["activated"], False),
            Row("process start → first round done", activation["first round"], False),
            Row("SIGTERM → process exited (0)", activation["stopped"], False),
            Row("suspend mined → execution paused", suspension["paused"], True),
            Row("reinstate mined → execution resumed", suspension["resumed"], False),
            Row("revoke mined → “was revoked” line", revocation["revoked line"], True),
            Row("revoke mined → process exited (4)", revocation["exited"], True)]


def report(table: list[Row], poll: float, started: datetime) -> str:
    bound = poll + BOUND_SLACK_S
    lines = ["## Node lifecycle (`make bench-node`)", "",
             f"benchmarks/node_lifecycle.py, {started:%Y-%m-%d}: one network (anvil, embedded "
             "PostgreSQL, NATS, `noderr index` and `noderr api` subprocesses), Oracle nodes "
             f"(`noderr node run --type oracle --account N`, default settings), indexer poll "
             f"interval **{poll:g} s**, {os.cpu_count()} cores shared with other work. Seconds; "
             "the ratios are to the poll interval. A license change's latency starts when its "
             "transaction's receipt is read (anvil automines) and ends at the node's output "
             "line (or its exit).", "",
             f"| measure | n | p50 (median) | p95 | max | p50 / poll | p95 / poll | "
             f"p95 ≤ {bound:g} s |", "|---|---:|---:|---:|---:|---:|---:|:---:|"]
    lines += ["| " + " | ".join(row.cells(poll)) + " |" for row in table]
    bounded = [row for row in table if row.bounded]
    within = all(percentile(row.values, 95) <= bound for row in bounded)
    lines += ["", f"The issue's bound, poll interval + 2 s = {bound:g} s at p95: "
              f"**{'met' if within else 'not met'}** by "
              + ", ".join(f"{row.name.split(' → ')[1]} "
                          f"({percentile(row.values, 95):.2f} s)" for row in bounded) + ".", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poll-interval", type=float, default=0.5,
                        help="NODERR_INDEXER_POLL_INTERVAL of the indexer, seconds")
    parser.add_argument("--starts", type=int, default=5, help="activations measured")
    parser.add_argument("--revocations", type=int, default=20)
    parser.add_argument("--suspensions", type=int, default=20)
    parser.add_argument("--write", action="store_true",
                        help="put the figures in docs/benchmarks.md")
    args = parser.parse_args()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="noderr-bench-node-") as folder:
        tmp = Path(folder)
        os.chmod(tmp, 0o755)  # noqa: S103 - the embedded server may run as another user
        with network(tmp, args.poll_interval) as net:
            activation = measure_activation(net, args.starts)
            suspension = measure_suspension(net, args.suspensions)
            revocation = measure_revocation(net, args.revocations)
    text = report(rows(activation, suspension, revocation), args.poll_interval, started)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
