"""queue / execute / cancel and the timelock-driven states (Queued, Expired, Executed, Canceled)."""

import ape
import pytest

from tests.contracts.governance_setup import (
    ACTIVE,
    CANCELED,
    DEFEATED,
    EXECUTED,
    EXPIRED,
    GRACE_PERIOD,
    MIN_DELAY,
    PENDING,
    QUEUED,
    SUCCEEDED,
    Proposal,
    call,
)


def timelock_salt(governor, prop) -> bytes:
    """OpenZeppelin's GovernorTimelockControl salt: bytes20(governor) ^ description hash."""
    salt = (int(governor.address, 16) << 96) ^ int.from_bytes(prop.description_hash, "big")
    return salt.to_bytes(32, "big")


def operation_id(timelock, governor, prop):
    """The timelock operation of a proposal: a single call for one action, else a batch."""
    salt = timelock_salt(governor, prop)
    if len(prop.targets) == 1:
        return timelock.hash_operation(
            prop.targets[0], prop.values[0], prop.calldatas[0], b"\x00" * 32, salt
        )
    return timelock.hash_operation_batch(
        prop.targets, prop.values, prop.calldatas, b"\x00" * 32, salt
    )


@pytest.fixture(scope="module")
def as_governor(accounts, governor):
    """The governor as a sender: to act on the timelock behind the governor's back."""
    account = accounts[governor.address]
    account.balance += 10**18
    return account


def test_queue__succeeded__schedules_batch_in_timelock(
    governor, timelock, proposal, passed, chain, mallory
):
    proposal_id = passed(proposal)

    tx = governor.queue(*proposal.args, sender=mallory)

    assert tx.return_value == proposal_id
    eta = chain.blocks[tx.block_number].timestamp + MIN_DELAY
    assert governor.proposal_eta(proposal_id) == eta
    assert governor.state(proposal_id) == QUEUED
    [event] = tx.decode_logs(governor.ProposalQueued)
    assert (event.proposal_id, event.eta) == (proposal_id, eta)
    op_id = operation_id(timelock, governor, proposal)
    assert timelock.is_operation_pending(op_id)
    assert timelock.get_timestamp(op_id) == eta
    [scheduled] = tx.decode_logs(timelock.CallScheduled)
    assert (scheduled.id, scheduled.target, scheduled.delay) == (op_id, governor.address, MIN_DELAY)


def test_queue__still_active__reverts(governor, proposal, propose, mine_to_active):
    proposal_id = propose(proposal)
    mine_to_active(proposal_id)
    assert governor.state(proposal_id) == ACTIVE

    with ape.reverts("NodeGovernor: proposal not successful"):
        governor.queue(*proposal.args, sender=governor.proposal_proposer(proposal_id))


def test_queue__defeated__reverts(governor, proposal, propose, mine_past_deadline, alice):
    proposal_id = propose(proposal)
    mine_past_deadline(proposal_id)
    assert governor.state(proposal_id) == DEFEATED

    with ape.reverts("NodeGovernor: proposal not successful"):
        governor.queue(*proposal.args, sender=alice)


def test_queue__twice__reverts(governor, proposal, queued, alice):
    queued(proposal)

    with ape.reverts("NodeGovernor: proposal not successful"):
        governor.queue(*proposal.args, sender=alice)


def test_queue__unknown_proposal__reverts(governor, proposal, alice):
    with ape.reverts("NodeGovernor: unknown proposal"):
        governor.queue(*proposal.args, sender=alice)


def test_execute__after_delay__runs_calls_through_timelock(
    governor, timelock, proposal, queued, wait_for_eta, mallory
):
    proposal_id = queued(proposal)
    wait_for_eta(proposal_id)

    tx = governor.execute(*proposal.args, sender=mallory)

    assert tx.return_value == proposal_id
    assert governor.state(proposal_id) == EXECUTED
    assert governor.voting_delay() == 5
    [event] = tx.decode_logs(governor.ProposalExecuted)
    assert event.proposal_id == proposal_id
    [changed] = tx.decode_logs(governor.VotingDelaySet)
    assert changed.new_voting_delay == 5
    assert timelock.is_operation_done(operation_id(timelock, governor, proposal))


def test_execute__batch_with_value__forwards_value(
    governor, timelock, alice, bob, queued, wait_for_eta, new_minter
):
    calldata = governor.set_voting_period.encode_input(20)
    prop = Proposal(
        [governor.address, new_minter.address], [0, 123], [calldata, b""], "pay and tune"
    )
    proposal_id = queued(prop)
    wait_for_eta(proposal_id)
    before = new_minter.balance

    op_id = operation_id(timelock, governor, prop)
    assert timelock.is_operation_pending(op_id)  # scheduled as a batch

    tx = governor.execute(*prop.args, value=123, sender=alice)

    assert new_minter.balance == before + 123
    assert governor.voting_period() == 20
    assert timelock.is_operation_done(op_id)
    assert [log.index for log in tx.decode_logs(timelock.CallExecuted)] == [0, 1]


def test_execute__before_eta__reverts(governor, proposal, queued, wait_for_eta, alice):
    proposal_id = queued(proposal)
    wait_for_eta(proposal_id, extra=-10)

    with ape.reverts("NodeGovernor: timelock delay not elapsed"):
        governor.execute(*proposal.args, sender=alice)


