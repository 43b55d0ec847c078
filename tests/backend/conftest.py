"""Backend fixtures: one PostgreSQL (migrated) and one anvil with the deployed stack per
session; each test gets empty tables, a chain reverted to the deployment, and an app."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from backend.app import create_app
from backend.settings import BackendSettings
from noderr.chain import free_port, start_anvil
from noderr.contracts import compile_contract
from noderr.db import embedded_url
from noderr.deployment import ContractDeployment, Deployment
from noderr.migrate import upgrade
from tests.backend.siwe_helpers import KEYS, sign, siwe_text

TYPEFORM_SECRET = "test-webhook-secret"  # noqa: S105 - test value
TYPEFORM_TOKEN = "tfp_test_token"  # noqa: S105 - test value
ADMIN = KEYS[0].address  # anvil #0 deploys and holds MINTER/REVOKER/PAUSER on the local chain


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = embedded_url(tmp_path_factory.mktemp("pg") / "data", "noderr_backend_test")
    upgrade(url)
    return url


def deploy_contract(w3: Web3, name: str, *args: object) -> ContractDeployment:
    artifact = compile_contract(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(
        factory.constructor(*args).transact({"from": ADMIN}))
    return ContractDeployment(address=receipt["contractAddress"], abi=artifact.abi,
                              block=receipt["blockNumber"],
                              tx_hash=receipt["transactionHash"].to_0x_hex())


def deploy_stack(w3: Web3) -> Deployment:
    """NodeLicense with anvil #0 as its admin (so tests can `reassign` without a vote),
    MINTER/REVOKER/PAUSER granted to #0; the timelock and governor beside it."""
    license_ = deploy_contract(w3, "NodeLicense")
    timelock = deploy_contract(w3, "NodeTimelock", 60, [], [], ADMIN)
    governor = deploy_contract(w3, "NodeGovernor", license_.address, timelock.address,
                               1, 50, 1, 50, 3600)
    contract = w3.eth.contract(address=license_.address, abi=license_.abi).functions
    for role in ("MINTER_ROLE", "REVOKER_ROLE", "PAUSER_ROLE"):
        tx = contract.grantRole(getattr(contract, role)().call(), ADMIN).transact({"from": ADMIN})
        w3.eth.wait_for_transaction_receipt(tx)
    return Deployment(chain_id=w3.eth.chain_id, deployer=ADMIN, contracts={
        "NodeLicense": license_, "NodeTimelock": timelock, "NodeGovernor": governor})


@pytest.fixture(scope="session")
def stack() -> Iterator[tuple[str, Deployment]]:
    port = free_port()
    process = start_anvil(port)
    rpc_url = f"http://127.0.0.1:{port}"
    try:
        yield rpc_url, deploy_stack(Web3(Web3.HTTPProvider(rpc_url)))
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def w3(stack: tuple[str, Deployment]) -> Iterator[Web3]:
    """The chain as deployed; every change a test makes is reverted afterwards."""
    web3 = Web3(Web3.HTTPProvider(stack[0]))
    snapshot = web3.provider.make_request("evm_snapshot", [])["result"]
    yield web3
    web3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'")]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        yield conn


@pytest.fixture
def settings() -> BackendSettings:
    return BackendSettings(head_cache_seconds=0, typeform_secret=TYPEFORM_SECRET,
                           typeform_form_id="lT4Z3j", typeform_token=TYPEFORM_TOKEN)


@pytest.fixture
def make_client(stack, database_url, db, w3, settings) -> Iterator[Callable[..., TestClient]]:
    with contextlib.ExitStack() as stack_:

        def make(backend_settings: BackendSettings = settings, **kwargs) -> TestClient:
            app = create_app(backend_settings, stack[1], database_url, stack[0])
            return stack_.enter_context(TestClient(app, base_url="http://127.0.0.1:8000",
                                                   **kwargs))

        yield make


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def sign_in(client: TestClient, key_index: int = 0) -> str:
    """SIWE sign-in as anvil account `key_index`; the bearer token (the cookie is set too)."""
    nonce = client.get("/auth/nonce").json()["nonce"]
    text = siwe_text(KEYS[key_index].address, nonce)
    response = client.post("/auth/verify", json={"message": text,
                                                 "signature": sign(text, key_index)})
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def signed_in() -> Callable[..., str]:
    return sign_in


def fixture_path(name: str) -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / name
