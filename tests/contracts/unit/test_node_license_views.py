"""NodeLicense soulbound behaviour, views, on-chain metadata and checkpointed counts."""

import base64
import json

import ape
import pytest

from tests.contracts.license_constants import (
    GUARDIAN,
    NONEXISTENT,
    ORACLE,
    SOULBOUND,
    VALIDATOR,
    ZERO_ADDRESS,
    application_id,
)

URI_PREFIX = "data:application/json;base64,"


# --- soulbound -----------------------------------------------------------------------


def test_transfer_from__by_owner__reverts(license, token_id, alice, bob):
    with ape.reverts(SOULBOUND):
        license.transferFrom(alice, bob, token_id, sender=alice)


def test_transfer_from__by_admin__reverts(license, token_id, admin, alice, bob):
    with ape.reverts(SOULBOUND):
        license.transferFrom(alice, bob, token_id, sender=admin)


def test_safe_transfer_from__both_overloads__revert(license, token_id, alice, bob):
    with ape.reverts(SOULBOUND):
        license.safeTransferFrom(alice, bob, token_id, sender=alice)
    with ape.reverts(SOULBOUND):
        license.safeTransferFrom(alice, bob, token_id, b"data", sender=alice)


def test_approve__reverts(license, token_id, alice, bob):
    with ape.reverts(SOULBOUND):
        license.approve(bob, token_id, sender=alice)
    assert license.getApproved(token_id) == ZERO_ADDRESS


def test_set_approval_for_all__reverts(license, alice, bob):
    with ape.reverts(SOULBOUND):
        license.setApprovalForAll(bob, True, sender=alice)
    assert license.isApprovedForAll(alice, bob) is False


def test_permit__reverts(license, token_id, alice, bob):
    with ape.reverts(SOULBOUND):
        license.permit(bob, token_id, 2**64, 27, b"\x01" * 32, b"\x02" * 32, sender=alice)


def test_locked__live_token_is_locked(license, token_id):
    assert license.locked(token_id) is True


def test_locked__nonexistent_token__reverts(license):
    with ape.reverts(NONEXISTENT):
        license.locked(1)


# --- views ---------------------------------------------------------------------------


def test_license_of__nonexistent_token__reverts(license):
    with ape.reverts(NONEXISTENT):
        license.license_of(0)
    with ape.reverts(NONEXISTENT):
        license.license_of(1)


def test_token_of__none_zero_address_or_unknown_type__is_zero(license, token_id, alice, bob):
    assert license.token_of(bob, VALIDATOR) == 0
    assert license.token_of(alice, ORACLE) == 0
    assert license.token_of(ZERO_ADDRESS, VALIDATOR) == 0
    assert license.token_of(alice, 0) == 0
    assert license.token_of(alice, 4) == 0


def test_is_active__unknown_type_or_no_license__is_false(license, token_id, alice, bob):
    assert license.is_active(alice, 0) is False
    assert license.is_active(alice, 200) is False
    assert license.is_active(bob, VALIDATOR) is False
    assert license.is_active(ZERO_ADDRESS, VALIDATOR) is False


def test_token_of_application__unknown__is_zero(license):
    assert license.token_of_application(application_id(424242)) == 0
    assert license.token_of_application(b"\x00" * 32) == 0


@pytest.mark.parametrize("view", ["active_count", "supply_of", "supply_cap"])
@pytest.mark.parametrize("node_type", [0, 4])
def test_type_views__invalid_node_type__revert(license, view, node_type):
    with ape.reverts("NodeLicense: invalid node type"):
        getattr(license, view)(node_type)


# --- tokenURI ------------------------------------------------------------------------


def _metadata(uri: str) -> dict:
    assert uri.startswith(URI_PREFIX)
    return json.loads(base64.b64decode(uri[len(URI_PREFIX) :], validate=True))


def test_token_uri__active_validator(license, token_id):
    minted_block = license.license_of(token_id).minted_block
    meta = _metadata(license.tokenURI(token_id))
    assert meta["name"] == f"Noderr Validator License #{token_id}"
    assert "Validator" in meta["description"]
    assert meta["attributes"] == [
        {"trait_type": "Node type", "value": "Validator"},
        {"trait_type": "Status", "value": "Active"},
        {"display_type": "number", "trait_type": "Minted block", "value": minted_block},
    ]


def test_token_uri__suspended_oracle_and_guardian(license, mint, revoker, bob, carol):
    oracle_id = mint(bob, ORACLE)
    guardian_id = mint(carol, GUARDIAN)
    license.suspend(oracle_id, "x", sender=revoker)
    oracle = _metadata(license.tokenURI(oracle_id))
    assert oracle["name"] == f"Noderr Oracle License #{oracle_id}"
    assert oracle["attributes"][0]["value"] == "Oracle"
    assert oracle["attributes"][1]["value"] == "Suspended"
    guardian = _metadata(license.tokenURI(guardian_id))
    assert guardian["name"] == f"Noderr Guardian License #{guardian_id}"
    assert guardian["attributes"][:2] == [
        {"trait_type": "Node type", "value": "Guardian"},
        {"trait_type": "Status", "value": "Active"},
    ]


