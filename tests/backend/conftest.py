"""Backend fixtures: a fresh migrated database per test (the shared embedded PostgreSQL),
one anvil with the stack deployed per session (each test reverts its changes), an app."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from backend.api.app import create_app
from backend.settings import BackendSettings
from noderr.deployment import Deployment
from noderr.ports import free_port
from onchain.anvil import start_anvil
from onchain.compile import Artifact
from onchain.deploy import DEPLOYED_CONTRACTS, deploy_all
from onchain.settings import DeploySettings
from tests.backend.helpers import ADMIN, TYPEFORM_SECRET, TYPEFORM_TOKEN, wait_listening
from tests.fixtures_chain import GENESIS_VALIDATOR, make_database  # noqa: F401

STACK_SETTINGS = DeploySettings(minters=[ADMIN], revokers=[ADMIN], pausers=[ADMIN],
                                genesis_validators=[GENESIS_VALIDATOR],
                                timelock_delay=60, voting_delay=1, voting_period=50,
                                proposal_threshold=1, quorum_percent=50, grace_period=3600)
"""The production wiring: anvil #0 (ADMIN) holds MINTER, REVOKER and PAUSER; the timelock is
NodeLicense's admin, so admin-only calls go through it (LicenseOps.govern); anvil #9 holds the
one genesis Validator license, token 1."""


@pytest.fixture(scope="session")
def chain(artifacts: dict[str, Artifact]) -> Iterator[tuple[str, Deployment]]:
    port = free_port()
    process = start_anvil(port)
    rpc_url = f"http://127.0.0.1:{port}"
    try:
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        yield rpc_url, deploy_all(w3, ADMIN, STACK_SETTINGS,
                                  {name: artifacts[name] for name in DEPLOYED_CONTRACTS})
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


GENEROUS_RATE_LIMITS = {f"rate_limit_{rule}": "100000/minute"
                        for rule in ("sign_in", "applications", "public", "anonymous")}
"""Tests call the API from one client address far faster than anyone should; the tests of
the limits themselves set tight ones (tests/backend/test_cost_limits.py)."""


@pytest.fixture
def settings(tmp_path: Path) -> BackendSettings:
    return BackendSettings(head_cache_seconds=0, typeform_secret=TYPEFORM_SECRET,
                           typeform_form_id="lT4Z3j", typeform_token=TYPEFORM_TOKEN,
                           session_key_file=tmp_path / "session-key",
                           **GENEROUS_RATE_LIMITS)


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
