"""The signed-in caller: what authorization decides on and the caller cache keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Caller:
    """A signed-in wallet and what the mirror says it holds at `indexed_block`."""

    address: str
    token_hash: bytes
    indexed_block: int | None
    licenses: list[dict[str, Any]] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def license(self, node_type: int) -> dict[str, Any] | None:
        return next((item for item in self.licenses if item["node_type"] == node_type), None)

    def holds_any(self, roles: tuple[str, ...]) -> bool:
        return bool(set(roles) & set(self.roles))
