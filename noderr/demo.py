"""`noderr demo`: the whole local stack in one command, stopped with Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx

from noderr.chain import start_anvil
from noderr.deploy import Log
from noderr.deploy_command import run_deploy
from noderr.deployment import Deployment
from noderr.settings import LOCAL_CHAIN_ID, Settings

ANVIL_ADMIN_HINT = "anvil account #0, 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def _port_in_use(rpc_url: str) -> bool:
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    try:
        httpx.post(rpc_url, json=payload, timeout=0.5)
    except httpx.HTTPError:
        return False
    return True


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


def summary(deployment: Deployment, rpc_url: str) -> list[str]:
    lines = [f"Chain      {rpc_url} (chain id {deployment.chain_id})"]
    lines += [f"{name:<10} {c.address}" for name, c in deployment.contracts.items()]
    lines.append(f"Admin      {ANVIL_ADMIN_HINT} (MINTER, REVOKER, PAUSER)")
    return lines


def run_demo(settings: Settings, log: Log) -> None:
    rpc_url = settings.rpc_url
    if _port_in_use(rpc_url):
        raise RuntimeError(f"something already answers at {rpc_url}: stop it or set "
                           "NODERR_RPC_URL to a free local port")
    port = urlparse(rpc_url).port or 8545
    with running(start_anvil(port, LOCAL_CHAIN_ID)):
        path, deployment = run_deploy(rpc_url, None, settings, log)
        with running(start_indexer(settings, rpc_url, path, log)):
            log("\n".join(["", "Noderr demo is up:", *summary(deployment, rpc_url),
                           "Indexer    following the chain into the database (noderr index)",
                           "", "Ctrl-C stops everything."]))
            wait_for_stop()


def start_indexer(settings: Settings, rpc_url: str, deployment: Path,
                  log: Log) -> subprocess.Popen:
    """Migrate the database, then run `noderr index` beside the chain."""
    from noderr.db import database_url
    from noderr.migrate import upgrade

    url = database_url(settings)
    upgrade(url)
    log(f"Database   {url} (migrated)")
    env = {**os.environ, "NODERR_RPC_URL": rpc_url, "NODERR_DATABASE_URL": url,
           "NODERR_DEPLOYMENT": str(deployment)}
    return subprocess.Popen([sys.executable, "-m", "noderr.cli", "index", "--no-progress"],
                            env=env)


def wait_for_stop() -> None:
    """Sleep until Ctrl-C or SIGTERM."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)
