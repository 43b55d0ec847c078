"""Applications through the API: direct applications, claims, review and history."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from tests.backend.helpers import bearer, sign_in
from tests.backend.siwe_helpers import KEYS
from tests.fixtures_chain import GENESIS_VALIDATOR

APPLICANT = KEYS[1].address
FORM = {"applicant_name": "Grace Hopper", "contact": "grace@example.org",
        "wallet_address": APPLICANT, "node_type": "Validator", "region": "Americas",
        "experience": "10 years"}


@pytest.fixture
def admin(client, ops):
    ops.index()
    return bearer(sign_in(client, 0))


@pytest.fixture
def applicant(client):
    return bearer(sign_in(client, 1))


def apply(client, applicant, **changes):
    return client.post("/applications", json={**FORM, **changes}, headers=applicant)


def test_apply__signed_in_wallet__verified_pending(client, applicant):
    response = apply(client, applicant)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["wallet_verified"], body["node_type"]) == ("pending", True, 3)
    assert body["application_id"].startswith("0x") and len(body["application_id"]) == 66


def test_apply__other_wallet__403(client, applicant):
    response = apply(client, applicant, wallet_address=KEYS[2].address)
    assert response.status_code == 403 and "signed-in wallet" in response.json()["detail"]


def test_apply__not_signed_in__401(client):
    assert client.post("/applications", json=FORM).status_code == 401


@pytest.mark.parametrize(("changes", "words"), [
    ({"node_type": 7}, "node type must be one of"),
    ({"wallet_address": "0x123"}, "not an Ethereum address"),
    ({"applicant_name": ""}, "applicant_name"),
])
def test_apply__bad_input__422(client, applicant, changes, words):
    response = apply(client, applicant, **changes)
    assert response.status_code == 422 and words in response.json()["detail"]


def test_claim__other_wallet__403(client, applicant):
    app_id = apply(client, applicant).json()["id"]
    other = bearer(sign_in(client, 2))
    response = client.post(f"/applications/{app_id}/claim", headers=other)
    assert response.status_code == 403 and "is not this application's wallet" in response.text


def test_get__other_wallet_not_admin__403(client, applicant, ops):
    ops.index()
    app_id = apply(client, applicant).json()["id"]
    other = bearer(sign_in(client, 2))
    assert client.get(f"/applications/{app_id}", headers=other).status_code == 403


def test_get__unknown__404_and_bad_id__422(client, applicant):
    assert client.get("/applications/00000000-0000-0000-0000-000000000000",
                      headers=applicant).status_code == 404
    assert client.get("/applications/not-a-uuid", headers=applicant).status_code == 422


def test_review__list_filter_reject_with_note(client, applicant, admin):
    first = apply(client, applicant).json()["id"]
    listed = client.get("/applications", params={"status": "pending", "node_type": 3},
                        headers=admin).json()
    assert [item["id"] for item in listed] == [first]
    assert client.get("/applications", params={"node_type": 1}, headers=admin).json() == []
    rejected = client.post(f"/applications/{first}/reject", json={"note": "no uptime record"},
                           headers=admin)
    assert rejected.status_code == 200 and rejected.json()["review_note"] == "no uptime record"
    again = client.post(f"/applications/{first}/approve", json={"note": "x"}, headers=admin)
    assert again.status_code == 409 and "is rejected" in again.json()["detail"]
    history = client.get(f"/applications/{first}", headers=admin).json()["history"]
    assert history[-1]["action"] == "reject" and history[-1]["actor"] == KEYS[0].address


def test_review__note_required__422(client, applicant, admin):
    app_id = apply(client, applicant).json()["id"]
    response = client.post(f"/applications/{app_id}/approve", json={"note": ""}, headers=admin)
    assert response.status_code == 422


def test_review__approve_needs_minter_role(client, applicant, ops):
    ops.revoke_role("MINTER_ROLE", KEYS[0].address)
    ops.index()
    admin = bearer(sign_in(client, 0))
    app_id = apply(client, applicant).json()["id"]
    response = client.post(f"/applications/{app_id}/approve", json={"note": "ok"},
                           headers=admin)
    assert response.status_code == 403 and "MINTER_ROLE" in response.json()["detail"]
    assert client.post(f"/applications/{app_id}/reject", json={"note": "no"},
                       headers=admin).status_code == 200


def test_approve__validator__proposal_transaction_then_governance_mints(
        client, applicant, admin, ops, w3, deployment):
    """A Validator license carries a vote: approval answers the governor's `propose` of the
    mint (no mint transaction), a validator sends it, and the executed proposal mints."""
    app_id = apply(client, applicant).json()["id"]
    approved = client.post(f"/applications/{app_id}/approve", json={"note": "ok"},
                           headers=admin).json()
    assert approved["status"] == "approved" and "mint_transaction" not in approved
    tx = approved["proposal_transaction"]
    governor = w3.eth.contract(address=deployment.contracts["NodeGovernor"].address,
                               abi=deployment.contracts["NodeGovernor"].abi)
    assert (tx["to"], tx["chain_id"]) == (governor.address, 31337)
    assert approved["application_id"] in tx["description"]
    _, proposal = governor.decode_function_input(tx["data"])
    targets, values, calldatas, description = (
        proposal[name] for name in ("targets", "values", "calldatas", "description"))
    assert (targets, values, description) == ([ops.contract.address], [0], tx["description"])
    mint, args = ops.contract.decode_function_input(calldatas[0])
    assert mint.fn_name == "mint"
    assert (args["to"], args["node_type"]) == (APPLICANT, 3)
    assert "0x" + args["application_id"].hex() == approved["application_id"]

    execute_as_governance(ops, w3, governor, tx, targets, values, calldatas, description)
    ops.index()

    minted = client.get(f"/applications/{app_id}", headers=applicant).json()
    assert minted["status"] == "minted"
    assert ops.contract.functions.ownerOf(minted["token_id"]).call() == APPLICANT
    assert minted["history"][-1]["actor"] == ops.timelock.lower()


def test_awaiting_admission__validators_see_approved_validator_applications(
        client, applicant, admin):
    validator_app = apply(client, applicant).json()["id"]
    other = bearer(sign_in(client, 2))
    oracle_app = apply(client, other, wallet_address=KEYS[2].address,
                       node_type="Oracle").json()["id"]
    for app_id in (validator_app, oracle_app):
        assert client.post(f"/applications/{app_id}/approve", json={"note": "ok"},
                           headers=admin).status_code == 200

    validator = bearer(sign_in(client, 9))  # the genesis validator
    waiting = client.get("/applications/awaiting-admission", headers=validator)
    assert waiting.status_code == 200, waiting.text
    [item] = waiting.json()
    assert item["id"] == validator_app and item["wallet_address"] == APPLICANT
    assert item["proposal_transaction"]["description"].endswith(
        f"(application {item['application_id']})")
    assert "contact" not in item
    for outsider in (admin, applicant):  # no Active Validator license
        assert client.get("/applications/awaiting-admission",
                          headers=outsider).status_code == 403


def execute_as_governance(ops, w3, governor, tx, targets, values, calldatas, description):
    """The genesis validator proposes, votes For (quorum 1 of 1), queues and executes."""
    def send(sender, **fields):
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
            {"from": sender, **fields}))
        assert receipt["status"] == 1
        return receipt

    send(GENESIS_VALIDATOR, to=tx["to"], data=tx["data"])
    description_hash = keccak(text=description)
    proposal_id = governor.functions.hash_proposal(targets, values, calldatas,
                                                   description_hash).call()
    ops.mine(2)
    send(GENESIS_VALIDATOR, to=governor.address,
         data=governor.encode_abi("cast_vote", [proposal_id, 1]))
    ops.mine(governor.functions.proposal_deadline(proposal_id).call() + 1
             - w3.eth.block_number)
    queue = governor.encode_abi("queue", [targets, values, calldatas, description_hash])
    send(GENESIS_VALIDATOR, to=governor.address, data=queue)
    w3.provider.make_request("evm_increaseTime", [3600])  # past the timelock delay
    ops.mine(1)
    execute = governor.encode_abi("execute", [targets, values, calldatas, description_hash])
    send(GENESIS_VALIDATOR, to=governor.address, data=execute)
