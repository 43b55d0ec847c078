"""Configuration from `NODERR_*` environment variables (the README's table lists them all)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCAL_CHAIN_ID = 31337
REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this code runs from: where files only a checkout has live (contracts/,
migrations/, node_modules/). Settings never default to it: local state and deployment files
are found from the current directory, the checkout for every documented use."""


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
        default_factory=lambda: Path.cwd() / ".noderr",
        description="Where local state (embedded database, logs) lives.")

    def deployment_path(self, chain_id: int) -> Path:
        """The deployment file to read or write for `chain_id`."""
        return self.deployment or Path.cwd() / "deployments" / f"{chain_id}.json"


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]
"""A setting given as comma-separated items (`NODERR_MINTERS=0xa…,0xb…`); empty items dropped."""


@lru_cache
def get_settings() -> Settings:
    return Settings()
