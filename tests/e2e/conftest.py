"""The whole product once for the journey module: anvil with the contracts deployed (anvil #0
holds MINTER/REVOKER/PAUSER, #9 the genesis Validator license, token 1), a fresh migrated
database, the indexer, the API and the dashboard (`noderr` subprocesses), NATS with
JetStream, the vault's master key, the ML server serving a small artifact, and Chromium.

The pieces are the ones the other live tests use (tests/node/runtime/conftest.py's
`Network`, tests/dashboard's browser), composed here with the dashboard and the ML server,
which no other stack runs together with the nodes. `Walk` carries what one step hands the
next: the journey is one story, its steps run in file order on the one stack."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from web3 import Web3
from web3.contract import Contract

from ml.settings import get_ml_settings
from node.bus.server import NatsServer
from noderr.domain import NodeType
from noderr.ports import free_port
from noderr_cli.seed import Applicant, sign_in
from noderr_cli.services import Services, backend_services, ensure_vault_keyring, ml_service
from onchain.anvil import start_anvil
from onchain.compile import Artifact
from onchain.deploy import DEPLOYED_CONTRACTS, deploy_all
from tests.backend.chain_helpers import LicenseOps
from tests.backend.helpers import GENEROUS_RATE_LIMIT_ENV
from tests.dashboard.conftest import browser, fresh_database  # noqa: F401
from tests.fixtures_chain import GOVERNANCE
from tests.ml.artifacts import save_small_artifact
from tests.node.runtime.conftest import Network
from tests.node.runtime.processes import NodeProcess, stop_all

TYPEFORM_SECRET = "journey-secret"  # noqa: S105 - test value
# anvil accounts: the admin (MINTER/REVOKER/PAUSER), the paper desk, the genesis validator, a
# key with no license; and the operators of the journey's three applications.
ADMIN, DESK, GENESIS_VALIDATOR, STRANGER = 0, 4, 9, 6
OPERATORS = {NodeType.ORACLE: 1, NodeType.GUARDIAN: 2, NodeType.VALIDATOR: 3}


@dataclass
class Journey:
    network: Network
    ml_target: str
    """host:port of the ML server's gRPC endpoint."""

    @property
    def services(self) -> Services:
        return self.network.services


@pytest.fixture(scope="module")
def journey(artifacts: dict[str, Artifact], pg_server: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    folder = tmp_path_factory.mktemp("journey")
    port = free_port()
    anvil = start_anvil(port)
    bus = NatsServer(f"nats://127.0.0.1:{free_port()}", folder / "bus")
    bus.start()
    with contextlib.ExitStack() as stack:
        stack.callback(lambda: (anvil.kill(), anvil.wait()))
        stack.callback(bus.stop)
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setenv("NODERR_ML_DIR", str(folder / "ml"))
        get_ml_settings.cache_clear()
        stack.callback(get_ml_settings.cache_clear)
        save_small_artifact(folder / "ml", "journey")
        rpc_url = f"http://127.0.0.1:{port}"
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        deployment = deploy_all(w3, w3.eth.accounts[0], GOVERNANCE.model_copy(deep=True),
                                {name: artifacts[name] for name in DEPLOYED_CONTRACTS})
        deployment.save(folder / "deployment.json")
        services = Services(rpc_url=rpc_url, deployment=folder / "deployment.json",
                            database_url=fresh_database(pg_server), api_port=free_port(),
                            dashboard_port=free_port(), typeform_secret=TYPEFORM_SECRET,
                            bus_url=bus.url, vault_key_file=folder / "vault-keys.json",
                            overrides={**GENEROUS_RATE_LIMIT_ENV,
                                       "NODERR_INDEXER_FINALITY_DEPTH": "0"})
        ensure_vault_keyring(services, services.vault_key_file, folder / "logs" / "vault.log")
        stack.enter_context(backend_services(services, folder / "logs"))
        ml_target = stack.enter_context(ml_service(services, folder / "logs", free_port()))
        network = Network(services, deployment, w3,
                          LicenseOps(w3, deployment, rpc_url, services.database_url), folder,
                          bus)
        stack.callback(stop_all, network.nodes)
        yield Journey(network, ml_target)


@dataclass
class Walk:
    """What the steps hand on: the applications, the licenses, the running nodes."""

    journey: Journey
    applications: dict[NodeType, tuple[Applicant, str]] = field(default_factory=dict)
    tokens: dict[NodeType, int] = field(default_factory=dict)
    nodes: dict[NodeType, NodeProcess] = field(default_factory=dict)
    feed: Contract | None = None
    genesis: NodeProcess | None = None
    """The genesis validator's node (anvil #9)."""

    @property
    def network(self) -> Network:
        return self.journey.network

    def wallet(self, account: int) -> str:
        return self.network.account(account)

    def session(self, account: int) -> str:
        services = self.journey.services
        return sign_in(services.api_url, services.rpc_url, self.wallet(account))

    def request(self, account: int, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(method, f"{self.journey.services.api_url}{path}", timeout=10,
                             headers={"Authorization": f"Bearer {self.session(account)}"},
                             **kwargs)

    def application(self, node_type: NodeType) -> dict:
        _, app_id = self.applications[node_type]
        response = self.request(OPERATORS[node_type], "GET", f"/applications/{app_id}")
        response.raise_for_status()
        return response.json()

    def contract(self, name: str) -> Contract:
        record = self.network.deployment.contracts[name]
        return self.network.w3.eth.contract(address=record.address, abi=record.abi)

    def send_from(self, account: int, transaction: dict) -> dict:
        w3 = self.network.w3
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
            {"from": self.wallet(account), "to": transaction["to"], "data": transaction["data"]}))
        assert receipt["status"] == 1
        return receipt


@pytest.fixture(scope="module")
def walk(journey: Journey) -> Walk:
    return Walk(journey)
