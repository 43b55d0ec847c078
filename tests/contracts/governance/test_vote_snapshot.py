"""Voting power is fixed at the snapshot: who votes, and with which license.

An account votes with the Validator license it held, Active, at the end of the
proposal's snapshot block (NodeLicense.validator_license_at). A license not Active at
the snapshot cannot vote; nothing a REVOKER or the admin does afterwards adds or
removes a vote. The quorum counts live (Active or Suspended) licenses at the
snapshot, so suspending validators before a snapshot does not lower it.
"""

import ape
import pytest

from tests.contracts.governance_setup import AGAINST, DEFEATED, FOR, SUCCEEDED, call
from tests.contracts.license_constants import DEFAULT_ADMIN_ROLE, VALIDATOR

NOT_ACTIVE_AT_SNAPSHOT = "NodeGovernor: license not active at snapshot"


@pytest.fixture
def mine_to_snapshot_block(chain, governor):
    """Mine so that the next transaction lands in the proposal's snapshot block."""

    def _mine(proposal_id):
        blocks = governor.proposal_snapshot(proposal_id) - 1 - chain.blocks.head.number
        if blocks > 0:
            chain.mine(blocks)

    return _mine


def test_cast_vote__suspended_before_snapshot_then_reinstated__reverts(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, validators
):
    proposal_id = propose(proposal)
    license.suspend(validators[alice], "missed heartbeats", sender=as_timelock)
    mine_to_active(proposal_id)
    tx = license.reinstate(validators[alice], sender=as_timelock)
    [event] = tx.decode_logs(license.LicenseReinstated)
    assert (event.token_id, event.owner) == (validators[alice], alice)

    with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
        governor.cast_vote(proposal_id, FOR, sender=alice)

    assert license.is_active(alice, VALIDATOR)
    assert governor.get_votes(alice, governor.proposal_snapshot(proposal_id)) == 0


def test_cast_vote__suspended_in_snapshot_block__reverts(
    governor, proposal, propose, mine_to_snapshot_block, mine_to_active, license, as_timelock,
    alice, validators,
):
    proposal_id = propose(proposal)
    mine_to_snapshot_block(proposal_id)
    tx = license.suspend(validators[alice], "missed heartbeats", sender=as_timelock)
    assert tx.block_number == governor.proposal_snapshot(proposal_id)
    mine_to_active(proposal_id)
    license.reinstate(validators[alice], sender=as_timelock)

    with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
        governor.cast_vote(proposal_id, FOR, sender=alice)


