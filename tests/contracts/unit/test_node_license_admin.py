"""NodeLicense admin functions: reassign, set_supply_cap, pause/unpause and roles."""

import ape
import pytest

from tests.contracts.license_constants import (
    DEFAULT_ADMIN_ROLE,
    GUARDIAN,
    MINTER_ROLE,
    MISSING_ROLE,
    NONEXISTENT,
    NOT_PAUSED,
    ORACLE,
    PAUSED,
    PAUSER_ROLE,
    SUSPENDED,
    ZERO_ADDRESS,
)


@pytest.fixture
def token_id(mint, alice):
    """A live, Active Oracle license held by alice: the operational roles' kind (a
    Validator license's lifecycle is governance's, see test_node_license_governed.py)."""
    return mint(alice, ORACLE)

# --- reassign ------------------------------------------------------------------------


def test_reassign__moves_license_and_emits_events(license, token_id, admin, alice, bob):
    before = license.license_of(token_id)
    tx = license.reassign(token_id, bob, "lost key", sender=admin)

    assert license.ownerOf(token_id) == bob.address
    assert license.license_of(token_id) == before
    assert license.token_of(alice, ORACLE) == 0
    assert license.token_of(bob, ORACLE) == token_id
    assert license.is_active(bob, ORACLE) is True
    assert license.is_active(alice, ORACLE) is False
    assert (license.balanceOf(alice), license.balanceOf(bob)) == (0, 1)
    assert license.tokenOfOwnerByIndex(bob, 0) == token_id
    assert license.supply_of(ORACLE) == 1
    assert license.active_count(ORACLE) == 1

    [event] = tx.decode_logs(license.LicenseReassigned)
    assert event.token_id == token_id
    assert event.previous_owner == alice.address
    assert event.actor == admin.address
    assert event.new_owner == bob.address
    assert event.reason == "lost key"
    [transfer] = tx.decode_logs(license.Transfer)
    assert (transfer.sender, transfer.receiver, transfer.token_id) == (
        alice.address,
        bob.address,
        token_id,
    )


def test_reassign__keeps_suspended_status(license, token_id, admin, revoker, bob):
    license.suspend(token_id, "x", sender=revoker)
    license.reassign(token_id, bob, "lost key", sender=admin)
    assert license.license_of(token_id).status == SUSPENDED
    assert license.is_active(bob, ORACLE) is False


def test_reassign__target_with_other_node_type(license, mint, token_id, admin, bob):
    guardian_id = mint(bob, GUARDIAN)
    license.reassign(token_id, bob, "merge", sender=admin)
    assert license.token_of(bob, GUARDIAN) == guardian_id
    assert license.token_of(bob, ORACLE) == token_id


def test_reassign__target_already_licensed__reverts(license, mint, token_id, admin, bob):
    mint(bob, ORACLE)
    with ape.reverts("NodeLicense: owner already licensed"):
        license.reassign(token_id, bob, "lost key", sender=admin)


def test_reassign__to_current_owner__reverts(license, token_id, admin, alice):
    with ape.reverts("NodeLicense: already the owner"):
        license.reassign(token_id, alice, "lost key", sender=admin)


def test_reassign__to_zero_address__reverts(license, token_id, admin):
    with ape.reverts("NodeLicense: reassign to the zero address"):
        license.reassign(token_id, ZERO_ADDRESS, "lost key", sender=admin)


def test_reassign__nonexistent_token__reverts(license, admin, bob):
    with ape.reverts(NONEXISTENT):
        license.reassign(1, bob, "lost key", sender=admin)


def test_reassign__empty_reason__reverts(license, token_id, admin, bob):
    with ape.reverts("NodeLicense: empty reason"):
        license.reassign(token_id, bob, "", sender=admin)


def test_reassign__while_paused__works(license, token_id, admin, pauser, bob):
    """The pause binds the operational roles, never governance: a pauser must not hold
    back a passed proposal until it expires."""
    license.pause(sender=pauser)
    license.reassign(token_id, bob, "lost key", sender=admin)
    assert license.ownerOf(token_id) == bob.address


def test_reassign__without_admin_role__reverts(license, token_id, alice, minter, revoker, bob):
    for sender in (alice, minter, revoker):
        with ape.reverts(MISSING_ROLE):
            license.reassign(token_id, bob, "lost key", sender=sender)


# --- set_supply_cap ------------------------------------------------------------------


def test_set_supply_cap__sets_and_emits_event(license, admin):
    tx = license.set_supply_cap(ORACLE, 21, sender=admin)
    assert license.supply_cap(ORACLE) == 21
    assert license.supply_cap(GUARDIAN) == 0
    [event] = tx.decode_logs(license.SupplyCapSet)
    assert (event.node_type, event.actor, event.previous_cap, event.new_cap) == (
        ORACLE,
        admin.address,
        0,
        21,
    )

    tx = license.set_supply_cap(ORACLE, 0, sender=admin)
    assert license.supply_cap(ORACLE) == 0
    [event] = tx.decode_logs(license.SupplyCapSet)
    assert (event.previous_cap, event.new_cap) == (21, 0)


