"""The whole stack once per dashboard test session: anvil with the contracts deployed (anvil
#0 holds MINTER/REVOKER/PAUSER), a fresh migrated database, the indexer, the backend API and
the dashboard (`noderr` subprocesses on free ports), three seeded applications."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from eth_utils import keccak
from playwright.sync_api import Browser
from streamlit.testing.v1 import AppTest
from web3 import Web3

from dashboard.settings import get_dashboard_settings
from noderr.deployment import Deployment
from noderr.domain import NodeType
from noderr.ports import free_port
from noderr.settings import REPO_ROOT, get_settings
from noderr_cli.seed import Applicant, claim, seed, sign_in, submit_application
from noderr_cli.services import DEMO_FORM_ID, Services, backend_services
from onchain.anvil import start_anvil
from onchain.compile import Artifact
from onchain.deploy import DEPLOYED_CONTRACTS, deploy_all
from tests.backend.helpers import GENEROUS_RATE_LIMIT_ENV
from tests.dashboard.browser import chromium
from tests.fixtures_chain import GOVERNANCE, TEMPLATE_DATABASE

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, one per browser test module."""
    with chromium() as launched:
        yield launched


def fresh_database(admin_url: str) -> str:
    name = f"dash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DATABASE}")
    return admin_url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(scope="session")
def live(artifacts: dict[str, Artifact], pg_server: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    port = free_port()
    anvil = start_anvil(port)
    try:
        rpc_url = f"http://127.0.0.1:{port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        deployment = deploy_all(w3, w3.eth.accounts[0], GOVERNANCE.model_copy(deep=True),
                                {name: artifacts[name] for name in DEPLOYED_CONTRACTS})
        folder: Path = tmp_path_factory.mktemp("dashboard")
        deployment.save(folder / "deployment.json")
        services = Services(rpc_url=rpc_url, deployment=folder / "deployment.json",
                            database_url=fresh_database(pg_server), api_port=free_port(),
                            dashboard_port=free_port(), typeform_secret=TYPEFORM_SECRET,
                            overrides=GENEROUS_RATE_LIMIT_ENV)
        with backend_services(services, folder / "logs"):
            seeded = seed(services.api_url, rpc_url, TYPEFORM_SECRET, DEMO_FORM_ID)
            yield LiveStack(services, deployment, w3, seeded)
    finally:
        anvil.kill()
        anvil.wait()


def apply(live: LiveStack, name: str, account: int, node_type: NodeType) -> str:
    """A new application from anvil #`account`, its wallet confirmed; its id."""
    wallet = live.w3.eth.accounts[account]
    applicant = Applicant(name, f"applicant{account}@example.org", wallet, node_type, "Europe", 3)
    app_id = submit_application(live.services.api_url, TYPEFORM_SECRET, DEMO_FORM_ID, applicant)
    claim(live.services.api_url, live.services.rpc_url, app_id, wallet)
    return app_id


def grant_role(live: LiveStack, role: str, account: str) -> None:
    """Grant a NodeLicense role as its admin, the timelock (impersonated on anvil)."""
    timelock = live.deployment.contracts["NodeTimelock"].address
    live.w3.provider.make_request("anvil_impersonateAccount", [timelock])
    live.w3.provider.make_request("anvil_setBalance", [timelock, hex(10**18)])
    try:
        contract = live.w3.eth.contract(address=live.license_address,
                                        abi=live.deployment.contracts["NodeLicense"].abi)
        tx = contract.functions.grantRole(live.w3.keccak(text=role), account).transact(
            {"from": timelock})
        assert live.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    finally:
        live.w3.provider.make_request("anvil_stopImpersonatingAccount", [timelock])


def wait_for_role(live: LiveStack, token: str, role_id: str, timeout: float = 30) -> None:
    """Until the backend's mirror reports `role_id` in /auth/me (the indexer polls)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        me = httpx.get(f"{live.services.api_url}/auth/me", timeout=10,
                       headers={"Authorization": f"Bearer {token}"}).json()
        if role_id in [role.lower() for role in me.get("roles", [])]:
            return
        time.sleep(0.25)
    raise AssertionError(f"the mirror never showed {role_id}: {me}")


APP = str(REPO_ROOT / "dashboard" / "app.py")


def wallet_env(live: LiveStack, address: str | None, chain_id: int = 31337,
               has_wallet: bool = True, dev: bool = False) -> dict:
    """What the wallet component reports: a browser wallet, the development wallet (`dev`),
    or neither."""
    return {"origin": live.services.dashboard_url, "has_wallet": has_wallet, "dev": dev,
            "chain_id": chain_id if has_wallet or dev else None,
            "accounts": [address.lower()] if address else [], "error": None}


@pytest.fixture
def make_app(live: LiveStack, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    def make(address: str | None = None, api_url: str | None = None,
             settings: dict[str, str] | None = None, **env) -> AppTest:
        monkeypatch.setenv("NODERR_DEPLOYMENT", str(live.services.deployment))
        monkeypatch.setenv("NODERR_API_URL", api_url or live.services.api_url)
        monkeypatch.setenv("NODERR_RPC_URL", live.services.rpc_url)
        for name, value in (settings or {}).items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        get_dashboard_settings.cache_clear()
        at = AppTest.from_file(APP, default_timeout=30)
        at.session_state["wallet"] = {"env": wallet_env(live, address, **env), "result": None}
        return at

    yield make
    get_settings.cache_clear()
    get_dashboard_settings.cache_clear()


def signed_in(make_app, live: LiveStack, account: int) -> AppTest:
    address = live.w3.eth.accounts[account]
    at = make_app(address)
    at.session_state["session_token"] = sign_in(live.services.api_url, live.services.rpc_url,
                                                address)
    return at.run()


def wallet_data(at: AppTest) -> str:
    """The JSON the wallet component sends to the browser this run."""
    return at.get("bidi_component")[0].proto.json


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "error", "warning", "info",
                                                "success", "caption", "header", "subheader")
                     for e in getattr(at, kind))


# anvil #4 gets AUDITOR_ROLE, #6 (no license) tries the vault.
AUDITOR_ACCOUNT, STRANGER_ACCOUNT = 4, 6


def vault_call(live: LiveStack, token: str, method: str, path: str, **kwargs) -> int:
    return httpx.request(method, f"{live.services.api_url}{path}", timeout=10, **kwargs,
                         headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture(scope="session")
def auditor(live: LiveStack) -> str:
    """Anvil #4 holds AUDITOR_ROLE (the mirror shows it); the vault saw a few operations."""
    address = live.w3.eth.accounts[AUDITOR_ACCOUNT]
    grant_role(live, "AUDITOR_ROLE", address)
    token = sign_in(live.services.api_url, live.services.rpc_url, address)
    wait_for_role(live, token, "0x" + keccak(text="AUDITOR_ROLE").hex())
    stranger = sign_in(live.services.api_url, live.services.rpc_url,
                       live.w3.eth.accounts[STRANGER_ACCOUNT])
    assert vault_call(live, stranger, "PUT", "/vault/licenses/999/secrets/binance",
                      json={"data": {"api_key": "k"}}) == 404
    assert vault_call(live, stranger, "GET", "/vault/licenses/999/secrets") == 404
    assert vault_call(live, stranger, "GET", "/vault/audit") == 403
    return address
