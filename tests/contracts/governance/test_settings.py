"""Settings: only governance (the timelock) may change them; each change emits its event."""

import ape
import pytest

from tests.contracts.governance_setup import (
    GRACE_PERIOD,
    PROPOSAL_THRESHOLD,
    QUORUM_NUMERATOR,
    VOTING_DELAY,
    VOTING_PERIOD,
    Proposal,
)

ONLY_GOVERNANCE = "NodeGovernor: only governance"

# setter, getter, event, old value, new value
SETTINGS = [
    ("set_voting_delay", "voting_delay", "VotingDelaySet", VOTING_DELAY, 7),
    ("set_voting_period", "voting_period", "VotingPeriodSet", VOTING_PERIOD, 30),
    ("set_proposal_threshold", "proposal_threshold", "ProposalThresholdSet", PROPOSAL_THRESHOLD, 0),
    ("update_quorum_numerator", "quorum_numerator", "QuorumNumeratorUpdated", QUORUM_NUMERATOR, 75),
    ("set_grace_period", "grace_period", "GracePeriodSet", GRACE_PERIOD, 3600),
]


@pytest.mark.parametrize(("setter", "getter", "event", "old", "new"), SETTINGS)
def test_setting__by_governance__updates_and_emits(
    governor, as_timelock, setter, getter, event, old, new
):
    tx = getattr(governor, setter)(new, sender=as_timelock)

    assert getattr(governor, getter)() == new
    [log] = tx.decode_logs(getattr(governor, event))
    assert list(log.event_arguments.values()) == [old, new]


@pytest.mark.parametrize(("setter", "getter", "event", "old", "new"), SETTINGS)
def test_setting__by_deployer__reverts(governor, deployer, setter, getter, event, old, new):
    with ape.reverts(ONLY_GOVERNANCE):
        getattr(governor, setter)(new, sender=deployer)

    assert getattr(governor, getter)() == old


@pytest.mark.parametrize("setter", [s[0] for s in SETTINGS])
def test_setting__by_validator__reverts(governor, alice, setter):
    with ape.reverts(ONLY_GOVERNANCE):
        getattr(governor, setter)(1, sender=alice)


def test_set_voting_period__zero__reverts(governor, as_timelock):
    with ape.reverts("NodeGovernor: voting period too low"):
        governor.set_voting_period(0, sender=as_timelock)


def test_set_grace_period__zero__reverts(governor, as_timelock):
    with ape.reverts("NodeGovernor: grace period too low"):
        governor.set_grace_period(0, sender=as_timelock)


def test_update_quorum_numerator__over_100__reverts(governor, as_timelock):
    with ape.reverts("NodeGovernor: quorum numerator over denominator"):
        governor.update_quorum_numerator(101, sender=as_timelock)


def test_set_voting_delay_and_period__apply_to_new_proposals(
    governor, proposal, alice, as_timelock
):
    governor.set_voting_delay(9, sender=as_timelock)
    governor.set_voting_period(30, sender=as_timelock)

    tx = governor.propose(*proposal.propose_args, sender=alice)

    assert governor.proposal_snapshot(tx.return_value) == tx.block_number + 9
    assert governor.proposal_deadline(tx.return_value) == tx.block_number + 9 + 30


def test_quorum_numerator_at__looks_up_history(governor, chain, as_timelock):
    blocks = [chain.blocks.head.number]
    for numerator in (60, 70, 80, 90):
        chain.mine(2)
        blocks.append(governor.update_quorum_numerator(numerator, sender=as_timelock).block_number)
    chain.mine()

    assert [governor.quorum_numerator_at(b) for b in blocks] == [50, 60, 70, 80, 90]
    assert [governor.quorum_numerator_at(b - 1) for b in blocks[1:]] == [50, 60, 70, 80]
    assert governor.quorum_numerator_at(0) == 0
    assert governor.quorum_numerator() == 90


def test_update_quorum_numerator__twice_in_one_block__last_wins(
    governor, queued, wait_for_eta, alice
):
    first = governor.update_quorum_numerator.encode_input(60)
    second = governor.update_quorum_numerator.encode_input(70)
    prop = Proposal([governor.address] * 2, [0, 0], [first, second], "quorum 60 then 70")
    proposal_id = queued(prop)
    wait_for_eta(proposal_id)

    tx = governor.execute(*prop.args, sender=alice)

    logs = tx.decode_logs(governor.QuorumNumeratorUpdated)
    assert [(log.old_quorum_numerator, log.new_quorum_numerator) for log in logs] == [
        (50, 60),
        (60, 70),
    ]
    assert governor.quorum_numerator_at(tx.block_number) == 70
    assert governor.quorum_numerator_at(tx.block_number - 1) == 50
