"""The deployment file, `deployments/<chain_id>.json`: the one place services learn where
each contract lives, its ABI and the block it was deployed in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

CONTRACT_NAMES = ("NodeLicense", "NodeTimelock", "NodeGovernor")
"""The core contracts, in deployment order; every deployment has them."""
FEED_CONTRACT = "NodeFeed"
"""The feeds' contract: a deployment holds one per feed, as `NodeFeed.<FEED>`."""


def feed_contract_name(feed: str) -> str:
    """The deployment file's name for `feed`'s contract."""
    return f"{FEED_CONTRACT}.{feed}"


class ContractDeployment(BaseModel):
    address: str
    abi: list[dict[str, Any]]
    block: int = Field(ge=0, description="Block of the deployment transaction.")
    tx_hash: str


class Deployment(BaseModel):
    chain_id: int
    deployer: str
    contracts: dict[str, ContractDeployment]

    def feeds(self) -> dict[str, ContractDeployment]:
        """The feeds' contracts by feed name (`SP500`, …), in deployment order."""
        prefix = FEED_CONTRACT + "."
        return {name.removeprefix(prefix): contract for name, contract in self.contracts.items()
                if name.startswith(prefix)}

    @property
    def start_block(self) -> int:
        """The first block any of the contracts can have logged in."""
        return min(contract.block for contract in self.contracts.values())

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.model_dump(), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        if not path.is_file():
            raise FileNotFoundError(f"no deployment file at {path}: run `noderr deploy` first")
        return cls.model_validate_json(path.read_text())