def test_token_uri__nonexistent_token__reverts(license, token_id, admin):
    with ape.reverts(NONEXISTENT):
        license.tokenURI(token_id + 1)
    license.revoke(token_id, "x", sender=admin)
    with ape.reverts(NONEXISTENT):
        license.tokenURI(token_id)


# --- active_count_at (checkpoints) ---------------------------------------------------


def test_active_count_at__follows_history(license, mint, admin, alice, bob, carol, chain):
    start = chain.blocks.head.number
    a = mint(alice, VALIDATOR)  # 1 active
    b = mint(bob, VALIDATOR)  # 2
    mint(carol, ORACLE)  # other type: no change
    license.suspend(a, "x", sender=admin)  # 1
    license.reinstate(a, sender=admin)  # 2
    license.revoke(b, "x", sender=admin)  # 1
    license.suspend(a, "x", sender=admin)  # 0
    license.revoke(a, "x", sender=admin)  # 0 (a suspended license is not Active)
    chain.mine()
    expected = [0, 1, 2, 2, 1, 2, 1, 0, 0]
    got = [license.active_count_at(VALIDATOR, start + i) for i in range(len(expected))]
    assert got == expected
    assert license.active_count_at(ORACLE, start + 2) == 0
    assert license.active_count_at(ORACLE, start + 3) == 1
    assert license.active_count_at(VALIDATOR, 0) == 0


def test_active_count_at__long_history_binary_search(license, mint, revoker, accounts, chain):
    holders = list(accounts)[:6]
    expected = {chain.blocks.head.number: 0}
    ids = []
    for holder in holders:
        ids.append(mint(holder, GUARDIAN))
        expected[chain.blocks.head.number] = len(ids)
    for n, token in enumerate(ids[:4]):
        license.suspend(token, "x", sender=revoker)
        expected[chain.blocks.head.number] = len(ids) - n - 1
    chain.mine()
    for block, count in expected.items():
        assert license.active_count_at(GUARDIAN, block) == count
    assert license.active_count(GUARDIAN) == 2


def test_active_count_at__same_block_changes_keep_last_value(
    license, mint, admin, alice, bob, chain
):
    a = mint(alice, VALIDATOR)
    b = mint(bob, VALIDATOR)
    before = chain.blocks.head.number
    web3 = chain.provider.web3
    calls = [
        license.suspend.encode_input(a, "x"),
        license.suspend.encode_input(b, "x"),
        license.reinstate.encode_input(a),
    ]
    chain.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = [
            web3.eth.send_transaction(
                {"from": admin.address, "to": license.address, "data": data, "gas": 300_000}
            )
            for data in calls
        ]
        chain.provider.make_request("evm_mine", [])
    finally:
        chain.provider.make_request("evm_setAutomine", [True])
    receipts = [web3.eth.get_transaction_receipt(h) for h in hashes]
    assert {r["blockNumber"] for r in receipts} == {before + 1}
    assert all(r["status"] == 1 for r in receipts)
    chain.mine()
    assert license.active_count_at(VALIDATOR, before) == 2
    assert license.active_count_at(VALIDATOR, before + 1) == 1
    assert license.active_count(VALIDATOR) == 1


def test_active_count_at__unmined_block__reverts(license, mint, alice, chain):
    mint(alice, VALIDATOR)
    head = chain.blocks.head.number
    with ape.reverts("NodeLicense: future lookup"):
        license.active_count_at(VALIDATOR, head + 1)
    # an eth_call at `latest` executes in the head block, which is not final yet
    with ape.reverts("NodeLicense: future lookup"):
        license.active_count_at(VALIDATOR, head)
    assert license.active_count_at(VALIDATOR, head - 1) == 0
    with ape.reverts("NodeLicense: future lookup"):
        license.active_count_at(VALIDATOR, 2**256 - 1)


@pytest.mark.parametrize("node_type", [0, 4])
def test_active_count_at__invalid_node_type__reverts(license, chain, node_type):
    with ape.reverts("NodeLicense: invalid node type"):
        license.active_count_at(node_type, 0)


# --- validator set nonce ---------------------------------------------------------------


def test_validator_set_nonce__every_change_of_the_active_validators__moves(
        license, mint, admin, alice, bob, carol):
    token = mint(alice, VALIDATOR)
    other = mint(bob, VALIDATOR)
    changes = [
        lambda: license.suspend(token, "x", sender=admin),
        lambda: license.reinstate(token, sender=admin),
        lambda: license.reassign(token, carol, "lost key", sender=admin),
        lambda: license.revoke(other, "x", sender=admin),
    ]
    seen = [license.validator_set_nonce()]
    for change in changes:
        change()
        seen.append(license.validator_set_nonce())
    assert len(set(seen)) == len(seen)


def test_validator_set_nonce__no_change_of_the_active_validators__stays(
        license, mint, admin, revoker, alice, bob, carol):
    suspended = mint(alice, VALIDATOR)
    license.suspend(suspended, "x", sender=admin)
    before = license.validator_set_nonce()
    oracle = mint(bob, ORACLE)
    mint(bob, GUARDIAN)
    license.suspend(oracle, "x", sender=revoker)
    license.reassign(suspended, carol, "lost key", sender=admin)  # not Active: no vote moves
    license.revoke(suspended, "x", sender=admin)
    assert license.validator_set_nonce() == before
