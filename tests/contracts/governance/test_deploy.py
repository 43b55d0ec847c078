"""NodeGovernor constructor and static views."""

import ape
from eth_abi import encode
from eth_utils import keccak

from tests.contracts.governance_setup import (
    GRACE_PERIOD,
    PROPOSAL_THRESHOLD,
    QUORUM_NUMERATOR,
    VOTING_DELAY,
    VOTING_PERIOD,
)

ZERO = "0x0000000000000000000000000000000000000000"


def deploy(project, deployer, license, timelock, **overrides):
    settings = {
        "voting_delay": VOTING_DELAY,
        "voting_period": VOTING_PERIOD,
        "threshold": PROPOSAL_THRESHOLD,
        "quorum": QUORUM_NUMERATOR,
        "grace": GRACE_PERIOD,
    }
    settings.update(overrides)
    return deployer.deploy(project.NodeGovernor, license, timelock, *settings.values())


def test_deploy__sets_settings_and_emits_events(project, chain, deployer, license, timelock):
    governor = deploy(project, deployer, license, timelock)

    assert governor.node_license() == license.address
    assert governor.timelock() == timelock.address
    assert governor.voting_delay() == VOTING_DELAY
    assert governor.voting_period() == VOTING_PERIOD
    assert governor.proposal_threshold() == PROPOSAL_THRESHOLD
    assert governor.quorum_numerator() == QUORUM_NUMERATOR
    assert governor.grace_period() == GRACE_PERIOD
    tx = chain.get_receipt(governor.txn_hash)
    [delay] = tx.decode_logs(governor.VotingDelaySet)
    assert (delay.old_voting_delay, delay.new_voting_delay) == (0, VOTING_DELAY)
    [period] = tx.decode_logs(governor.VotingPeriodSet)
    assert (period.old_voting_period, period.new_voting_period) == (0, VOTING_PERIOD)
    [threshold] = tx.decode_logs(governor.ProposalThresholdSet)
    assert (threshold.old_proposal_threshold, threshold.new_proposal_threshold) == (
        0,
        PROPOSAL_THRESHOLD,
    )
    [quorum] = tx.decode_logs(governor.QuorumNumeratorUpdated)
    assert (quorum.old_quorum_numerator, quorum.new_quorum_numerator) == (0, QUORUM_NUMERATOR)
    [grace] = tx.decode_logs(governor.GracePeriodSet)
    assert (grace.old_grace_period, grace.new_grace_period) == (0, GRACE_PERIOD)


def test_deploy__zero_license__reverts(project, deployer, timelock):
    with ape.reverts("NodeGovernor: license is the zero address"):
        deploy(project, deployer, ZERO, timelock)


def test_deploy__zero_timelock__reverts(project, deployer, license):
    with ape.reverts("NodeGovernor: timelock is the zero address"):
        deploy(project, deployer, license, ZERO)


def test_deploy__zero_voting_period__reverts(project, deployer, license, timelock):
    with ape.reverts("NodeGovernor: voting period too low"):
        deploy(project, deployer, license, timelock, voting_period=0)


def test_deploy__quorum_over_100__reverts(project, deployer, license, timelock):
    with ape.reverts("NodeGovernor: quorum numerator over denominator"):
        deploy(project, deployer, license, timelock, quorum=101)


def test_deploy__zero_grace_period__reverts(project, deployer, license, timelock):
    with ape.reverts("NodeGovernor: grace period too low"):
        deploy(project, deployer, license, timelock, grace=0)


def test_name_version_and_modes(governor):
    assert governor.name() == "NodeGovernor"
    assert governor.version() == "1"
    assert governor.COUNTING_MODE() == "support=bravo&quorum=for,abstain"
    assert governor.CLOCK_MODE() == "mode=blocknumber&from=default"
    assert governor.QUORUM_DENOMINATOR() == 100
    assert (governor.VOTE_AGAINST(), governor.VOTE_FOR(), governor.VOTE_ABSTAIN()) == (0, 1, 2)
    assert governor.VALIDATOR() == 3
    assert governor.MAX_ACTIONS() == 8
    states = [
        governor.STATE_PENDING(),
        governor.STATE_ACTIVE(),
        governor.STATE_CANCELED(),
        governor.STATE_DEFEATED(),
        governor.STATE_SUCCEEDED(),
        governor.STATE_QUEUED(),
        governor.STATE_EXPIRED(),
        governor.STATE_EXECUTED(),
    ]
    assert states == list(range(8))


def test_clock__is_block_number(governor, chain):
    assert governor.clock() == chain.blocks.head.number


def test_eip712_domain__matches_governor(governor, chain):
    fields, name, version, chain_id, verifying, salt, extensions = governor.eip712Domain()
    assert fields == b"\x0f"
    assert (name, version, chain_id, verifying) == (
        "NodeGovernor",
        "1",
        chain.chain_id,
        governor.address,
    )
    assert salt == b"\x00" * 32
    assert extensions == []


def test_ballot_typehash__is_eip712_type_hash(governor):
    expected = keccak(text="Ballot(uint256 proposalId,uint8 support,address voter,uint256 nonce)")
    assert governor.BALLOT_TYPEHASH() == expected


def test_hash_proposal__matches_openzeppelin_encoding(governor, proposal):
    encoded = encode(
        ["address[]", "uint256[]", "bytes[]", "bytes32"],
        [proposal.targets, proposal.values, proposal.calldatas, proposal.description_hash],
    )
    assert governor.hash_proposal(*proposal.args) == int.from_bytes(keccak(encoded), "big")
