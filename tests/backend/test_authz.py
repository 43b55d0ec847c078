"""Authorization from the mirror: licenses and roles as the indexer has seen them, on every
request; 503 when the mirror lags (or one `is_active` call where configured)."""

from __future__ import annotations

import pytest

from tests.backend.helpers import ADMIN, bearer, sign_in
from tests.backend.siwe_helpers import KEYS

ORACLE, GUARDIAN, VALIDATOR = 1, 2, 3
OPERATOR, OTHER = KEYS[1].address, KEYS[2].address


@pytest.fixture
def operator(client):
    return bearer(sign_in(client, 1))


def test_gate__active_license__200(client, ops, operator):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 200, response.text
    assert response.json()["token_id"] == token_id
    me = client.get("/nodes/me", headers=operator).json()
    assert [(item["token_id"], item["node_type_name"]) for item in me["licenses"]] == [
        (token_id, "Oracle")]


def test_gate__no_license__403(client, ops, operator):
    ops.index()
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 403
    assert response.json()["detail"] == f"{OPERATOR} holds no active Oracle license"
    assert client.get("/nodes/me", headers=operator).status_code == 403


def test_gate__wrong_node_type__403(client, ops, operator):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    response = client.get("/nodes/validator/access", headers=operator)
    assert response.status_code == 403 and "no active Validator license" in response.text


def test_gate__suspended__403_once_indexed(client, ops, operator):
    token_id = ops.mint(OPERATOR, GUARDIAN)
    ops.index()
    assert client.get("/nodes/guardian/access", headers=operator).status_code == 200
    ops.suspend(token_id)
    ops.index()
    assert client.get("/nodes/guardian/access", headers=operator).status_code == 403
    assert client.get("/nodes/me", headers=operator).status_code == 403


def test_gate__revoked__403_once_indexed(client, ops, operator):
    token_id = ops.mint(OPERATOR, VALIDATOR)
    ops.index()
    assert client.get("/nodes/validator/access", headers=operator).status_code == 200
    ops.revoke(token_id)
    ops.index()
    assert client.get("/nodes/validator/access", headers=operator).status_code == 403


def test_gate__reassigned__old_holder_403_new_holder_200(client, ops, operator):
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    ops.reassign(token_id, OTHER)
    ops.index()
    assert client.get("/nodes/oracle/access", headers=operator).status_code == 403
    other = client.get("/nodes/oracle/access", headers=bearer(sign_in(client, 2)))
    assert other.status_code == 200 and other.json()["token_id"] == token_id


def test_gate__lagging_mirror__503_with_reason(client, ops, operator):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    ops.mine(6)  # NODERR_MAX_LAG_BLOCKS is 5
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 503
    assert "the indexer is 6 blocks behind the chain head (limit 5)" in response.json()["detail"]
    assert client.get("/nodes/me", headers=operator).status_code == 503


def test_gate__lag_within_limit__200(client, ops, operator):
    ops.mint(OPERATOR, ORACLE)
    ops.index()
    ops.mine(5)
    assert client.get("/nodes/oracle/access", headers=operator).status_code == 200


def test_gate__never_indexed__503(client, operator):
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 503 and "not indexed" in response.json()["detail"]


def test_gate__lagging_mirror_with_on_chain_confirmation(make_client, settings, ops):
    client = make_client(settings.model_copy(update={"confirm_on_chain": True}))
    token_id = ops.mint(OPERATOR, ORACLE)
    ops.index()
    operator = bearer(sign_in(client, 1))
    ops.revoke(token_id)
    ops.mine(10)  # the mirror still says Active, the chain says revoked
    response = client.get("/nodes/oracle/access", headers=operator)
    assert response.status_code == 403 and "confirmed on-chain" in response.json()["detail"]
    ops.mint(OPERATOR, ORACLE, salt="again")
    assert client.get("/nodes/oracle/access", headers=operator).status_code == 200


def test_role__admin_from_the_mirror__lists_applications(client, ops):
    ops.grant_role("DEFAULT_ADMIN_ROLE", ADMIN)  # governance makes anvil #0 an admin too
    ops.index()
    admin = bearer(sign_in(client, 0))
    assert client.get("/applications", headers=admin).status_code == 200
    assert set(client.get("/auth/me", headers=admin).json()["roles"]) >= {
        "MINTER_ROLE", "REVOKER_ROLE", "PAUSER_ROLE", "DEFAULT_ADMIN_ROLE"}


def test_role__not_a_role_holder__403(client, ops, operator):
    ops.index()
    response = client.get("/applications", headers=operator)
    assert response.status_code == 403
    assert "holds none of MINTER_ROLE, REVOKER_ROLE" in response.json()["detail"]


def test_role__revoked_on_chain__403_once_indexed(client, ops):
    ops.index()
    admin = bearer(sign_in(client, 0))
    ops.revoke_role("MINTER_ROLE", ADMIN)
    ops.revoke_role("REVOKER_ROLE", ADMIN)
    assert client.get("/applications", headers=admin).status_code == 200  # not indexed yet:
    ops.index()  # the gate follows the mirror, which is within the lag limit
    assert client.get("/applications", headers=admin).status_code == 403


def test_role__lagging_mirror__503(client, ops):
    ops.index()
    ops.mine(6)
    response = client.get("/applications", headers=bearer(sign_in(client, 0)))
    assert response.status_code == 503
