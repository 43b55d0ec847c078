"""NodeLicense's per-block histories for governance: validator_license_at and supply_at.

`validator_license_at(account, block)` is the Active Validator license an account held at
the end of a block (NodeGovernor's voting power at a snapshot); `supply_at(type, block)`
the live supply (its quorum base). Both are read for mined blocks only.
"""

import ape
import pytest

from tests.contracts.license_constants import GUARDIAN, ORACLE, VALIDATOR


@pytest.fixture
def in_one_block(chain, license):
    """Send transactions (sender, calldata) to the license and mine them all in one block."""

    def _send(*calls):
        web3 = chain.provider.web3
        chain.provider.make_request("evm_setAutomine", [False])
        try:
            hashes = [
                web3.eth.send_transaction(
                    {"from": sender.address, "to": license.address, "data": data, "gas": 400_000}
                )
                for sender, data in calls
            ]
            chain.provider.make_request("evm_mine", [])
        finally:
            chain.provider.make_request("evm_setAutomine", [True])
        receipts = [web3.eth.get_transaction_receipt(h) for h in hashes]
        assert all(r["status"] == 1 for r in receipts)
        [block] = {r["blockNumber"] for r in receipts}
        chain.mine()  # make that block readable
        return block

    return _send


def test_validator_license_at__minted__from_mint_block(license, mint, chain, alice):
    token = mint(alice, VALIDATOR)
    minted = chain.blocks.head.number
    chain.mine()

    assert license.validator_license_at(alice, minted - 1) == 0
    assert license.validator_license_at(alice, minted) == token


@pytest.mark.parametrize("node_type", [ORACLE, GUARDIAN])
def test_validator_license_at__other_node_types__zero(license, mint, chain, alice, node_type):
    mint(alice, node_type)
    chain.mine()

    assert license.validator_license_at(alice, chain.blocks.head.number - 1) == 0


def test_validator_license_at__suspend_and_reinstate__follow_status(
    license, token_id, chain, admin, alice
):
    suspended = license.suspend(token_id, "offline", sender=admin)
    [event] = suspended.decode_logs(license.LicenseSuspended)
    assert (event.token_id, event.owner, event.actor) == (token_id, alice, admin)
    reinstated = license.reinstate(token_id, sender=admin)
    [event] = reinstated.decode_logs(license.LicenseReinstated)
    assert (event.token_id, event.owner, event.actor) == (token_id, alice, admin)
    chain.mine()

    assert license.validator_license_at(alice, suspended.block_number - 1) == token_id
    assert license.validator_license_at(alice, suspended.block_number) == 0
    assert license.validator_license_at(alice, reinstated.block_number) == token_id


def test_validator_license_at__suspend_and_reinstate_in_one_block__end_of_block_status(
    license, token_id, in_one_block, admin, alice
):
    block = in_one_block(
        (admin, license.suspend.encode_input(token_id, "offline")),
        (admin, license.reinstate.encode_input(token_id)),
    )

    assert license.validator_license_at(alice, block) == token_id
    assert license.active_count_at(VALIDATOR, block) == 1


def test_validator_license_at__reinstate_and_suspend_in_one_block__end_of_block_status(
    license, token_id, chain, in_one_block, admin, alice
):
    license.suspend(token_id, "offline", sender=admin)
    block = in_one_block(
        (admin, license.reinstate.encode_input(token_id)),
        (admin, license.suspend.encode_input(token_id, "offline again")),
    )

    assert license.validator_license_at(alice, block - 1) == 0
    assert license.validator_license_at(alice, block) == 0
    assert license.active_count_at(VALIDATOR, block) == 0


def test_validator_license_at__reassigned__new_holder_from_that_block(
    license, token_id, chain, admin, alice, bob
):
    tx = license.reassign(token_id, bob, "lost key", sender=admin)
    [event] = tx.decode_logs(license.LicenseReassigned)
    assert (event.token_id, event.previous_owner, event.new_owner) == (token_id, alice, bob)
    chain.mine()

    assert license.validator_license_at(alice, tx.block_number - 1) == token_id
    assert license.validator_license_at(bob, tx.block_number - 1) == 0
    assert license.validator_license_at(alice, tx.block_number) == 0
    assert license.validator_license_at(bob, tx.block_number) == token_id


def test_validator_license_at__reassigned_while_suspended__nobody_until_reinstated(
    license, token_id, chain, admin, alice, bob
):
    license.suspend(token_id, "offline", sender=admin)
    moved = license.reassign(token_id, bob, "lost key", sender=admin).block_number
    reinstated = license.reinstate(token_id, sender=admin).block_number
    chain.mine()

    assert license.validator_license_at(alice, moved) == 0
    assert license.validator_license_at(bob, moved) == 0
    assert license.validator_license_at(alice, reinstated) == 0
    assert license.validator_license_at(bob, reinstated) == token_id


