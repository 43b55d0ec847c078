"""What a deployment is made of: who holds which role, and governance timing."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from noderr.settings import CommaList


class DeploySettings(BaseSettings):
    """Parameters of `noderr deploy` (and `ape run deploy`) from `NODERR_*` variables."""

    model_config = SettingsConfigDict(env_prefix="NODERR_", extra="ignore")

    minters: CommaList = Field(default_factory=list, description="MINTER_ROLE holders.")
    revokers: CommaList = Field(default_factory=list, description="REVOKER_ROLE holders.")
    pausers: CommaList = Field(default_factory=list, description="PAUSER_ROLE holders.")
    genesis_validators: CommaList = Field(
        default_factory=list,
        description="Validators minted at deployment (chain 31337 default: anvil #4-#7).")
    feeds: CommaList | None = Field(
        None, description="Feeds to deploy, one NodeFeed each (chain 31337 default: "
        "SP500,NASDAQ,GOOG,EURUSD; elsewhere none; empty: none).")
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
