"""Reorgs made with evm_snapshot/evm_revert and a different branch mined on top: after
catching up, the database equals a fresh index of the canonical chain."""

from __future__ import annotations

import pytest

from indexer.follow import IndexerError
from tests.indexer.helpers import Workload, dump, index_once, rows


def _reorgs(database_url: str) -> int:
    return rows(database_url, "SELECT reorgs FROM indexer_status")[0][0]


GENESIS = 1
"""Licenses minted at deployment (the test stack's one genesis validator)."""


def _assert_same_as_fresh(stack, make_database, database_url: str) -> None:
    fresh = make_database()
    index_once(stack.rpc_url, fresh, stack.deployment)
    assert dump(database_url) == dump(fresh)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_reorg__depth_n__database_equals_fresh_index(stack, make_database, depth):
    work, db = Workload(stack, seed=depth), make_database()
    work.mint(work.holders[0], 3)
    index_once(stack.rpc_url, db, stack.deployment)
    snapshot = stack.snapshot()
    for holder in work.holders[1:1 + depth]:  # one block each
        assert work.mint(holder, 1)
    index_once(stack.rpc_url, db, stack.deployment)
    assert len(rows(db, "SELECT 1 FROM licenses")) == GENESIS + 1 + depth

    stack.revert(snapshot)
    for holder in work.holders[1:2 + depth]:  # a longer, different branch
        assert work.mint(holder, 2)
    index_once(stack.rpc_url, db, stack.deployment)
    assert _reorgs(db) == 1
    assert rows(db, "SELECT count(*) FROM licenses WHERE node_type = 1") == [(0,)]
    _assert_same_as_fresh(stack, make_database, db)


def test_reorg__removes_a_mint(stack, make_database):
    work, db = Workload(stack, seed=11), make_database()
    index_once(stack.rpc_url, db, stack.deployment)
    snapshot = stack.snapshot()
    assert work.mint(work.holders[0], 3)
    index_once(stack.rpc_url, db, stack.deployment)
    assert rows(db, "SELECT token_id, status FROM licenses ORDER BY token_id") == [
        (1, "active"), (2, "active")]

    stack.revert(snapshot)
    stack.mine(2)
    index_once(stack.rpc_url, db, stack.deployment)
    assert rows(db, "SELECT token_id FROM licenses") == [(1,)]  # the genesis validator's
    assert rows(db, "SELECT count(*) FROM chain_events WHERE event_name = 'LicenseMinted'") == [
        (GENESIS,)]
    _assert_same_as_fresh(stack, make_database, db)


def test_reorg__removes_a_revoke(stack, make_database):
    work, db = Workload(stack, seed=12), make_database()
    assert work.mint(work.holders[0], 3)
    index_once(stack.rpc_url, db, stack.deployment)
    snapshot = stack.snapshot()
    assert work.send(work.license.functions.revoke(2, "bad node"), work.timelock)
    index_once(stack.rpc_url, db, stack.deployment)
    mint = "SELECT status, status_reason FROM licenses WHERE token_id = 2"
    assert rows(db, mint) == [("revoked", "bad node")]

    stack.revert(snapshot)
    stack.mine(2)
    index_once(stack.rpc_url, db, stack.deployment)
    assert rows(db, mint) == [("active", None)]
    _assert_same_as_fresh(stack, make_database, db)


def test_reorg__deeper_than_finality_depth__stops_with_clear_error(stack, make_database):
    work, db = Workload(stack, seed=13), make_database()
    index_once(stack.rpc_url, db, stack.deployment, finality_depth=2)
    snapshot = stack.snapshot()
    for holder in work.holders[:4]:
        assert work.mint(holder, 1)
    index_once(stack.rpc_url, db, stack.deployment, finality_depth=2)
    before = dump(db)

    stack.revert(snapshot)
    stack.mine(6)
    with pytest.raises(IndexerError, match="deeper than the kept block hashes"):
        index_once(stack.rpc_url, db, stack.deployment, finality_depth=2)
    assert dump(db) == before  # nothing was half-undone
