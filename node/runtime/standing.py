"""What the node may do, decided from what the backend's mirror says its address holds.

Pure functions over the watch answer (`GET /nodes/me/watch`), so the rules are tested without
a process: the node runs while its license is active, pauses while it is suspended, and stops
for good once the token is no longer its own (revoked: burned; reassigned: another owner)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from client.models import HeldLicense, LicenseWatch
from noderr.domain import NodeType


class Standing(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    GONE = "gone"


@dataclass(frozen=True)
class Verdict:
    standing: Standing
    indexed_block: int | None
    reason: str


def choose_license(watch: LicenseWatch, node_type: NodeType) -> HeldLicense | None:
    """The license this node runs under: the lowest-numbered active one of its type."""
    active = [item for item in watch.licenses
              if item.node_type == node_type and item.status == "active"]
    return min(active, key=lambda item: item.token_id) if active else None


def refusal(watch: LicenseWatch, node_type: NodeType) -> str:
    """The one line a node without an active license of its type prints before exit 3."""
    held = [item for item in watch.licenses if item.node_type == node_type]
    if held:
        tokens = ", ".join(f"#{item.token_id} ({item.status})" for item in held)
        return (f"{watch.address} holds no active {node_type.label} license (it holds "
                f"{tokens}); the node does not activate")
    return (f"{watch.address} holds no {node_type.label} license; the node does not "
            f"activate")


def judge(watch: LicenseWatch, token_id: int, node_type: NodeType) -> Verdict:
    """The node's standing under license `token_id` as of the watch answer's block."""
    mine = next((item for item in watch.licenses
                 if item.token_id == token_id and item.node_type == node_type), None)
    block = watch.indexed_block
    if mine is None:
        return Verdict(Standing.GONE, block, f"license #{token_id} is no longer held by "
                       f"{watch.address} (revoked or reassigned) as of block {block}")
    if mine.status == "active":
        return Verdict(Standing.ACTIVE, block, f"license #{token_id} is active at block {block}")
    return Verdict(Standing.SUSPENDED, block,
                   f"license #{token_id} is {mine.status} at block {block}")