def test_set_supply_cap__keeps_supply_and_active_count(license, mint, admin, alice, bob):
    mint(alice, ORACLE)
    mint(bob, ORACLE)
    license.set_supply_cap(ORACLE, 2, sender=admin)
    assert license.supply_of(ORACLE) == 2
    assert license.active_count(ORACLE) == 2


def test_set_supply_cap__equal_to_supply(license, mint, admin, alice):
    mint(alice, ORACLE)
    license.set_supply_cap(ORACLE, 1, sender=admin)
    assert license.supply_cap(ORACLE) == 1


def test_set_supply_cap__below_supply__reverts(license, mint, admin, alice, bob):
    mint(alice, ORACLE)
    mint(bob, ORACLE)
    with ape.reverts("NodeLicense: cap below supply"):
        license.set_supply_cap(ORACLE, 1, sender=admin)


def test_set_supply_cap__largest_cap(license, admin):
    license.set_supply_cap(ORACLE, 2**64 - 1, sender=admin)
    assert license.supply_cap(ORACLE) == 2**64 - 1


def test_set_supply_cap__too_large__reverts(license, admin):
    with ape.reverts("NodeLicense: cap too large"):
        license.set_supply_cap(ORACLE, 2**64, sender=admin)


@pytest.mark.parametrize("node_type", [0, 4])
def test_set_supply_cap__invalid_node_type__reverts(license, admin, node_type):
    with ape.reverts("NodeLicense: invalid node type"):
        license.set_supply_cap(node_type, 5, sender=admin)


def test_set_supply_cap__while_paused__works(license, admin, pauser):
    license.pause(sender=pauser)
    license.set_supply_cap(ORACLE, 5, sender=admin)
    assert license.supply_cap(ORACLE) == 5


def test_set_supply_cap__without_admin_role__reverts(license, minter, pauser, alice):
    for sender in (minter, pauser, alice):
        with ape.reverts(MISSING_ROLE):
            license.set_supply_cap(ORACLE, 5, sender=sender)


# --- pause / unpause -----------------------------------------------------------------


def test_pause__and_unpause__emit_events(license, pauser, mint, alice):
    tx = license.pause(sender=pauser)
    assert license.paused() is True
    assert tx.decode_logs(license.Paused)[0].account == pauser.address

    tx = license.unpause(sender=pauser)
    assert license.paused() is False
    assert tx.decode_logs(license.Unpaused)[0].account == pauser.address
    assert mint(alice) == 1


def test_pause__already_paused__reverts(license, pauser):
    license.pause(sender=pauser)
    with ape.reverts(PAUSED):
        license.pause(sender=pauser)


def test_unpause__not_paused__reverts(license, pauser):
    with ape.reverts(NOT_PAUSED):
        license.unpause(sender=pauser)


def test_pause__without_pauser_role__reverts(license, admin, minter, alice):
    for sender in (admin, minter, alice):
        with ape.reverts(MISSING_ROLE):
            license.pause(sender=sender)


def test_unpause__without_pauser_role__reverts(license, pauser, admin, alice):
    license.pause(sender=pauser)
    for sender in (admin, alice):
        with ape.reverts(MISSING_ROLE):
            license.unpause(sender=sender)


# --- roles ---------------------------------------------------------------------------


def test_grant_role__by_admin__emits_event(license, admin, alice):
    tx = license.grantRole(MINTER_ROLE, alice, sender=admin)
    assert license.hasRole(MINTER_ROLE, alice)
    [event] = tx.decode_logs(license.RoleGranted)
    assert (event.role, event.account, event.sender) == (MINTER_ROLE, alice.address, admin.address)


def test_grant_role__without_admin_role__reverts(license, minter, alice):
    with ape.reverts(MISSING_ROLE):
        license.grantRole(MINTER_ROLE, alice, sender=minter)


def test_revoke_role__by_admin__emits_event(license, admin, pauser):
    tx = license.revokeRole(PAUSER_ROLE, pauser, sender=admin)
    assert not license.hasRole(PAUSER_ROLE, pauser)
    [event] = tx.decode_logs(license.RoleRevoked)
    assert (event.role, event.account, event.sender) == (PAUSER_ROLE, pauser.address, admin.address)
    with ape.reverts(MISSING_ROLE):
        license.pause(sender=pauser)


def test_revoke_role__without_admin_role__reverts(license, pauser, minter):
    with ape.reverts(MISSING_ROLE):
        license.revokeRole(MINTER_ROLE, minter, sender=pauser)


def test_renounce_role__handover_of_admin(license, admin, alice):
    # The deploy script's handover: grant the admin role to the timelock, renounce it.
    license.grantRole(DEFAULT_ADMIN_ROLE, alice, sender=admin)
    tx = license.renounceRole(DEFAULT_ADMIN_ROLE, admin, sender=admin)
    assert not license.hasRole(DEFAULT_ADMIN_ROLE, admin)
    assert tx.decode_logs(license.RoleRevoked)[0].account == admin.address
    with ape.reverts(MISSING_ROLE):
        license.set_supply_cap(ORACLE, 1, sender=admin)
    license.set_supply_cap(ORACLE, 1, sender=alice)


def test_renounce_role__for_another_account__reverts(license, admin, minter):
    with ape.reverts("access_control: can only renounce roles for itself"):
        license.renounceRole(MINTER_ROLE, minter, sender=admin)