def test_validator_license_at__reassigned_in_the_block_it_was_minted__one_holder(
    license, in_one_block, admin, alice, bob
):
    app_id = b"\x11" * 32
    block = in_one_block(  # one sender: nonces order the two
        (admin, license.mint.encode_input(alice, VALIDATOR, app_id)),
        (admin, license.reassign.encode_input(1, bob, "wrong address")),
    )

    assert license.token_of_application(app_id) == 1
    assert license.validator_license_at(alice, block) == 0
    assert license.validator_license_at(bob, block) == 1
    assert license.active_count_at(VALIDATOR, block) == 1


def test_validator_license_at__revoked__former_holder_keeps_past_blocks(
    license, token_id, chain, admin, alice
):
    tx = license.revoke(token_id, "fraud", sender=admin)
    [event] = tx.decode_logs(license.LicenseRevoked)
    assert (event.token_id, event.owner, event.node_type) == (token_id, alice, VALIDATOR)
    chain.mine()

    assert license.validator_license_at(alice, tx.block_number - 1) == token_id
    assert license.validator_license_at(alice, tx.block_number) == 0


def test_validator_license_at__relicensed_after_revoke__new_token(
    license, token_id, mint, chain, admin, alice
):
    license.revoke(token_id, "fraud", sender=admin)
    new_token = mint(alice, VALIDATOR)
    minted = chain.blocks.head.number
    chain.mine()

    assert new_token != token_id
    assert license.validator_license_at(alice, minted - 1) == 0
    assert license.validator_license_at(alice, minted) == new_token


def test_validator_license_at__unmined_block__reverts(license, token_id, chain, alice):
    head = chain.blocks.head.number

    # an eth_call at `latest` executes in the head block, which is not final yet
    with ape.reverts("NodeLicense: future lookup"):
        license.validator_license_at(alice, head)
    with ape.reverts("NodeLicense: future lookup"):
        license.validator_license_at(alice, 2**256 - 1)
    assert license.validator_license_at(alice, head - 1) == 0


def test_validator_license_at__never_licensed__zero(license, chain, mallory):
    chain.mine()

    assert license.validator_license_at(mallory, chain.blocks.head.number - 1) == 0
    assert license.validator_license_at(mallory, 0) == 0


def test_supply_at__counts_suspended_until_revoked(license, mint, chain, admin, alice, bob):
    a = mint(alice, VALIDATOR)
    mint(bob, VALIDATOR)
    suspended = license.suspend(a, "offline", sender=admin).block_number
    revoked = license.revoke(a, "gone", sender=admin).block_number
    chain.mine()

    assert license.supply_at(VALIDATOR, suspended) == 2
    assert license.active_count_at(VALIDATOR, suspended) == 1
    assert license.supply_at(VALIDATOR, revoked) == 1
    assert license.active_count_at(VALIDATOR, revoked) == 1
    assert license.supply_at(ORACLE, revoked) == 0


@pytest.mark.parametrize("node_type", [0, 4])
def test_supply_at__invalid_node_type__reverts(license, node_type):
    with ape.reverts("NodeLicense: invalid node type"):
        license.supply_at(node_type, 0)


def test_supply_at__unmined_block__reverts(license, chain):
    with ape.reverts("NodeLicense: future lookup"):
        license.supply_at(VALIDATOR, chain.blocks.head.number)


def test_validator_history__holders_add_up_to_active_count(
    license, mint, chain, admin, alice, bob, carol, dave, mallory
):
    """At every block each Active Validator license belongs to exactly one account."""
    a, b, c = mint(alice, VALIDATOR), mint(bob, VALIDATOR), mint(carol, VALIDATOR)
    start = chain.blocks.head.number
    license.suspend(b, "offline", sender=admin)
    license.reassign(a, dave, "lost key", sender=admin)
    license.reassign(b, mallory, "lost key", sender=admin)
    license.reinstate(b, sender=admin)
    license.revoke(c, "fraud", sender=admin)
    license.reassign(a, alice, "key found", sender=admin)
    end = chain.blocks.head.number
    chain.mine()

    holders = (alice, bob, carol, dave, mallory)
    for block in range(start, end + 1):
        held = [license.validator_license_at(h, block) for h in holders]
        live = [t for t in held if t]
        assert len(live) == len(set(live)) == license.active_count_at(VALIDATOR, block)
    assert [license.validator_license_at(h, end) for h in holders] == [a, 0, 0, 0, b]
