"""Configuration from `NODERR_*` environment variables (the README's table lists them all)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCAL_CHAIN_ID = 31337
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting a Noderr process reads; private keys are never among them."""

    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC endpoint of the chain.")
    database_url: str | None = Field(
        None, description="postgresql:// URL; unset means the embedded PostgreSQL."
    )
    deployment: Path | None = Field(
        None, description="Deployment file; default deployments/<chain_id>.json."
    )
    data_dir: Path = Field(
        REPO_ROOT / ".noderr", description="Where local state (embedded database, logs) lives."
    )

    def deployment_path(self, chain_id: int) -> Path:
        """The deployment file to read or write for `chain_id`."""
        return self.deployment or REPO_ROOT / "deployments" / f"{chain_id}.json"


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]
"""A setting given as comma-separated items (`NODERR_MINTERS=0xa…,0xb…`); empty items dropped."""
AddressList = CommaList


class DeploySettings(BaseSettings):
    """Parameters of `noderr deploy`: who holds which role, and governance timing."""

    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    minters: AddressList = Field(default_factory=list, description="MINTER_ROLE holders.")
    revokers: AddressList = Field(default_factory=list, description="REVOKER_ROLE holders.")
    pausers: AddressList = Field(default_factory=list, description="PAUSER_ROLE holders.")
    deployer_keystore: Path | None = Field(
        None, description="Encrypted JSON keystore of the deployer (not needed on chain 31337)."
    )
    timelock_delay: int = Field(3600, ge=0, description="Timelock minimum delay, seconds.")
    voting_delay: int = Field(1, ge=0, description="Blocks between proposal and snapshot.")
    voting_period: int = Field(50, ge=1, description="Blocks a vote stays open.")
    proposal_threshold: int = Field(1, ge=0, description="Validator licenses needed to propose.")
    quorum_percent: int = Field(50, ge=1, le=100, description="Quorum, % of active validators.")
    grace_period: int = Field(
        14 * 24 * 3600, ge=1, description="Seconds a queued proposal stays executable.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
