"""Backend fixtures: a fresh migrated database per test (the shared embedded PostgreSQL),
one anvil with the stack deployed per session (each test reverts its changes), an app."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from backend.api.app import create_app
from backend.settings import BackendSettings
from noderr.chain import free_port, start_anvil
from noderr.contracts import Artifact
from noderr.deployment import ContractDeployment, Deployment
from tests.backend.helpers import ADMIN, TYPEFORM_SECRET, TYPEFORM_TOKEN, wait_listening
from tests.fixtures_chain import artifacts, make_database, pg_server  # noqa: F401


def deploy_contract(w3: Web3, artifact: Artifact, *args: object) -> ContractDeployment:
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(*args).transact({"from": ADMIN}))
    return ContractDeployment(address=receipt["contractAddress"], abi=artifact.abi,
                              block=receipt["blockNumber"],
                              tx_hash=receipt["transactionHash"].to_0x_hex())


def deploy_stack(w3: Web3, built: dict[str, Artifact]) -> Deployment:
    """NodeLicense deployed directly, so anvil #0 keeps DEFAULT_ADMIN_ROLE (tests `reassign`
    without a governance vote) and gets MINTER/REVOKER/PAUSER; timelock and governor beside."""
    license_ = deploy_contract(w3, built["NodeLicense"])
    timelock = deploy_contract(w3, built["NodeTimelock"], 60, [], [], ADMIN)
    governor = deploy_contract(w3, built["NodeGovernor"], license_.address,
                               timelock.address, 1, 50, 1, 50, 3600)
    contract = w3.eth.contract(address=license_.address, abi=license_.abi).functions
    for role in ("MINTER_ROLE", "REVOKER_ROLE", "PAUSER_ROLE"):
        tx = contract.grantRole(getattr(contract, role)().call(), ADMIN).transact({"from": ADMIN})
        w3.eth.wait_for_transaction_receipt(tx)
    return Deployment(chain_id=w3.eth.chain_id, deployer=ADMIN, contracts={
        "NodeLicense": license_, "NodeTimelock": timelock, "NodeGovernor": governor})


@pytest.fixture(scope="session")
def chain(artifacts: dict[str, Artifact]) -> Iterator[tuple[str, Deployment]]:  # noqa: F811
    port = free_port()
    process = start_anvil(port)
    rpc_url = f"http://127.0.0.1:{port}"
    try:
        yield rpc_url, deploy_stack(Web3(Web3.HTTPProvider(rpc_url)), artifacts)
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def rpc_url(chain: tuple[str, Deployment]) -> str:
    return chain[0]


@pytest.fixture
def deployment(chain: tuple[str, Deployment]) -> Deployment:
    return chain[1]


@pytest.fixture
def w3(chain: tuple[str, Deployment]) -> Iterator[Web3]:
    """The chain as deployed; every change a test makes is reverted afterwards."""
    web3 = Web3(Web3.HTTPProvider(chain[0]))
    snapshot = web3.provider.make_request("evm_snapshot", [])["result"]
    yield web3
    web3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def database_url(make_database: Callable[[], str]) -> str:  # noqa: F811
    return make_database()


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def settings() -> BackendSettings:
    return BackendSettings(head_cache_seconds=0, typeform_secret=TYPEFORM_SECRET,
                           typeform_form_id="lT4Z3j", typeform_token=TYPEFORM_TOKEN)


@pytest.fixture
def make_client(chain, database_url, db, w3, settings) -> Iterator[Callable[..., TestClient]]:
    with contextlib.ExitStack() as clients:

        def make(backend_settings: BackendSettings = settings, **kwargs) -> TestClient:
            app = create_app(backend_settings, chain[1], database_url, chain[0])
            test_client = clients.enter_context(TestClient(app, base_url="http://127.0.0.1:8000",
                                                           **kwargs))
            if backend_settings.caller_cache:  # as in production, where it is on long before
                test_client.portal.call(wait_listening, app.state.backend.callers)
            return test_client

        yield make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture
def ops(w3, deployment, rpc_url, database_url):
    from tests.backend.chain_helpers import LicenseOps

    return LicenseOps(w3, deployment, rpc_url, database_url)
