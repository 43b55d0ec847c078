"""Configuration of the vault from `NODERR_VAULT_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from noderr.domain import AUDITOR_ROLE
from noderr.settings import CommaList, get_settings


class VaultSettings(BaseSettings):
    """Where the master keys are and how the vault behaves; key material is a SecretStr."""

    model_config = SettingsConfigDict(env_prefix="NODERR_VAULT_", extra="ignore")

    master_keys: SecretStr | None = Field(
        None, description="Keyring JSON inline (overrides the key file; rotate needs the file).")
    key_file: Path | None = Field(
        None, description="Keyring file; default <NODERR_DATA_DIR>/vault/master-keys.json.")
    auditor_roles: CommaList = Field(
        default_factory=lambda: [AUDITOR_ROLE],
        description="Comma-separated NodeLicense roles that may read the vault audit log.")
    max_secret_bytes: int = Field(
        4096, ge=64, le=65536, description="Largest secret (its JSON) accepted.")
    shred_interval: float = Field(
        10.0, gt=0, description="Seconds between sweeps that destroy revoked/reassigned keys.")
    rewrap_batch: int = Field(100, ge=1, description="Data keys rewrapped per transaction.")

    def keyring_path(self) -> Path:
        return self.key_file or get_settings().data_dir / "vault" / "master-keys.json"


@lru_cache
def get_vault_settings() -> VaultSettings:
    return VaultSettings()
