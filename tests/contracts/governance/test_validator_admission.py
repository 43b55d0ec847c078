"""Voting power comes from governance alone: a validator is admitted by a passed proposal,
and no MINTER, REVOKER or PAUSER holder can add or remove a vote on its own."""

import ape

from onchain.deploy import genesis_application_id
from tests.contracts.governance_setup import (
    AGAINST,
    EXECUTED,
    FOR,
    QUEUED,
    SUCCEEDED,
    call,
)
from tests.contracts.license_constants import (
    ADMITTED,
    DEFAULT_ADMIN_ROLE,
    GOVERNED,
    VALIDATOR,
    application_id,
)


def test_genesis_validators__hold_the_first_votes(license, validators, timelock):
    assert license.active_count(VALIDATOR) == 4
    for account, token_id in validators.items():
        data = license.license_of(token_id)
        assert data.node_type == VALIDATOR
        assert data.application_id == genesis_application_id(account.address)
    assert license.hasRole(DEFAULT_ADMIN_ROLE, timelock)


def test_admission__propose_vote_queue_execute__validator_minted(
    governor, license, queued, wait_for_eta, mallory, deployer, timelock
):
    app_id = application_id(7)
    admit = call(license, "mint", mallory.address, VALIDATOR, app_id)
    proposal_id = queued(admit)
    assert governor.state(proposal_id) == QUEUED
    wait_for_eta(proposal_id)

    tx = governor.execute(*admit.args, sender=deployer)

    assert governor.state(proposal_id) == EXECUTED
    [minted] = tx.decode_logs(license.LicenseMinted)
    assert (minted.owner, minted.actor, minted.node_type) == (
        mallory.address, timelock.address, VALIDATOR)
    assert minted.application_id == app_id
    assert license.is_active(mallory, VALIDATOR)
    assert license.active_count(VALIDATOR) == 5


def test_admission__while_paused__still_executes(
    governor, license, queued, wait_for_eta, pauser, mallory, deployer
):
    """A pauser cannot hold back a passed proposal until it expires."""
    admit = call(license, "mint", mallory.address, VALIDATOR, application_id(8))
    proposal_id = queued(admit)
    license.pause(sender=pauser)
    wait_for_eta(proposal_id)

    governor.execute(*admit.args, sender=deployer)

    assert license.is_active(mallory, VALIDATOR)


def test_capture__minter_mints_itself_validators__reverts_at_the_mint(
    governor, license, minter, accounts, alice, propose
):
    """The review's reproduction: MINTER_ROLE mints five Validator licenses to keys it
    controls to outvote the honest validators on `grantRole(DEFAULT_ADMIN_ROLE, minter)`.
    It now stops at the first mint, and the proposal stays with the honest majority."""
    sybils = [accounts.generate_test_account() for _ in range(5)]
    for n, sybil in enumerate(sybils):
        with ape.reverts(ADMITTED):
            license.mint(sybil, VALIDATOR, application_id(100 + n), sender=minter)
    assert license.active_count(VALIDATOR) == 4

    grab = call(license, "grantRole", DEFAULT_ADMIN_ROLE, minter.address)
    proposal_id = propose(grab, sender=alice)
    assert governor.get_votes(minter, governor.proposal_snapshot(proposal_id) - 1) == 0
    assert all(governor.get_votes(sybil, governor.proposal_snapshot(proposal_id) - 1) == 0
               for sybil in sybils)


def test_capture__revoker_cannot_suspend_or_revoke_validators(
    license, revoker, validators, bob, carol
):
    """Suspending before a snapshot would remove votes; revoking would lower the quorum."""
    with ape.reverts(GOVERNED):
        license.suspend(validators[bob], "offline", sender=revoker)
    with ape.reverts(GOVERNED):
        license.revoke(validators[carol], "fraud", sender=revoker)
    assert license.active_count(VALIDATOR) == 4


def test_capture__pause_blocks_neither_voting_nor_outcome(
    governor, license, proposal, propose, mine_to_active, mine_past_deadline, pauser,
    alice, bob, carol,
):
    proposal_id = propose(proposal)
    license.pause(sender=pauser)
    mine_to_active(proposal_id)

    governor.cast_vote(proposal_id, FOR, sender=alice)
    governor.cast_vote(proposal_id, FOR, sender=bob)
    governor.cast_vote(proposal_id, AGAINST, sender=carol)
    mine_past_deadline(proposal_id)

    assert governor.state(proposal_id) == SUCCEEDED
