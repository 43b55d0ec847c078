"""cast_vote / cast_vote_with_reason: who may vote, snapshot semantics, tallies, VoteCast."""

import ape

from tests.contracts.governance_setup import ABSTAIN, ACTIVE, AGAINST, FOR
from tests.contracts.license_constants import ORACLE, VALIDATOR


def test_cast_vote__validator__counts_and_emits(
    governor, proposal, propose, mine_to_active, alice, validators
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    assert governor.state(proposal_id) == ACTIVE

    tx = governor.cast_vote(proposal_id, FOR, sender=alice)

    assert tx.return_value == 1
    assert governor.proposal_votes(proposal_id) == (0, 1, 0)
    assert governor.has_voted(proposal_id, alice)
    assert governor.token_has_voted(proposal_id, validators[alice])
    [event] = tx.decode_logs(governor.VoteCast)
    assert event.voter == alice
    assert event.proposal_id == proposal_id
    assert event.token_id == validators[alice]
    assert event.support == FOR
    assert event.weight == 1
    assert event.reason == ""


def test_cast_vote__each_support__tallies_separately(
    governor, proposal, propose, mine_to_active, alice, bob, carol, dave
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)

    governor.cast_vote(proposal_id, AGAINST, sender=alice)
    governor.cast_vote(proposal_id, FOR, sender=bob)
    governor.cast_vote(proposal_id, FOR, sender=carol)
    governor.cast_vote(proposal_id, ABSTAIN, sender=dave)

    assert governor.proposal_votes(proposal_id) == (1, 2, 1)


def test_cast_vote_with_reason__records_reason(
    governor, proposal, propose, mine_to_active, bob, validators
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)

    tx = governor.cast_vote_with_reason(proposal_id, AGAINST, "too soon", sender=bob)

    assert tx.return_value == 1
    [event] = tx.decode_logs(governor.VoteCast)
    assert (event.voter, event.proposal_id, event.token_id) == (bob, proposal_id, validators[bob])
    assert (event.support, event.weight, event.reason) == (AGAINST, 1, "too soon")
    assert governor.proposal_votes(proposal_id) == (1, 0, 0)


def test_cast_vote__while_pending__reverts(governor, proposal, propose, alice):
    proposal_id = propose(proposal)

    with ape.reverts("NodeGovernor: vote not currently active"):
        governor.cast_vote(proposal_id, FOR, sender=alice)


def test_cast_vote__at_snapshot_block__reverts(governor, proposal, propose, chain, alice):
    proposal_id = propose(proposal)
    blocks_to_snapshot = governor.proposal_snapshot(proposal_id) - chain.blocks.head.number
    chain.mine(blocks_to_snapshot - 1)  # the vote below is mined in the snapshot block

    with ape.reverts("NodeGovernor: vote not currently active"):
        governor.cast_vote(proposal_id, FOR, sender=alice)


def test_cast_vote__at_deadline_block__counts(governor, proposal, propose, chain, alice):
    proposal_id = propose(proposal)
    chain.mine(governor.proposal_deadline(proposal_id) - chain.blocks.head.number - 1)

    tx = governor.cast_vote(proposal_id, FOR, sender=alice)

    assert tx.block_number == governor.proposal_deadline(proposal_id)
    assert governor.proposal_votes(proposal_id) == (0, 1, 0)


def test_cast_vote__after_deadline__reverts(governor, proposal, propose, mine_past_deadline, alice):
    proposal_id = propose(proposal)
    mine_past_deadline(proposal_id)

    with ape.reverts("NodeGovernor: vote not currently active"):
        governor.cast_vote(proposal_id, FOR, sender=alice)


def test_cast_vote__unknown_proposal__reverts(governor, alice):
    with ape.reverts("NodeGovernor: unknown proposal"):
        governor.cast_vote(42, FOR, sender=alice)


def test_cast_vote__invalid_support__reverts(governor, proposal, propose, mine_to_active, alice):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)

    with ape.reverts("NodeGovernor: invalid vote type"):
        governor.cast_vote(proposal_id, 3, sender=alice)


