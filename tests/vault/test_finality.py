"""Shredding only on final chain data: a revocation or a change of owner destroys a data key
once it is NODERR_INDEXER_FINALITY_DEPTH blocks deep; before that the license is refused, and
a reorg that undoes the change (anvil_reorg) leaves the owner's secrets readable."""

from __future__ import annotations

import pytest

from tests.vault.helpers import CREDENTIALS, ORACLE, address, audit_rows

OPERATOR, OTHER = 1, 2
DEPTH = 3


@pytest.fixture(autouse=True)
def finality_depth(monkeypatch):
    monkeypatch.setenv("NODERR_INDEXER_FINALITY_DEPTH", str(DEPTH))


def data_keys(db, token_id: int) -> int:
    return db.execute("SELECT count(*) FROM vault_data_keys WHERE token_id = %s",
                      (token_id,)).fetchone()[0]


def reorg(w3, depth: int) -> None:
    """Replace the newest `depth` blocks by as many empty ones."""
    head = w3.eth.block_number
    w3.provider.make_request("anvil_reorg", [depth, []])
    assert w3.eth.block_number == head


def test_revoke_reorged_away__secrets_stay_readable(api, ops, db, w3):
    token_id = api.license(OPERATOR, ORACLE)
    api.put(OPERATOR, token_id, "binance", CREDENTIALS)
    ops.revoke(token_id)
    ops.index()
    refused = api.get(OPERATOR, token_id, "binance")
    assert refused.status_code == 403 and "revoked" in refused.json()["detail"]
    assert data_keys(db, token_id) == 1 and audit_rows(db, action="shred") == []

    reorg(w3, 1)
    ops.index()
    response = api.get(OPERATOR, token_id, "binance")
    assert response.status_code == 200, response.text
    assert response.json()["data"] == CREDENTIALS


def test_revoke__shredded_once_final(api, ops, db):
    token_id = api.license(OPERATOR, ORACLE)
    api.put(OPERATOR, token_id, "binance", CREDENTIALS)
    ops.revoke(token_id)
    ops.mine(DEPTH - 1)
    ops.index()
    assert api.get(OPERATOR, token_id, "binance").status_code == 403
    assert data_keys(db, token_id) == 1

    ops.mine(1)
    ops.index()
    assert api.get(OPERATOR, token_id, "binance").status_code == 403
    assert data_keys(db, token_id) == 0
    assert [row["detail"] for row in audit_rows(db, action="shred")] == [
        "license revoked: data key and 1 secret versions destroyed"]


def test_reassign__new_owner_waits_for_finality_then_starts_empty(api, ops, db):
    token_id = api.license(OPERATOR, ORACLE)
    api.put(OPERATOR, token_id, "binance", CREDENTIALS)
    ops.reassign(token_id, address(OTHER))
    ops.index()
    api.login(OTHER)
    for response in (api.get(OTHER, token_id, "binance"),
                     api.put(OTHER, token_id, "binance", {"api_key": "new owner"})):
        assert response.status_code == 503, response.text
        assert "NODERR_INDEXER_FINALITY_DEPTH" in response.json()["detail"]
    assert data_keys(db, token_id) == 1

    ops.mine(DEPTH)
    ops.index()
    assert api.get(OTHER, token_id, "binance").status_code == 404
    assert data_keys(db, token_id) == 0
    assert api.put(OTHER, token_id, "binance", {"api_key": "new owner"}).status_code == 200
