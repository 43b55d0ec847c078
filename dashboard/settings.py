"""Configuration of the dashboard (`noderr dashboard`) from `NODERR_*` environment variables.

The dashboard learns the chain id and contract addresses from the deployment file (public
data), talks HTTP to the backend, and reaches the chain only through the browser's wallet.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from noderr.deployment import Deployment
from noderr.domain import AUDITOR_ROLE
from noderr.settings import LOCAL_CHAIN_ID, CommaList, get_settings


class DashboardSettings(BaseSettings):
    """What `noderr dashboard` needs beyond `noderr.settings.Settings`."""

    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    api_url: str = Field("http://127.0.0.1:8000", description="Base URL of the backend API.")
    chain_id: int = Field(
        LOCAL_CHAIN_ID, description="Chain whose deployment file (deployments/<id>.json) "
                                    "the dashboard reads when NODERR_DEPLOYMENT is unset.")
    dev_wallet: bool = Field(
        True, description="Offer the development wallet (anvil's unlocked accounts) when the "
                          "browser has no wallet; only ever on chain 31337.")
    api_timeout: float = Field(10.0, gt=0, description="Seconds before a backend call fails.")
    vault_auditor_roles: CommaList = Field(
        default_factory=lambda: [AUDITOR_ROLE],
        description="NodeLicense roles that may read the vault audit log (the backend's "
                    "setting of the same name); others are told which role they need.")


@dataclass(frozen=True)
class Chain:
    """What the dashboard knows about the chain: id, contracts, and the dev wallet's RPC."""

    chain_id: int
    license_address: str
    governor_address: str | None
    contracts: tuple[str, ...]
    """Every contract of the deployment file (the core three, then `NodeFeed.<FEED>`s)."""
    rpc_url: str
    dev_wallet: bool


@lru_cache
def get_dashboard_settings() -> DashboardSettings:
    return DashboardSettings()


def deployment_path(settings: DashboardSettings) -> Path:
    return get_settings().deployment or get_settings().deployment_path(settings.chain_id)


def load_chain(settings: DashboardSettings) -> Chain:
    """The chain described by the deployment file (FileNotFoundError/ValueError when unusable)."""
    deployment = Deployment.load(deployment_path(settings))
    governor = deployment.contracts.get("NodeGovernor")
    return Chain(chain_id=deployment.chain_id,
                 license_address=deployment.contracts["NodeLicense"].address,
                 governor_address=governor.address if governor else None,
                 contracts=tuple(deployment.contracts),
                 rpc_url=get_settings().rpc_url,
                 dev_wallet=settings.dev_wallet and deployment.chain_id == LOCAL_CHAIN_ID)
