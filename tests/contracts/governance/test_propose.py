"""propose: threshold, shape checks, ids, the ProposalCreated event."""

import ape

from tests.contracts.governance_setup import PENDING, VOTING_DELAY, VOTING_PERIOD, Proposal
from tests.contracts.license_constants import ORACLE


def test_propose__by_validator__creates_pending_proposal(governor, proposal, alice, chain):
    tx = governor.propose(*proposal.propose_args, sender=alice)

    proposal_id = tx.return_value
    assert proposal_id == governor.hash_proposal(*proposal.args)
    snapshot = tx.block_number + VOTING_DELAY
    assert governor.state(proposal_id) == PENDING
    assert governor.proposal_snapshot(proposal_id) == snapshot
    assert governor.proposal_deadline(proposal_id) == snapshot + VOTING_PERIOD
    assert governor.proposal_proposer(proposal_id) == alice
    assert governor.proposal_eta(proposal_id) == 0
    assert governor.proposal_votes(proposal_id) == (0, 0, 0)
    [event] = tx.decode_logs(governor.ProposalCreated)
    assert event.proposal_id == proposal_id
    assert event.proposer == alice
    assert event.targets == proposal.targets
    assert event.values == proposal.values
    assert [bytes(c) for c in event.calldatas] == [bytes(c) for c in proposal.calldatas]
    assert event.vote_start == snapshot
    assert event.vote_end == snapshot + VOTING_PERIOD
    assert event.description == proposal.description


def test_propose__batch_of_eight_actions__succeeds(governor, alice):
    calldata = governor.set_voting_delay.encode_input(1)
    prop = Proposal([governor.address] * 8, [0] * 8, [calldata] * 8, "eight actions")

    tx = governor.propose(*prop.propose_args, sender=alice)

    [event] = tx.decode_logs(governor.ProposalCreated)
    assert len(event.targets) == 8


def test_propose__without_license__reverts(governor, proposal, mallory):
    with ape.reverts("NodeGovernor: proposer votes below proposal threshold"):
        governor.propose(*proposal.propose_args, sender=mallory)


def test_propose__with_non_validator_license__reverts(governor, proposal, license, minter, mallory):
    license.mint(mallory, ORACLE, b"\x01" * 32, sender=minter)

    with ape.reverts("NodeGovernor: proposer votes below proposal threshold"):
        governor.propose(*proposal.propose_args, sender=mallory)


def test_propose__with_suspended_license__reverts(
    governor, proposal, license, as_timelock, alice, validators
):
    license.suspend(validators[alice], "offline", sender=as_timelock)

    with ape.reverts("NodeGovernor: proposer votes below proposal threshold"):
        governor.propose(*proposal.propose_args, sender=alice)


def test_propose__threshold_zero__anyone_can_propose(governor, proposal, as_timelock, mallory):
    governor.set_proposal_threshold(0, sender=as_timelock)

    proposal_id = governor.propose(*proposal.propose_args, sender=mallory).return_value

    assert governor.proposal_proposer(proposal_id) == mallory


def test_propose__empty__reverts(governor, alice):
    with ape.reverts("NodeGovernor: empty proposal"):
        governor.propose([], [], [], "nothing", sender=alice)


def test_propose__values_length_mismatch__reverts(governor, proposal, alice):
    with ape.reverts("NodeGovernor: invalid proposal length"):
        governor.propose(proposal.targets, [0, 0], proposal.calldatas, "x", sender=alice)


def test_propose__calldatas_length_mismatch__reverts(governor, proposal, alice):
    with ape.reverts("NodeGovernor: invalid proposal length"):
        governor.propose(proposal.targets, proposal.values, [], "x", sender=alice)


def test_propose__same_proposal_twice__reverts(governor, proposal, alice, bob):
    governor.propose(*proposal.propose_args, sender=alice)

    with ape.reverts("NodeGovernor: proposal already exists"):
        governor.propose(*proposal.propose_args, sender=bob)


def test_propose__same_actions_new_description__is_a_new_proposal(governor, proposal, alice):
    first = governor.propose(*proposal.propose_args, sender=alice).return_value
    other = Proposal(proposal.targets, proposal.values, proposal.calldatas, "again, please")

    second = governor.propose(*other.propose_args, sender=alice).return_value

    assert first != second
    assert governor.state(second) == PENDING


def test_state__unknown_proposal__reverts(governor):
    with ape.reverts("NodeGovernor: unknown proposal"):
        governor.state(12345)


def test_proposal_views__unknown_proposal__are_zero(governor):
    assert governor.proposal_snapshot(1) == 0
    assert governor.proposal_deadline(1) == 0
    assert governor.proposal_eta(1) == 0
    assert governor.proposal_proposer(1) == "0x0000000000000000000000000000000000000000"
