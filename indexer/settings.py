"""How `noderr index` follows the chain, and the one lag limit the indexer's health and the
API's gate share (see docs/indexer.md for the reasoning)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IndexerSettings(BaseSettings):
    """`NODERR_INDEXER_*`, and `NODERR_MAX_LAG_BLOCKS`."""

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
        5, ge=0, validation_alias="NODERR_MAX_LAG_BLOCKS",
        description="Mirror lag (head minus indexed block) above which readers must not trust "
                    "it: the API's gates answer 503, the indexer's health says untrusted.")


def check_lag_limit(settings: IndexerSettings) -> None:
    """ValueError when the indexer would stay at or past the lag limit by design: it keeps
    `confirmations` blocks behind the head, so every gated endpoint would answer 503."""
    if settings.confirmations >= settings.max_lag_blocks:
        raise ValueError(
            f"NODERR_INDEXER_CONFIRMATIONS ({settings.confirmations}) must be below "
            f"NODERR_MAX_LAG_BLOCKS ({settings.max_lag_blocks}): the indexer stays that many "
            "blocks behind the head, so the mirror would always be too far behind to trust")
