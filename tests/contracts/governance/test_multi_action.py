"""Multi-action proposals end to end: propose -> vote -> queue (schedule_batch) -> execute.

Before NodeTimelock bounded its batch functions by MAX_ACTIONS, queuing or executing
any multi-action proposal cost about 1.6M gas (snekmate's 255-call bound).
"""

from eth_utils import keccak

from tests.contracts.governance_setup import EXECUTED, FOR, QUEUED, Proposal
from tests.contracts.license_constants import MINTER_ROLE, PAUSER_ROLE, VALIDATOR


def three_actions(license, governor, new_minter) -> Proposal:
    """Grant a role, set a supply cap (both on NodeLicense) and tune the governor."""
    return Proposal(
        [license.address, license.address, governor.address],
        [0, 0, 0],
        [
            license.grantRole.encode_input(MINTER_ROLE, new_minter),
            license.set_supply_cap.encode_input(VALIDATOR, 10),
            governor.set_voting_delay.encode_input(5),
        ],
        "Second minter, validator cap 10, voting delay 5",
    )


def pausers(license, accounts) -> Proposal:
    """One `grantRole(PAUSER_ROLE, account)` per account: actions that differ only in count."""
    return Proposal(
        [license.address] * len(accounts),
        [0] * len(accounts),
        [license.grantRole.encode_input(PAUSER_ROLE, a) for a in accounts],
        f"{len(accounts)} more pausers",
    )


def test_max_actions__is_timelock_max_batch_size(timelock, governor):
    assert governor.MAX_ACTIONS() == timelock.MAX_BATCH_SIZE()


def test_multi_action_proposal__passed__queues_and_executes_every_action(
    governor, timelock, license, propose, mine_to_active, mine_past_deadline, wait_for_eta,
    alice, bob, dave, deployer,
):
    prop = three_actions(license, governor, dave)

    proposal_id = propose(prop)
    mine_to_active(proposal_id)
    governor.cast_vote(proposal_id, FOR, sender=alice)
    governor.cast_vote(proposal_id, FOR, sender=bob)
    mine_past_deadline(proposal_id)
    queued = governor.queue(*prop.args, sender=deployer)
    wait_for_eta(proposal_id)
    executed = governor.execute(*prop.args, sender=deployer)

    op_id = timelock.hash_operation_batch(
        prop.targets, prop.values, prop.calldatas, b"\x00" * 32, salt(governor, prop)
    )
    [queued_event] = queued.decode_logs(governor.ProposalQueued)
    assert queued_event.proposal_id == proposal_id
    assert queued_event.eta == governor.proposal_eta(proposal_id)
    scheduled = queued.decode_logs(timelock.CallScheduled)
    assert [(e.id, e.index, e.target, e.payload) for e in scheduled] == [
        (op_id, i, target, calldata)
        for i, (target, calldata) in enumerate(zip(prop.targets, prop.calldatas, strict=True))
    ]
    assert [e.index for e in executed.decode_logs(timelock.CallExecuted)] == [0, 1, 2]
    [done] = executed.decode_logs(governor.ProposalExecuted)
    assert done.proposal_id == proposal_id
    [granted] = executed.decode_logs(license.RoleGranted)
    assert (granted.role, granted.account, granted.sender) == (
        MINTER_ROLE, dave.address, timelock.address
    )
    [capped] = executed.decode_logs(license.SupplyCapSet)
    assert (capped.node_type, capped.new_cap) == (VALIDATOR, 10)
    [delay] = executed.decode_logs(governor.VotingDelaySet)
    assert delay.new_voting_delay == 5

    assert license.hasRole(MINTER_ROLE, dave)
    assert license.supply_cap(VALIDATOR) == 10
    assert governor.voting_delay() == 5
    assert governor.state(proposal_id) == EXECUTED
    assert timelock.is_operation_done(op_id)


def test_multi_action_proposal__queued__is_one_batch_operation(
    governor, timelock, license, queued, dave
):
    prop = three_actions(license, governor, dave)

    proposal_id = queued(prop)

    assert governor.state(proposal_id) == QUEUED
    op_id = timelock.hash_operation_batch(
        prop.targets, prop.values, prop.calldatas, b"\x00" * 32, salt(governor, prop)
    )
    assert timelock.is_operation_pending(op_id)


def test_queue_and_execute__gas__grows_linearly_with_actions(
    governor, license, passed, wait_for_eta, accounts, deployer
):
    """A second action used to add ~1.5M gas; now each one adds a few thousand to queue and
    the action's own call plus a few thousand to execute."""
    costs = {}
    for count in (1, 2, 8):
        prop = pausers(license, [accounts.generate_test_account() for _ in range(count)])
        proposal_id = passed(prop)
        queue_gas = governor.queue(*prop.args, sender=deployer).gas_used
        wait_for_eta(proposal_id)
        costs[count] = (queue_gas, governor.execute(*prop.args, sender=deployer).gas_used)

    (queue_1, execute_1), (queue_2, execute_2), (queue_8, execute_8) = (
        costs[1], costs[2], costs[8]
    )
    assert queue_2 < queue_1 + 30_000
    assert execute_2 < execute_1 + 60_000
    assert (queue_8 - queue_2) / 6 < 15_000
    assert (execute_8 - execute_2) / 6 < 45_000


def salt(governor, prop) -> bytes:
    """OpenZeppelin's GovernorTimelockControl salt: bytes20(governor) ^ description hash."""
    value = (int(governor.address, 16) << 96) ^ int.from_bytes(keccak(text=prop.description), "big")
    return value.to_bytes(32, "big")