def test_cast_vote__without_license__reverts(governor, proposal, propose, mine_to_active, mallory):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)

    with ape.reverts("NodeGovernor: no validator license"):
        governor.cast_vote(proposal_id, FOR, sender=mallory)


def test_cast_vote__oracle_license__reverts(
    governor, proposal, propose, mine_to_active, license, minter, mallory
):
    license.mint(mallory, ORACLE, b"\x02" * 32, sender=minter)
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)

    with ape.reverts("NodeGovernor: no validator license"):
        governor.cast_vote(proposal_id, FOR, sender=mallory)


def test_cast_vote__twice__reverts(governor, proposal, propose, mine_to_active, alice):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    governor.cast_vote(proposal_id, FOR, sender=alice)

    with ape.reverts("NodeGovernor: license already voted"):
        governor.cast_vote(proposal_id, AGAINST, sender=alice)


def test_cast_vote__license_minted_after_snapshot__reverts(
    governor, proposal, propose, mine_to_active, license, as_timelock, mallory
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    license.mint(mallory, VALIDATOR, b"\x03" * 32, sender=as_timelock)

    with ape.reverts("NodeGovernor: license minted after snapshot"):
        governor.cast_vote(proposal_id, FOR, sender=mallory)


def test_cast_vote__license_minted_before_snapshot__counts(
    governor, proposal, propose, mine_to_active, license, as_timelock, mallory
):
    proposal_id = propose(proposal)
    license.mint(mallory, VALIDATOR, b"\x04" * 32, sender=as_timelock)  # still before the snapshot
    mine_to_active(proposal_id)

    governor.cast_vote(proposal_id, FOR, sender=mallory)

    assert governor.proposal_votes(proposal_id) == (0, 1, 0)


def test_cast_vote__license_minted_in_snapshot_block__counts(
    governor, proposal, propose, chain, mine_to_active, license, as_timelock, mallory
):
    proposal_id = propose(proposal)
    snapshot = governor.proposal_snapshot(proposal_id)
    chain.mine(snapshot - 1 - chain.blocks.head.number)
    minted = license.mint(mallory, VALIDATOR, b"\x08" * 32, sender=as_timelock)
    assert minted.block_number == snapshot
    mine_to_active(proposal_id)

    governor.cast_vote(proposal_id, FOR, sender=mallory)

    assert governor.proposal_votes(proposal_id) == (0, 1, 0)
    assert governor.quorum(snapshot) == 3  # 50% of the 5 licenses active at the snapshot


def test_cast_vote__license_reinstated_before_vote__counts(
    governor, proposal, propose, mine_to_active, license, as_timelock, alice, validators
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    license.suspend(validators[alice], "missed heartbeats", sender=as_timelock)
    license.reinstate(validators[alice], sender=as_timelock)

    governor.cast_vote(proposal_id, FOR, sender=alice)

    assert governor.token_has_voted(proposal_id, validators[alice])


def test_has_voted__before_voting__is_false(governor, proposal, propose, alice, validators):
    proposal_id = propose(proposal)

    assert not governor.has_voted(proposal_id, alice)
    assert not governor.token_has_voted(proposal_id, validators[alice])


def test_get_votes__active_validator__is_one(governor, chain, alice):
    assert governor.get_votes(alice, chain.blocks.head.number) == 1


def test_get_votes__without_license__is_zero(governor, chain, mallory):
    assert governor.get_votes(mallory, chain.blocks.head.number) == 0


def test_get_votes__suspended__is_zero(governor, chain, license, as_timelock, alice, validators):
    license.suspend(validators[alice], "offline", sender=as_timelock)

    assert governor.get_votes(alice, chain.blocks.head.number) == 0


def test_get_votes__before_mint_block__is_zero(governor, license, as_timelock, mallory):
    tx = license.mint(mallory, VALIDATOR, b"\x05" * 32, sender=as_timelock)

    assert governor.get_votes(mallory, tx.block_number - 1) == 0
    assert governor.get_votes(mallory, tx.block_number) == 1
