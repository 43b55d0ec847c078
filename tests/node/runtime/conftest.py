"""The network the node processes run in, once per folder that uses it: anvil with the
contracts deployed (anvil #0 mints Oracle and Guardian licenses, #9 holds the genesis Validator
license, token 1), a fresh migrated database, the indexer and the API (`noderr` subprocesses),
and a NATS server with JetStream. Each test licenses its own accounts and starts its own nodes.

Package scope, so that a folder's network and nodes stop after its last test instead of running
on (and using CPU) through the rest of the suite. Declared with `ape.fixture(...,
chain_isolation=False)`: these stacks never touch ape's own chain, and without it ape's runner
"rebases" when a session fixture first appears inside the package (tests/node/validators'
`replay_range`), clearing the package fixtures' cached values, so they start a second time,
the first never stopped."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import ape
import httpx
import pytest
from web3 import Web3

from node.bus.server import NatsServer
from noderr.deployment import Deployment
from noderr.domain import NodeType
from noderr.ports import free_port
from noderr_cli.services import Services, backend_services, ensure_vault_keyring
from onchain.anvil import start_anvil
from onchain.compile import Artifact
from onchain.deploy import DEPLOYED_CONTRACTS, deploy_all
from tests.backend.chain_helpers import LicenseOps
from tests.backend.helpers import GENEROUS_RATE_LIMIT_ENV
from tests.dashboard.conftest import fresh_database
from tests.fixtures_chain import GOVERNANCE
from tests.node.runtime.processes import NodeProcess, stop_all

ROUND_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 1.0


@dataclass
class Network:
    services: Services
    deployment: Deployment
    w3: Web3
    ops: LicenseOps
    folder: Path
    bus: NatsServer
    nodes: list[NodeProcess] = field(default_factory=list)

    def account(self, index: int) -> str:
        return self.w3.eth.accounts[index]

    def env(self, **overrides: str) -> dict[str, str]:
        return {**self.services.env(), "NODERR_NODE_ROUND_INTERVAL": str(ROUND_INTERVAL),
                "NODERR_NODE_HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL), **overrides}

    def start_node(self, node_type: NodeType, account: int, **env: str) -> NodeProcess:
        log = self.folder / f"node-{node_type.label.lower()}-{account}-{len(self.nodes)}.log"
        node = NodeProcess(["--type", node_type.label.lower(), "--account", str(account)],
                           self.env(**env), log)
        self.nodes.append(node)
        return node

    def api(self, path: str, **params) -> object:
        response = httpx.get(f"{self.services.api_url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def executions(self, address: str, **params) -> list[dict]:
        return self.api("/network/executions", node=address, limit=1000, **params)["items"]

    def wait_until(self, check: Callable[[], object], what: str, timeout: float = 30,
                   context: Callable[[], str] | None = None) -> object:
        """`check()`'s first truthy value; on a timeout the error says `what` and, if
        given, `context()` (what the failure needs explained: a node's output)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        detail = f"\n{context()}" if context is not None else ""
        raise AssertionError(f"timed out after {timeout} s waiting for {what}{detail}")


@ape.fixture(scope="package", chain_isolation=False)
def network(artifacts: dict[str, Artifact], pg_server: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("node-network")
    port = free_port()
    anvil = start_anvil(port)
    bus = NatsServer(f"nats://127.0.0.1:{free_port()}", folder / "bus")
    bus.start()
    try:
        rpc_url = f"http://127.0.0.1:{port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        deployment = deploy_all(w3, w3.eth.accounts[0], GOVERNANCE.model_copy(deep=True),
                                {name: artifacts[name] for name in DEPLOYED_CONTRACTS})
        deployment.save(folder / "deployment.json")
        services = Services(rpc_url=rpc_url, deployment=folder / "deployment.json",
                            database_url=fresh_database(pg_server), api_port=free_port(),
                            bus_url=bus.url, vault_key_file=folder / "vault-keys.json",
                            overrides=GENEROUS_RATE_LIMIT_ENV)
        ensure_vault_keyring(services, services.vault_key_file, folder / "logs" / "vault.log")
        with backend_services(services, folder / "logs", dashboard=False):
            ops = LicenseOps(w3, deployment, rpc_url, services.database_url)
            network = Network(services, deployment, w3, ops, folder, bus)
            try:
                yield network
            finally:
                stop_all(network.nodes)
    finally:
        bus.stop()
        anvil.kill()
        anvil.wait()


@pytest.fixture(autouse=True)
def nodes_stop_with_their_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """The nodes a test starts stop when it ends: one left running beats on for its license,
    and a later test that starts a node of the same license saw that node's "active" beats
    overwrite its own node's last word ("stopping")."""
    if "network" not in request.fixturenames:
        yield
        return
    network: Network = request.getfixturevalue("network")
    started = len(network.nodes)
    yield
    stop_all(network.nodes[started:])


@pytest.fixture
def licensed(network: Network) -> Callable[[NodeType, int], int]:
    """The live license of a type of anvil account N (minted unless it holds one), once the
    mirror lists it; its id."""
    def mint(node_type: NodeType, account: int) -> int:
        address = network.account(account)
        held = network.ops.contract.functions.token_of(address, node_type).call()
        token = held or network.ops.mint(address, node_type, salt=os.urandom(4).hex())
        network.wait_until(lambda: any(
            member["token_id"] == token
            for member in network.api("/network/members")["members"]), "the license indexed")
        return token
    return mint
