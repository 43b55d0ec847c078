"""The whole stack once per dashboard test session: anvil with the contracts deployed (anvil
#0 holds MINTER/REVOKER/PAUSER), a fresh migrated database, the indexer, the backend API and
the dashboard (`noderr` subprocesses on free ports), three seeded applications."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from web3 import Web3

from noderr.chain import free_port, start_anvil
from noderr.contracts import Artifact
from noderr.demo import DEMO_FORM_ID, Services, backend_services
from noderr.deploy import deploy_all
from noderr.deployment import CONTRACT_NAMES, Deployment
from noderr.seed import Applicant, seed
from tests.fixtures_chain import GOVERNANCE, TEMPLATE_DATABASE, artifacts, pg_server  # noqa: F401

TYPEFORM_SECRET = "dashboard-test-secret"  # noqa: S105 - test value


@dataclass
class LiveStack:
    services: Services
    deployment: Deployment
    w3: Web3
    seeded: list[tuple[Applicant, str]]

    @property
    def admin(self) -> str:
        return self.w3.eth.accounts[0]

    @property
    def license_address(self) -> str:
        return self.deployment.contracts["NodeLicense"].address


def fresh_database(admin_url: str) -> str:
    name = f"dash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DATABASE}")
    return admin_url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(scope="session")
def live(artifacts: dict[str, Artifact], pg_server: str,  # noqa: F811
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    port = free_port()
    anvil = start_anvil(port)
    try:
        rpc_url = f"http://127.0.0.1:{port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        deployment = deploy_all(w3, w3.eth.accounts[0], GOVERNANCE.model_copy(deep=True),
                                {name: artifacts[name] for name in CONTRACT_NAMES})
        folder: Path = tmp_path_factory.mktemp("dashboard")
        deployment.save(folder / "deployment.json")
        services = Services(rpc_url=rpc_url, deployment=folder / "deployment.json",
                            database_url=fresh_database(pg_server), api_port=free_port(),
                            dashboard_port=free_port(), typeform_secret=TYPEFORM_SECRET)
        with backend_services(services, folder / "logs"):
            seeded = seed(services.api_url, rpc_url, TYPEFORM_SECRET, DEMO_FORM_ID)
            yield LiveStack(services, deployment, w3, seeded)
    finally:
        anvil.kill()
        anvil.wait()
