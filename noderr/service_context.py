"""What every long-running `noderr` service starts from: the chain's RPC URL, the deployment
file it names, and a database migrated to the newest revision."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from noderr import jsonrpc
from noderr.console import fail
from noderr.db import DatabaseError, database_url
from noderr.deployment import Deployment
from noderr.migrate import require_current
from noderr.settings import get_settings


class ServiceContext(NamedTuple):
    rpc_url: str
    deployment: Deployment
    deployment_path: Path
    database_url: str


def load_service_context(rpc_url: str | None, deployment: Path | None) -> ServiceContext:
    """The RPC URL, the deployment and a migrated database's URL, or a one-line CLI error."""
    settings = get_settings()
    url = rpc_url or settings.rpc_url
    try:
        path = deployment or settings.deployment or _deployment_for(url)
        loaded = Deployment.load(path)
        db_url = database_url(settings)
        require_current(db_url)
    except (DatabaseError, OSError, ValueError) as error:
        raise fail(str(error)) from None
    return ServiceContext(url, loaded, path, db_url)


def _deployment_for(rpc_url: str) -> Path:
    """deployments/<chain id>.json for the chain at `rpc_url`."""
    try:
        chain_id = int(jsonrpc.call(rpc_url, "eth_chainId", timeout=5), 16)
    except (jsonrpc.JsonRpcError, TypeError, ValueError) as error:
        raise fail(f"{error} (set NODERR_RPC_URL or --rpc-url)") from None
    return get_settings().deployment_path(chain_id)