def test_execute__not_queued__reverts(governor, proposal, passed, alice):
    proposal_id = passed(proposal)
    assert governor.state(proposal_id) == SUCCEEDED

    with ape.reverts("NodeGovernor: proposal not queued"):
        governor.execute(*proposal.args, sender=alice)


def test_execute__twice__reverts(governor, proposal, queued, wait_for_eta, alice):
    proposal_id = queued(proposal)
    wait_for_eta(proposal_id)
    governor.execute(*proposal.args, sender=alice)

    with ape.reverts("NodeGovernor: proposal not queued"):
        governor.execute(*proposal.args, sender=alice)


def test_execute__after_grace_period__expired_reverts(
    governor, proposal, queued, wait_for_eta, chain, alice
):
    proposal_id = queued(proposal)
    wait_for_eta(proposal_id, extra=GRACE_PERIOD)
    chain.mine()
    assert governor.state(proposal_id) == EXPIRED

    with ape.reverts("NodeGovernor: proposal expired"):
        governor.execute(*proposal.args, sender=alice)


def test_execute__last_second_of_grace_period__succeeds(
    governor, proposal, queued, wait_for_eta, alice
):
    proposal_id = queued(proposal)
    wait_for_eta(proposal_id, extra=GRACE_PERIOD - 1)

    governor.execute(*proposal.args, sender=alice)

    assert governor.state(proposal_id) == EXECUTED


def test_execute__failing_call__bubbles_revert_and_stays_queued(
    governor, queued, wait_for_eta, alice
):
    prop = call(governor, "set_voting_period", 0)
    proposal_id = queued(prop)
    wait_for_eta(proposal_id)

    with ape.reverts("NodeGovernor: voting period too low"):
        governor.execute(*prop.args, sender=alice)

    assert governor.state(proposal_id) == QUEUED


def test_state__operation_cancelled_in_timelock__canceled(
    governor, timelock, proposal, queued, as_governor
):
    proposal_id = queued(proposal)

    timelock.cancel(operation_id(timelock, governor, proposal), sender=as_governor)

    assert governor.state(proposal_id) == CANCELED


def test_state__operation_executed_on_timelock_directly__executed(
    governor, timelock, proposal, queued, wait_for_eta, as_governor
):
    proposal_id = queued(proposal)
    wait_for_eta(proposal_id)
    salt = timelock_salt(governor, proposal)

    timelock.execute(
        proposal.targets[0],
        proposal.values[0],
        proposal.calldatas[0],
        b"\x00" * 32,
        salt,
        sender=as_governor,
    )

    assert governor.state(proposal_id) == EXECUTED


def test_cancel__proposer_while_pending__canceled(governor, proposal, propose, alice):
    proposal_id = propose(proposal, sender=alice)

    tx = governor.cancel(*proposal.args, sender=alice)

    assert tx.return_value == proposal_id
    assert governor.state(proposal_id) == CANCELED
    [event] = tx.decode_logs(governor.ProposalCanceled)
    assert event.proposal_id == proposal_id


def test_cancel__then_vote__reverts(governor, proposal, propose, chain, alice, bob):
    proposal_id = propose(proposal, sender=alice)
    governor.cancel(*proposal.args, sender=alice)
    chain.mine(governor.proposal_snapshot(proposal_id) - chain.blocks.head.number)

    with ape.reverts("NodeGovernor: vote not currently active"):
        governor.cast_vote(proposal_id, 1, sender=bob)


def test_cancel__by_other_account__reverts(governor, proposal, propose, alice, bob):
    propose(proposal, sender=alice)

    with ape.reverts("NodeGovernor: only proposer can cancel"):
        governor.cancel(*proposal.args, sender=bob)


def test_cancel__once_active__reverts(governor, proposal, propose, mine_to_active, alice):
    proposal_id = propose(proposal, sender=alice)
    mine_to_active(proposal_id)

    with ape.reverts("NodeGovernor: proposal not pending"):
        governor.cancel(*proposal.args, sender=alice)


def test_cancel__twice__reverts(governor, proposal, propose, alice):
    proposal_id = propose(proposal, sender=alice)
    governor.cancel(*proposal.args, sender=alice)
    assert governor.state(proposal_id) == CANCELED

    with ape.reverts("NodeGovernor: proposal not pending"):
        governor.cancel(*proposal.args, sender=alice)


def test_cancel__unknown_proposal__reverts(governor, proposal, alice):
    with ape.reverts("NodeGovernor: unknown proposal"):
        governor.cancel(*proposal.args, sender=alice)


def test_state__lifecycle_codes(
    governor, proposal, propose, mine_to_active, mine_past_deadline, alice, bob
):
    proposal_id = propose(proposal)
    assert governor.state(proposal_id) == PENDING
    mine_to_active(proposal_id)
    assert governor.state(proposal_id) == ACTIVE
    governor.cast_vote(proposal_id, 1, sender=alice)
    governor.cast_vote(proposal_id, 1, sender=bob)
    assert governor.state(proposal_id) == ACTIVE
    mine_past_deadline(proposal_id)
    assert governor.state(proposal_id) == SUCCEEDED
