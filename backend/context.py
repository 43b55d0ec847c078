"""What every service may need, built once per app: settings, database, chain, caches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from backend.caller_cache import CallerCache
from backend.chain_client import ChainClient
from backend.database import Database
from backend.minter import Minter
from backend.session_key import SessionKey
from backend.settings import BackendSettings
from backend.siwe_auth import SiweConfig
from noderr.deployment import Deployment


@dataclass
class Backend:
    settings: BackendSettings
    deployment: Deployment
    db: Database
    chain: ChainClient
    siwe: SiweConfig
    callers: CallerCache
    max_lag_blocks: int
    session_key: SessionKey
    minter: Minter | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the process is told to stop: long polls answer at once (backend/stop_signals.py)."""

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    @property
    def license_address(self) -> str:
        return self.deployment.contracts["NodeLicense"].address

    @property
    def governor_address(self) -> str:
        return self.deployment.contracts["NodeGovernor"].address

    @property
    def mirror_key(self) -> dict[str, object]:
        """SQL parameters that select this deployment's rows in the indexer's tables."""
        return {"chain_id": self.chain_id, "license": self.license_address.lower()}
