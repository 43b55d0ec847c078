"""NodeLicense.suspend, reinstate and revoke: success paths, events, reverts."""

import ape
import pytest

from tests.contracts.license_constants import (
    ACTIVE,
    GUARDIAN,
    MISSING_ROLE,
    NONEXISTENT,
    ORACLE,
    PAUSED,
    SUSPENDED,
    ZERO_ADDRESS,
)


@pytest.fixture
def token_id(mint, alice):
    """A live, Active Oracle license held by alice: the operational roles' kind (a
    Validator license's lifecycle is governance's, see test_node_license_governed.py)."""
    return mint(alice, ORACLE)


@pytest.fixture
def suspended_id(license, token_id, revoker):
    """alice's Oracle license, Suspended."""
    license.suspend(token_id, "missed heartbeats", sender=revoker)
    return token_id


# --- suspend -------------------------------------------------------------------------


def test_suspend__marks_suspended_and_emits_event(license, token_id, revoker, alice):
    tx = license.suspend(token_id, "missed heartbeats", sender=revoker)

    assert license.license_of(token_id).status == SUSPENDED
    assert license.is_active(alice, ORACLE) is False
    assert license.token_of(alice, ORACLE) == token_id
    assert license.ownerOf(token_id) == alice.address
    assert license.active_count(ORACLE) == 0
    assert license.supply_of(ORACLE) == 1
    [event] = tx.decode_logs(license.LicenseSuspended)
    assert event.token_id == token_id
    assert event.owner == alice.address
    assert event.actor == revoker.address
    assert event.reason == "missed heartbeats"


def test_suspend__while_paused__works(license, token_id, revoker, pauser):
    license.pause(sender=pauser)
    license.suspend(token_id, "emergency", sender=revoker)
    assert license.license_of(token_id).status == SUSPENDED


def test_suspend__without_revoker_role__reverts(license, token_id, alice, minter, deployer):
    for sender in (alice, minter, deployer):
        with ape.reverts(MISSING_ROLE):
            license.suspend(token_id, "x", sender=sender)


def test_suspend__nonexistent_token__reverts(license, revoker):
    with ape.reverts(NONEXISTENT):
        license.suspend(1, "x", sender=revoker)


def test_suspend__already_suspended__reverts(license, suspended_id, revoker):
    with ape.reverts("NodeLicense: not active"):
        license.suspend(suspended_id, "again", sender=revoker)


def test_suspend__empty_reason__reverts(license, token_id, revoker):
    with ape.reverts("NodeLicense: empty reason"):
        license.suspend(token_id, "", sender=revoker)


def test_suspend__longest_reason(license, token_id, revoker):
    reason = "r" * 256
    tx = license.suspend(token_id, reason, sender=revoker)
    assert tx.decode_logs(license.LicenseSuspended)[0].reason == reason


# --- reinstate -----------------------------------------------------------------------


def test_reinstate__marks_active_and_emits_event(license, suspended_id, revoker, alice):
    tx = license.reinstate(suspended_id, sender=revoker)

    data = license.license_of(suspended_id)
    assert data.status == ACTIVE
    assert license.is_active(alice, ORACLE) is True
    assert license.active_count(ORACLE) == 1
    [event] = tx.decode_logs(license.LicenseReinstated)
    assert (event.token_id, event.owner, event.actor) == (
        suspended_id,
        alice.address,
        revoker.address,
    )


def test_reinstate__keeps_minted_block_and_application(license, token_id, revoker):
    before = license.license_of(token_id)
    license.suspend(token_id, "x", sender=revoker)
    license.reinstate(token_id, sender=revoker)
    assert license.license_of(token_id) == before


def test_reinstate__while_paused__reverts(license, suspended_id, revoker, pauser):
    license.pause(sender=pauser)
    with ape.reverts(PAUSED):
        license.reinstate(suspended_id, sender=revoker)


def test_reinstate__without_revoker_role__reverts(license, suspended_id, alice, deployer):
    for sender in (alice, deployer):
        with ape.reverts(MISSING_ROLE):
            license.reinstate(suspended_id, sender=sender)


def test_reinstate__active_license__reverts(license, token_id, revoker):
    with ape.reverts("NodeLicense: not suspended"):
        license.reinstate(token_id, sender=revoker)


def test_reinstate__nonexistent_token__reverts(license, revoker):
    with ape.reverts(NONEXISTENT):
        license.reinstate(7, sender=revoker)


# --- revoke --------------------------------------------------------------------------


def test_revoke__burns_and_emits_events(license, token_id, revoker, alice):
    app = license.license_of(token_id).application_id
    tx = license.revoke(token_id, "terms breached", sender=revoker)

    assert license.balanceOf(alice) == 0
    assert license.totalSupply() == 0
    assert license.token_of(alice, ORACLE) == 0
    assert license.is_active(alice, ORACLE) is False
    assert license.supply_of(ORACLE) == 0
    assert license.active_count(ORACLE) == 0
    assert license.token_of_application(app) == token_id
    with ape.reverts(NONEXISTENT):
        license.license_of(token_id)
    with ape.reverts("erc721: invalid token ID"):
        license.ownerOf(token_id)
    with ape.reverts(NONEXISTENT):
        license.locked(token_id)

    [event] = tx.decode_logs(license.LicenseRevoked)
    assert event.token_id == token_id
    assert event.owner == alice.address
    assert event.actor == revoker.address
    assert event.node_type == ORACLE
    assert event.reason == "terms breached"
    [transfer] = tx.decode_logs(license.Transfer)
    assert (transfer.sender, transfer.receiver, transfer.token_id) == (
        alice.address,
        ZERO_ADDRESS,
        token_id,
    )


def test_revoke__suspended_license(license, suspended_id, revoker, alice):
    tx = license.revoke(suspended_id, "never came back", sender=revoker)
    assert license.supply_of(ORACLE) == 0
    assert license.active_count(ORACLE) == 0
    assert tx.decode_logs(license.LicenseRevoked)[0].node_type == ORACLE


def test_revoke__keeps_other_licenses_of_owner(license, mint, token_id, revoker, alice):
    guardian_id = mint(alice, GUARDIAN)
    license.revoke(token_id, "x", sender=revoker)
    assert license.token_of(alice, GUARDIAN) == guardian_id
    assert license.tokenOfOwnerByIndex(alice, 0) == guardian_id
    assert license.balanceOf(alice) == 1


def test_revoke__while_paused__works(license, token_id, revoker, pauser):
    license.pause(sender=pauser)
    license.revoke(token_id, "emergency", sender=revoker)
    assert license.totalSupply() == 0


def test_revoke__without_revoker_role__reverts(license, token_id, alice, minter, deployer):
    for sender in (alice, minter, deployer):
        with ape.reverts(MISSING_ROLE):
            license.revoke(token_id, "x", sender=sender)


def test_revoke__twice__reverts(license, token_id, revoker):
    license.revoke(token_id, "x", sender=revoker)
    with ape.reverts(NONEXISTENT):
        license.revoke(token_id, "x", sender=revoker)


def test_revoke__empty_reason__reverts(license, token_id, revoker):
    with ape.reverts("NodeLicense: empty reason"):
        license.revoke(token_id, "", sender=revoker)
