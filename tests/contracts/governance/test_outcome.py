"""Outcome of a vote: quorum (at the snapshot, rounded up, For + Abstain) and For > Against."""

import ape

from tests.contracts.governance_setup import ABSTAIN, AGAINST, DEFEATED, FOR, SUCCEEDED
from tests.contracts.license_constants import VALIDATOR


def vote_and_close(governor, proposal_id, votes, mine_to_active, mine_past_deadline):
    mine_to_active(proposal_id)
    for account, support in votes:
        governor.cast_vote(proposal_id, support, sender=account)
    mine_past_deadline(proposal_id)
    return governor.state(proposal_id)


def test_state__quorum_and_majority__succeeded(
    governor, proposal, propose, mine_to_active, mine_past_deadline, alice, bob, carol
):
    proposal_id = propose(proposal)
    votes = [(alice, FOR), (bob, FOR), (carol, AGAINST)]

    assert (
        vote_and_close(governor, proposal_id, votes, mine_to_active, mine_past_deadline)
        == SUCCEEDED
    )


def test_state__below_quorum__defeated(
    governor, proposal, propose, mine_to_active, mine_past_deadline, alice
):
    proposal_id = propose(proposal)

    state = vote_and_close(
        governor, proposal_id, [(alice, FOR)], mine_to_active, mine_past_deadline
    )

    assert state == DEFEATED


def test_state__abstain_counts_for_quorum__succeeded(
    governor, proposal, propose, mine_to_active, mine_past_deadline, alice, bob
):
    proposal_id = propose(proposal)
    votes = [(alice, FOR), (bob, ABSTAIN)]

    assert (
        vote_and_close(governor, proposal_id, votes, mine_to_active, mine_past_deadline)
        == SUCCEEDED
    )


def test_state__tie__defeated(
    governor, proposal, propose, mine_to_active, mine_past_deadline, alice, bob
):
    proposal_id = propose(proposal)
    votes = [(alice, FOR), (bob, AGAINST)]

    assert (
        vote_and_close(governor, proposal_id, votes, mine_to_active, mine_past_deadline) == DEFEATED
    )


def test_state__no_votes__defeated(governor, proposal, propose, mine_to_active, mine_past_deadline):
    proposal_id = propose(proposal)

    assert vote_and_close(governor, proposal_id, [], mine_to_active, mine_past_deadline) == DEFEATED


def test_quorum__rounds_up(governor, chain, license, as_timelock, alice, validators):
    four = chain.blocks.head.number
    three = license.revoke(validators[alice], "left the network", sender=as_timelock).block_number
    quarter = governor.update_quorum_numerator(25, sender=as_timelock).block_number
    chain.mine()

    assert governor.quorum(four) == 2  # 50% of 4
    assert governor.quorum(three) == 2  # 50% of 3 = 1.5, rounded up
    assert governor.quorum(quarter) == 1  # 25% of 3 = 0.75, rounded up


def test_quorum__future_block__reverts(governor, chain):
    with ape.reverts("NodeLicense: future lookup"):
        governor.quorum(chain.blocks.head.number + 10)


def test_quorum__uses_count_at_snapshot(
    governor,
    proposal,
    propose,
    mine_to_active,
    mine_past_deadline,
    license,
    as_timelock,
    accounts,
    alice,
    bob,
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    for n in range(4):  # after the snapshot: 8 active validators now, 4 at the snapshot
        license.mint(
            accounts.generate_test_account(),
            VALIDATOR,
            (100 + n).to_bytes(32, "big"),
            sender=as_timelock,
        )
    governor.cast_vote(proposal_id, FOR, sender=alice)
    governor.cast_vote(proposal_id, FOR, sender=bob)
    mine_past_deadline(proposal_id)

    snapshot = governor.proposal_snapshot(proposal_id)
    assert governor.quorum(snapshot) == 2
    assert governor.quorum(snapshot + 1) == 2
    assert governor.quorum(governor.proposal_deadline(proposal_id)) == 4
    assert governor.state(proposal_id) == SUCCEEDED


def test_quorum__suspensions_after_snapshot_do_not_lower_it(
    governor,
    proposal,
    propose,
    mine_to_active,
    mine_past_deadline,
    license,
    as_timelock,
    alice,
    carol,
    dave,
    validators,
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    license.suspend(validators[carol], "offline", sender=as_timelock)
    license.suspend(validators[dave], "offline", sender=as_timelock)
    governor.cast_vote(proposal_id, FOR, sender=alice)  # 1 of a quorum of 2 (4 at the snapshot)
    mine_past_deadline(proposal_id)

    assert governor.state(proposal_id) == DEFEATED


def test_quorum__numerator_change_after_snapshot__keeps_old_quorum(
    governor, proposal, propose, mine_to_active, mine_past_deadline, as_timelock, alice, bob
):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    governor.update_quorum_numerator(100, sender=as_timelock)
    governor.cast_vote(proposal_id, FOR, sender=alice)
    governor.cast_vote(proposal_id, FOR, sender=bob)
    mine_past_deadline(proposal_id)

    assert governor.quorum(governor.proposal_snapshot(proposal_id)) == 2
    assert governor.quorum(governor.proposal_deadline(proposal_id)) == 4
    assert governor.state(proposal_id) == SUCCEEDED
