"""EIP-1271: a smart-contract wallet signs in through the chain (its `isValidSignature`
accepts its owner's EIP-191 signature of the exact SIWE text) and passes license gates."""

from __future__ import annotations

import pytest

from tests.backend.chain_helpers import deploy_contract
from tests.backend.helpers import bearer
from tests.backend.siwe_helpers import KEYS, sign, siwe_text

OWNER_KEY, STRANGER_KEY = 1, 2
ORACLE = 1


@pytest.fixture
def wallet(w3, artifacts) -> str:
    """ERC1271WalletMock owned by anvil #1 (reverted with the chain after each test)."""
    return deploy_contract(w3, artifacts["test/ERC1271WalletMock"], KEYS[OWNER_KEY].address
                           ).address


def verify_as(client, wallet: str, key_index: int | None = None, signature: str | None = None):
    text = siwe_text(wallet, client.get("/auth/nonce").json()["nonce"])
    return client.post("/auth/verify", json={"message": text,
                                             "signature": signature or sign(text, key_index)})


def test_verify__contract_wallet_owner_signs__session(client, wallet):
    response = verify_as(client, wallet, OWNER_KEY)
    assert response.status_code == 200, response.text
    assert response.json()["address"] == wallet
    me = client.get("/auth/me", headers=bearer(response.json()["token"]))
    assert me.status_code == 200 and me.json()["address"] == wallet


def test_verify__contract_wallet_rejects_signature__401(client, wallet, caplog):
    response = verify_as(client, wallet, STRANGER_KEY)
    assert response.status_code == 401
    assert response.json()["detail"] == f"the wallet contract {wallet} rejects this signature"
    assert any("rejects this signature" in r.getMessage() for r in caplog.records)


def test_verify__contract_wallet_malformed_signature__401(client, wallet):
    response = verify_as(client, wallet, signature="0x" + "ab" * 100)
    assert response.status_code == 401
    assert "rejects this signature" in response.json()["detail"]


def test_verify__owner_signs_for_plain_address_of_another__401(client):
    response = verify_as(client, KEYS[3].address, OWNER_KEY)
    assert response.status_code == 401
    assert response.json()["detail"] == f"signature is not by {KEYS[3].address}"


def test_gate__contract_wallet_holding_license__200(client, ops, wallet):
    token_id = ops.mint(wallet, ORACLE)
    ops.index()
    token = verify_as(client, wallet, OWNER_KEY).json()["token"]
    response = client.get("/nodes/oracle/access", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"address": wallet, "node_type": ORACLE, "token_id": token_id,
                               "indexed_block": response.json()["indexed_block"]}
    assert client.get("/nodes/validator/access", headers=bearer(token)).status_code == 403


def test_gate__contract_wallet_license_revoked__403(client, ops, wallet):
    token_id = ops.mint(wallet, ORACLE)
    ops.index()
    token = verify_as(client, wallet, OWNER_KEY).json()["token"]
    ops.revoke(token_id)
    ops.index()
    response = client.get("/nodes/oracle/access", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["detail"] == f"{wallet} holds no active Oracle license"
