"""NodeLicense.mint: success paths, events and every revert."""

import ape
import pytest

from tests.contracts.license_constants import (
    ACTIVE,
    GUARDIAN,
    MISSING_ROLE,
    NODE_TYPES,
    ORACLE,
    PAUSED,
    ZERO_ADDRESS,
    application_id,
)

APP = application_id(1000)


def test_mint__records_license_and_emits_events(license, minter, alice, chain):
    tx = license.mint(alice, ORACLE, APP, sender=minter)

    assert tx.return_value == 1
    assert license.ownerOf(1) == alice.address
    assert license.balanceOf(alice) == 1
    assert license.totalSupply() == 1
    assert license.tokenByIndex(0) == 1
    assert license.tokenOfOwnerByIndex(alice, 0) == 1
    data = license.license_of(1)
    assert (data.node_type, data.status, data.minted_block) == (ORACLE, ACTIVE, tx.block_number)
    assert data.application_id == APP
    assert license.token_of(alice, ORACLE) == 1
    assert license.is_active(alice, ORACLE) is True
    assert license.token_of_application(APP) == 1
    assert license.supply_of(ORACLE) == 1
    assert license.active_count(ORACLE) == 1
    assert license.locked(1) is True

    [minted] = tx.decode_logs(license.LicenseMinted)
    assert minted.token_id == 1
    assert minted.owner == alice.address
    assert minted.actor == minter.address
    assert minted.node_type == ORACLE
    assert minted.application_id == APP
    [transfer] = tx.decode_logs(license.Transfer)
    assert (transfer.sender, transfer.receiver, transfer.token_id) == (
        ZERO_ADDRESS,
        alice.address,
        1,
    )
    [locked] = tx.decode_logs(license.Locked)
    assert locked.tokenId == 1


def test_mint__token_ids_are_sequential_from_one(license, mint, alice, bob, carol):
    assert [mint(alice), mint(bob), mint(carol, ORACLE)] == [1, 2, 3]


def test_mint__one_license_per_type_up_to_three_per_owner(license, mint, alice):
    ids = [mint(alice, node_type) for node_type in NODE_TYPES]
    assert license.balanceOf(alice) == 3
    assert [license.token_of(alice, t) for t in NODE_TYPES] == ids
    assert all(license.is_active(alice, t) for t in NODE_TYPES)


def test_mint__counters_are_per_node_type(license, mint, alice, bob, carol):
    mint(alice, ORACLE)
    mint(bob, ORACLE)
    mint(carol, GUARDIAN)
    assert [license.supply_of(t) for t in NODE_TYPES] == [2, 1, 0]
    assert [license.active_count(t) for t in NODE_TYPES] == [2, 1, 0]


def test_mint__without_minter_role__reverts(license, alice, deployer, revoker):
    for sender in (alice, deployer, revoker):
        with ape.reverts(MISSING_ROLE):
            license.mint(alice, ORACLE, APP, sender=sender)


def test_mint__after_minter_role_revoked__reverts(license, deployer, minter, alice):
    license.revokeRole(license.MINTER_ROLE(), minter, sender=deployer)
    with ape.reverts(MISSING_ROLE):
        license.mint(alice, ORACLE, APP, sender=minter)


def test_mint__while_paused__reverts(license, pauser, minter, alice):
    license.pause(sender=pauser)
    with ape.reverts(PAUSED):
        license.mint(alice, ORACLE, APP, sender=minter)


@pytest.mark.parametrize("node_type", [0, 4, 255])
def test_mint__invalid_node_type__reverts(license, minter, alice, node_type):
    with ape.reverts("NodeLicense: invalid node type"):
        license.mint(alice, node_type, APP, sender=minter)


def test_mint__to_zero_address__reverts(license, minter):
    with ape.reverts("NodeLicense: mint to the zero address"):
        license.mint(ZERO_ADDRESS, ORACLE, APP, sender=minter)


def test_mint__empty_application_id__reverts(license, minter, alice):
    with ape.reverts("NodeLicense: empty application id"):
        license.mint(alice, ORACLE, b"\x00" * 32, sender=minter)


def test_mint__application_already_used__reverts(license, mint, minter, alice, bob):
    mint(alice, ORACLE, APP)
    with ape.reverts("NodeLicense: application already used"):
        license.mint(bob, ORACLE, APP, sender=minter)


def test_mint__application_used_by_revoked_license__reverts(license, mint, minter, revoker, alice):
    token_id = mint(alice, ORACLE, APP)
    license.revoke(token_id, "fraud", sender=revoker)
    assert license.token_of_application(APP) == token_id
    with ape.reverts("NodeLicense: application already used"):
        license.mint(alice, ORACLE, APP, sender=minter)


def test_mint__owner_already_licensed__reverts(license, mint, minter, alice):
    mint(alice, ORACLE)
    with ape.reverts("NodeLicense: owner already licensed"):
        license.mint(alice, ORACLE, APP, sender=minter)


def test_mint__owner_with_suspended_license__reverts(license, mint, minter, revoker, alice):
    token_id = mint(alice, ORACLE)
    license.suspend(token_id, "late", sender=revoker)
    with ape.reverts("NodeLicense: owner already licensed"):
        license.mint(alice, ORACLE, APP, sender=minter)


def test_mint__after_revoke__owner_can_be_licensed_again(license, mint, revoker, alice):
    first = mint(alice, ORACLE)
    license.revoke(first, "expired", sender=revoker)
    second = mint(alice, ORACLE)
    assert second == first + 1
    assert license.token_of(alice, ORACLE) == second


def test_mint__supply_cap_reached__reverts(license, mint, minter, deployer, alice, bob, carol):
    license.set_supply_cap(ORACLE, 2, sender=deployer)
    mint(alice, ORACLE)
    mint(bob, ORACLE)
    with ape.reverts("NodeLicense: supply cap reached"):
        license.mint(carol, ORACLE, APP, sender=minter)
    # the cap is per node type
    mint(carol, GUARDIAN)


def test_mint__suspended_licenses_count_against_the_cap(
    license, mint, minter, deployer, revoker, alice, bob
):
    license.set_supply_cap(ORACLE, 1, sender=deployer)
    token_id = mint(alice, ORACLE)
    license.suspend(token_id, "late", sender=revoker)
    with ape.reverts("NodeLicense: supply cap reached"):
        license.mint(bob, ORACLE, APP, sender=minter)


def test_mint__revoke_frees_a_capped_slot(license, mint, deployer, revoker, alice, bob):
    license.set_supply_cap(ORACLE, 1, sender=deployer)
    token_id = mint(alice, ORACLE)
    license.revoke(token_id, "expired", sender=revoker)
    assert mint(bob, ORACLE) == token_id + 1
    assert license.supply_of(ORACLE) == 1


def test_mint__cap_zero_means_no_cap(license, mint, deployer, accounts):
    license.set_supply_cap(ORACLE, 1, sender=deployer)
    license.set_supply_cap(ORACLE, 0, sender=deployer)
    for account in list(accounts)[:5]:
        mint(account, ORACLE)
    assert license.supply_of(ORACLE) == 5


def test_mint__to_a_contract_calls_no_receiver_hook(license, mint, project, deployer):
    # PlainERC721 implements no onERC721Received: a safe mint would revert.
    receiver = deployer.deploy(project.PlainERC721, "P", "P", "", "P", "1")
    token_id = mint(receiver, ORACLE)
    assert license.ownerOf(token_id) == receiver.address
