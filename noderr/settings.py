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


class IndexerSettings(BaseSettings):
    """How `noderr index` follows the chain (see docs/indexer.md for the reasoning)."""

    model_config = SettingsConfigDict(env_prefix="NODERR_INDEXER_", extra="ignore")

    confirmations: int = Field(
        0, ge=0, description="Blocks behind the head the indexer stays (0 on the local chain).")
    finality_depth: int = Field(
        64, ge=0, description="Deepest reorg handled; a deeper one stops the indexer.")
    poll_interval: float = Field(1.0, gt=0, description="Seconds between head polls (live).")
    initial_range: int = Field(2000, ge=1, description="First eth_getLogs block range.")
    max_range: int = Field(100_000, ge=1, description="Largest eth_getLogs block range.")
    target_logs: int = Field(
        5000, ge=1, description="Logs per eth_getLogs answer the range adapts towards.")
    rpc_timeout: float = Field(30.0, gt=0, description="Seconds before an RPC call times out.")
    rpc_attempts: int = Field(8, ge=1, description="Tries per RPC call before giving up.")
    max_lag_blocks: int = Field(
        5, ge=0, description="Lag above which readers must not trust the mirror.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
