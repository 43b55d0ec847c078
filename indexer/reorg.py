"""Finding where a reorganized chain rejoins the one the database mirrors."""

from __future__ import annotations

from indexer.rpc import RpcClient
from indexer.store import Checkpoint


class ReorgTooDeep(RuntimeError):
    """The chain changed below the blocks whose hashes are kept (the finality depth)."""


def find_common_ancestor(rpc: RpcClient, stored: dict[int, str], start: int) -> Checkpoint:
    """Walk down from `start` to the highest block whose stored hash the chain still has.

    `stored` holds the hashes of the recent blocks the database was built from. Reaching a
    block with no stored hash means the reorg is deeper than the finality depth: the mirror
    cannot tell what to undo, so it stops rather than guess."""
    number = start
    while True:
        expected = stored.get(number)
        if expected is None:
            raise ReorgTooDeep(
                f"chain reorganization below block {number + 1}, deeper than the kept block "
                f"hashes (NODERR_INDEXER_FINALITY_DEPTH): the mirror stops; re-index from "
                f"scratch (drop the chain's rows) once the chain is stable")
        header = rpc.headers([number])[number]
        if header is not None and header["hash"] == expected:
            return Checkpoint(number, expected)
        number -= 1
