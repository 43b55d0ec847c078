"""Who may speak on the bus: the holders of active licenses, as of the mirror's latest block.

The runtime feeds it the backend's `GET /network/members` once per indexed block; a snapshot
replaces the previous one only when its block is newer, so a late answer for an older block
never brings back a license revoked since. Lookups take the 20-byte address the verifier
recovers (no checksumming on the hot path) or any 0x-hex spelling."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from noderr.domain import NodeType

Member = tuple[str, int, int]
"""(address, node type code, token id), as the backend lists an active license."""


def address_bytes(address: str | bytes) -> bytes:
    """The 20 bytes of an address given as bytes or 0x-hex in any case."""
    if isinstance(address, bytes):
        raw = address
    else:
        if not address.startswith(("0x", "0X")):
            raise ValueError(f"address must be 0x-hex, not {address!r}")
        raw = bytes.fromhex(address[2:])
    if len(raw) != 20:
        raise ValueError(f"an address has 20 bytes, not {len(raw)}")
    return raw


@dataclass(frozen=True)
class Snapshot:
    block: int
    types: dict[bytes, frozenset[NodeType]] = field(default_factory=dict)
    tokens: dict[tuple[bytes, NodeType], int] = field(default_factory=dict)


def snapshot(block: int, members: Iterable[Member]) -> Snapshot:
    types: dict[bytes, set[NodeType]] = {}
    tokens: dict[tuple[bytes, NodeType], int] = {}
    for address, type_code, token_id in members:
        raw, node_type = address_bytes(address), NodeType(type_code)
        types.setdefault(raw, set()).add(node_type)
        tokens[raw, node_type] = int(token_id)
    return Snapshot(block, {raw: frozenset(held) for raw, held in types.items()}, tokens)


class Membership:
    """The active licenses by holder; empty (nobody may speak) until the first update."""

    def __init__(self) -> None:
        self._snapshot = Snapshot(block=-1)

    @property
    def block(self) -> int:
        """The indexed block of the current snapshot (-1 before the first)."""
        return self._snapshot.block

    def update(self, indexed_block: int, members: Iterable[Member]) -> bool:
        """Replace the snapshot with `members` if `indexed_block` is newer; whether it was."""
        if indexed_block <= self._snapshot.block:
            return False
        self._snapshot = snapshot(indexed_block, members)
        return True

    def types_of(self, address: str | bytes) -> frozenset[NodeType]:
        """The node types `address` holds an active license of (empty if none)."""
        return self._snapshot.types.get(address_bytes(address), frozenset())

    def holds(self, address: str | bytes, node_type: NodeType | int) -> bool:
        return node_type in self.types_of(address)

    def holders(self, node_type: NodeType | int) -> tuple[bytes, ...]:
        """The 20-byte addresses holding an active `node_type` license, in ascending order."""
        return tuple(sorted(raw for raw, held in self._snapshot.types.items()
                            if node_type in held))

    def token_id(self, address: str | bytes, node_type: NodeType | int) -> int | None:
        return self._snapshot.tokens.get((address_bytes(address), NodeType(node_type)))

    def __len__(self) -> int:
        return len(self._snapshot.types)
