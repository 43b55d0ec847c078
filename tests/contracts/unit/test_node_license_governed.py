"""A Validator license's lifecycle belongs to DEFAULT_ADMIN_ROLE (governance) alone.

No holder of MINTER, REVOKER or PAUSER can create or remove voting power: minting a
Validator adds a vote, suspending one before a snapshot takes a vote away, revoking one
lowers the quorum. The pause binds the operational roles, never the admin.
"""

import ape
import pytest

from tests.contracts.license_constants import (
    ACTIVE,
    ADMITTED,
    GOVERNED,
    GUARDIAN,
    MISSING_ROLE,
    ORACLE,
    SUSPENDED,
    VALIDATOR,
    application_id,
)

APP = application_id(2000)


@pytest.fixture
def operators(minter, revoker, pauser, mallory):
    """Every account that is not the admin: the operational roles and a stranger."""
    return (minter, revoker, pauser, mallory)


def test_mint_validator__by_anyone_but_admin__reverts(license, operators, alice):
    for sender in operators:
        with ape.reverts(ADMITTED):
            license.mint(alice, VALIDATOR, APP, sender=sender)


def test_mint_validator__minter_mints_itself_a_majority__reverts(license, minter, accounts):
    """The review's capture starts here: MINTER_ROLE mints Validators to its own keys."""
    for n in range(5):
        with ape.reverts(ADMITTED):
            license.mint(
                accounts.generate_test_account(), VALIDATOR, application_id(n), sender=minter
            )
    assert license.supply_of(VALIDATOR) == 0


def test_mint_validator__by_admin__mints_and_names_admin_as_actor(license, admin, alice):
    tx = license.mint(alice, VALIDATOR, APP, sender=admin)

    [minted] = tx.decode_logs(license.LicenseMinted)
    assert (minted.owner, minted.actor) == (alice.address, admin.address)
    assert minted.node_type == VALIDATOR
    assert license.is_active(alice, VALIDATOR)


def test_mint_validator__by_admin_while_paused__works(license, admin, pauser, alice):
    license.pause(sender=pauser)

    token_id = license.mint(alice, VALIDATOR, APP, sender=admin).return_value

    assert license.license_of(token_id).status == ACTIVE


@pytest.mark.parametrize("node_type", [ORACLE, GUARDIAN])
def test_mint_other_types__by_admin_without_minter_role__reverts(license, admin, alice, node_type):
    with ape.reverts(MISSING_ROLE):
        license.mint(alice, node_type, APP, sender=admin)


@pytest.mark.parametrize("node_type", [ORACLE, GUARDIAN])
def test_mint_other_types__by_minter__works(license, minter, alice, node_type):
    token_id = license.mint(alice, node_type, APP, sender=minter).return_value

    assert license.license_of(token_id).node_type == node_type


def test_suspend_validator__by_anyone_but_admin__reverts(license, token_id, operators):
    for sender in operators:
        with ape.reverts(GOVERNED):
            license.suspend(token_id, "offline", sender=sender)
    assert license.license_of(token_id).status == ACTIVE


def test_reinstate_validator__by_anyone_but_admin__reverts(license, token_id, admin, operators):
    license.suspend(token_id, "offline", sender=admin)
    for sender in operators:
        with ape.reverts(GOVERNED):
            license.reinstate(token_id, sender=sender)
    assert license.license_of(token_id).status == SUSPENDED


def test_revoke_validator__by_anyone_but_admin__reverts(license, token_id, operators):
    for sender in operators:
        with ape.reverts(GOVERNED):
            license.revoke(token_id, "fraud", sender=sender)
    assert license.supply_of(VALIDATOR) == 1


def test_validator_lifecycle__by_admin_while_paused__works(license, token_id, admin, pauser):
    license.pause(sender=pauser)

    suspended = license.suspend(token_id, "offline", sender=admin)
    reinstated = license.reinstate(token_id, sender=admin)
    revoked = license.revoke(token_id, "fraud", sender=admin)

    assert suspended.decode_logs(license.LicenseSuspended)[0].actor == admin.address
    assert reinstated.decode_logs(license.LicenseReinstated)[0].actor == admin.address
    assert revoked.decode_logs(license.LicenseRevoked)[0].actor == admin.address
    assert license.supply_of(VALIDATOR) == 0


def test_revoker__still_governs_oracle_and_guardian_licenses(license, mint, revoker, alice, bob):
    oracle, guardian = mint(alice, ORACLE), mint(bob, GUARDIAN)

    license.suspend(oracle, "offline", sender=revoker)
    license.reinstate(oracle, sender=revoker)
    license.revoke(guardian, "fraud", sender=revoker)

    assert license.license_of(oracle).status == ACTIVE
    assert license.supply_of(GUARDIAN) == 0