def test_cast_vote__suspended_after_snapshot__counts(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, validators
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    license.suspend(validators[alice], "missed heartbeats", sender=as_timelock)

    tx = governor.cast_vote(proposal_id, FOR, sender=alice)

    [event] = tx.decode_logs(governor.VoteCast)
    assert (event.voter, event.token_id, event.support, event.weight) == (
        alice, validators[alice], FOR, 1
    )
    assert governor.proposal_votes(proposal_id) == (0, 1, 0)
    assert not license.is_active(alice, VALIDATOR)


def test_cast_vote__revoked_after_snapshot__former_holder_counts(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, validators
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    license.revoke(validators[alice], "fraud", sender=as_timelock)
    assert license.token_of(alice, VALIDATOR) == 0

    tx = governor.cast_vote(proposal_id, AGAINST, sender=alice)

    [event] = tx.decode_logs(governor.VoteCast)
    assert (event.voter, event.token_id) == (alice, validators[alice])
    assert governor.proposal_votes(proposal_id) == (1, 0, 0)


def test_cast_vote__revoked_before_snapshot__reverts(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, validators
):
    proposal_id = propose(proposal)
    license.revoke(validators[alice], "fraud", sender=as_timelock)
    mine_to_active(proposal_id)

    with ape.reverts("NodeGovernor: no validator license"):
        governor.cast_vote(proposal_id, FOR, sender=alice)


def test_cast_vote__reassigned_after_snapshot__old_key_votes_new_key_cannot(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, mallory,
    validators,
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    reassigned = license.reassign(validators[alice], mallory, "lost key", sender=as_timelock)
    [event] = reassigned.decode_logs(license.LicenseReassigned)
    assert (event.token_id, event.previous_owner, event.new_owner) == (
        validators[alice], alice, mallory
    )

    with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
        governor.cast_vote(proposal_id, FOR, sender=mallory)
    tx = governor.cast_vote(proposal_id, FOR, sender=alice)

    [vote] = tx.decode_logs(governor.VoteCast)
    assert (vote.voter, vote.token_id) == (alice, validators[alice])
    with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
        governor.cast_vote(proposal_id, FOR, sender=mallory)
    assert governor.proposal_votes(proposal_id) == (0, 1, 0)
    assert not governor.has_voted(proposal_id, mallory)


def test_cast_vote__reassigned_after_old_key_voted__new_key_cannot_vote_again(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, mallory,
    validators,
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    governor.cast_vote(proposal_id, FOR, sender=alice)
    license.reassign(validators[alice], mallory, "lost key", sender=as_timelock)

    with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
        governor.cast_vote(proposal_id, AGAINST, sender=mallory)

    assert governor.proposal_votes(proposal_id) == (0, 1, 0)
    assert governor.token_has_voted(proposal_id, validators[alice])


def test_cast_vote__reassigned_before_snapshot__new_key_votes(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, mallory,
    validators,
):
    proposal_id = propose(proposal)
    license.reassign(validators[alice], mallory, "lost key", sender=as_timelock)
    mine_to_active(proposal_id)

    with ape.reverts("NodeGovernor: no validator license"):
        governor.cast_vote(proposal_id, FOR, sender=alice)
    tx = governor.cast_vote(proposal_id, FOR, sender=mallory)

    [vote] = tx.decode_logs(governor.VoteCast)
    assert (vote.voter, vote.token_id) == (mallory, validators[alice])


def test_cast_vote_by_sig__suspended_after_snapshot__counts(
    governor, proposal, propose, mine_to_active, license, as_timelock, sign_ballot, alice, bob,
    validators,
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    license.suspend(validators[alice], "missed heartbeats", sender=as_timelock)
    signature = sign_ballot(alice, proposal_id, AGAINST)

    tx = governor.cast_vote_by_sig(proposal_id, AGAINST, alice, signature, sender=bob)

    [vote] = tx.decode_logs(governor.VoteCast)
    assert (vote.voter, vote.token_id, vote.support) == (alice, validators[alice], AGAINST)


def test_quorum__counts_suspended_licenses(
    governor, proposal, propose, mine_to_active, mine_past_deadline, license, as_timelock,
    alice, bob, carol, validators,
):
    license.suspend(validators[bob], "offline", sender=as_timelock)
    license.suspend(validators[carol], "offline", sender=as_timelock)
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    governor.cast_vote(proposal_id, FOR, sender=alice)
    mine_past_deadline(proposal_id)

    snapshot = governor.proposal_snapshot(proposal_id)
    assert license.active_count_at(VALIDATOR, snapshot) == 2
    assert governor.quorum(snapshot) == 2  # 50% of the 4 live licenses, not of the 2 Active
    assert governor.state(proposal_id) == DEFEATED


def test_attack__revoker_suspends_all_others_before_snapshot__defeated(
    governor, license, propose, mine_to_active, mine_past_deadline, revoker, deployer,
    alice, bob, carol, dave, validators,
    as_timelock,
):
    """The review's attack: every validator but the REVOKER's ally alice is suspended, alice
    proposes to make the REVOKER admin; after the snapshot its pick (carol) is reinstated to
    vote For, and the honest validators try to vote Against. A REVOKER can no longer touch
    Validator licenses (test_validator_admission.py); played here by the admin, the tally
    still follows the snapshot."""
    grab = call(license, "grantRole", DEFAULT_ADMIN_ROLE, revoker.address)
    for victim in (bob, carol, dave):
        license.suspend(validators[victim], "offline", sender=as_timelock)
    proposal_id = propose(grab, sender=alice)
    mine_to_active(proposal_id)
    license.reinstate(validators[carol], sender=as_timelock)

    governor.cast_vote(proposal_id, FOR, sender=alice)
    with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
        governor.cast_vote(proposal_id, FOR, sender=carol)
    for honest in (bob, dave):
        with ape.reverts(NOT_ACTIVE_AT_SNAPSHOT):
            governor.cast_vote(proposal_id, AGAINST, sender=honest)
    mine_past_deadline(proposal_id)

    assert governor.quorum(governor.proposal_snapshot(proposal_id)) == 2
    assert governor.proposal_votes(proposal_id) == (0, 1, 0)
    assert governor.state(proposal_id) == DEFEATED
    with ape.reverts("NodeGovernor: proposal not successful"):
        governor.queue(*grab.args, sender=deployer)
    assert not license.hasRole(DEFAULT_ADMIN_ROLE, revoker)


def test_attack__revoker_suspends_against_voters_during_vote__their_votes_count(
    governor, license, propose, mine_to_active, mine_past_deadline, revoker, alice, bob, carol,
    dave, validators,
    as_timelock,
):
    grab = call(license, "grantRole", DEFAULT_ADMIN_ROLE, revoker.address)
    proposal_id = propose(grab, sender=alice)
    mine_to_active(proposal_id)
    governor.cast_vote(proposal_id, FOR, sender=alice)
    governor.cast_vote(proposal_id, FOR, sender=carol)
    for honest in (bob, dave):
        license.suspend(validators[honest], "offline", sender=as_timelock)

    for honest in (bob, dave):
        governor.cast_vote(proposal_id, AGAINST, sender=honest)
    mine_past_deadline(proposal_id)

    assert governor.proposal_votes(proposal_id) == (2, 2, 0)
    assert governor.state(proposal_id) == DEFEATED


def test_attack__honest_majority_at_snapshot__passes_despite_suspensions(
    governor, proposal, propose, mine_to_active, mine_past_deadline, license, as_timelock,
    alice, bob, carol, validators,
):
    """The other direction: suspending For voters during the vote cannot defeat them."""
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    for voter in (alice, bob, carol):
        license.suspend(validators[voter], "offline", sender=as_timelock)
        governor.cast_vote(proposal_id, FOR, sender=voter)
    mine_past_deadline(proposal_id)

    assert governor.state(proposal_id) == SUCCEEDED


def test_get_votes__past_block__status_at_that_block(
    governor, chain, license, as_timelock, alice, validators
):
    suspended = license.suspend(validators[alice], "offline", sender=as_timelock).block_number
    reinstated = license.reinstate(validators[alice], sender=as_timelock).block_number
    chain.mine()

    assert governor.get_votes(alice, suspended - 1) == 1
    assert governor.get_votes(alice, suspended) == 0
    assert governor.get_votes(alice, reinstated) == 1


def test_get_votes__reassigned__each_key_at_its_blocks(
    governor, chain, license, as_timelock, alice, mallory, validators
):
    moved = license.reassign(validators[alice], mallory, "lost key", sender=as_timelock)
    chain.mine()

    assert governor.get_votes(alice, moved.block_number - 1) == 1
    assert governor.get_votes(mallory, moved.block_number - 1) == 0
    assert governor.get_votes(alice, moved.block_number) == 0
    assert governor.get_votes(mallory, moved.block_number) == 1
