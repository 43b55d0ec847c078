"""Governance: the propose transaction, votes given by the operator's policy only (FOR a
suspension backed by verified double-sign evidence, AGAINST a mint to an unknown account,
ABSTAIN otherwise), the tally mirror against hand-computed NodeGovernor counts and states,
and the queue / execute decision."""

from __future__ import annotations

import pytest
from eth_abi import decode
from eth_utils import keccak

from node.errors import InvalidParameter
from node.validator.calls import MINT, ProposalCall
from node.validator.governance import (
    CastVote,
    ProposalCore,
    State,
    Support,
    VoteContext,
    VotePolicy,
    cast_vote,
    execute_proposal,
    submit_proposal,
    tally_proposal,
)
from node.validator.stake import apply_penalty, detect_double_sign
from tests.node.validator.helpers import DOMAIN, KEYS, eth_keys_recover, pre_prepare

GOVERNOR = "0x" + "6" * 40
LICENSE = "0x" + "5" * 40
APPLICANT = "0x" + "7" * 40
STRANGER = "0x" + "8" * 40
POLICY = VotePolicy.parse({"rules": [{"when": "suspends_double_signer", "vote": "for"},
                                     {"when": "mints_to_unknown", "vote": "against"}],
                           "otherwise": "abstain"})


def evidence():
    return detect_double_sign([pre_prepare(KEYS[0], 8, 0, 1, 2, 3),
                               pre_prepare(KEYS[0], 8, 0, 4, 5, 6)], DOMAIN, eth_keys_recover)[0]


def context(*known_evidence) -> VoteContext:
    return VoteContext(LICENSE, {1: KEYS[0].address, 2: KEYS[1].address}, [APPLICANT],
                       {item.digest: item for item in known_evidence}, DOMAIN, eth_keys_recover)


def mint(to: str) -> ProposalCall:
    return ProposalCall.of([LICENSE], [0], [MINT.calldata(to, 3, b"\x01" * 32)], f"Admit {to}")


def test_submit_proposal__penalty__propose_calldata_of_the_four_arrays():
    proposal = apply_penalty(evidence(), LICENSE, 1)

    transaction = submit_proposal(GOVERNOR, proposal, proposer_votes=1, proposal_threshold=1)

    assert transaction.to == GOVERNOR
    assert transaction.data[:4] == keccak(text="propose(address[],uint256[],bytes[],string)")[:4]
    targets, values, calldatas, description = decode(
        ["address[]", "uint256[]", "bytes[]", "string"], transaction.data[4:])
    assert (targets, values, calldatas, description) == (
        (LICENSE,), (0,), proposal.calldatas, proposal.description)


def test_submit_proposal__proposer_below_threshold__refused():
    with pytest.raises(InvalidParameter, match="threshold"):
        submit_proposal(GOVERNOR, mint(APPLICANT), proposer_votes=0, proposal_threshold=1)


@pytest.mark.parametrize(("arrays", "match"), [
    (([], [], []), "1 to 8"),
    (([LICENSE] * 9, [0] * 9, [b""] * 9), "1 to 8"),
    (([LICENSE], [0, 0], [b""]), "length"),
    (([LICENSE], [0], [b"\x00" * 1025]), "1024 bytes"),
    (([LICENSE], [-1], [b""]), "non-negative"),
])
def test_proposal_call__outside_the_governor_bounds__refused(arrays, match):
    with pytest.raises(InvalidParameter, match=match):
        ProposalCall.of(*arrays, "description")


def test_cast_vote__suspension_with_verified_evidence__for():
    proven = evidence()

    ballot = cast_vote(GOVERNOR, apply_penalty(proven, LICENSE, 1), State.ACTIVE, POLICY,
                       context(proven))

    assert (ballot.support, ballot.rule) == (Support.FOR, "suspends_double_signer")
    proposal_id, support, reason = decode(["uint256", "uint8", "string"],
                                          ballot.transaction.data[4:])
    assert (proposal_id, support) == (apply_penalty(proven, LICENSE, 1).proposal_id, 1)
    assert "suspends_double_signer" in reason


def test_cast_vote__forged_evidence__not_for():
    """The defence: evidence whose second message is another signer's (a forgery naming the
    accused) does not make the policy vote to suspend."""
    proven = evidence()
    forged = type(proven)(proven.signer, 8, 0, "pre_prepare", proven.first,
                          pre_prepare(KEYS[1], 8, 0, 7, 8, 9))

    ballot = cast_vote(GOVERNOR, apply_penalty(forged, LICENSE, 1), State.ACTIVE, POLICY,
                       context(forged))

    assert ballot.support is Support.ABSTAIN


def test_cast_vote__suspension_of_someone_else__not_for():
    proven = evidence()

    ballot = cast_vote(GOVERNOR, apply_penalty(proven, LICENSE, 2), State.ACTIVE, POLICY,
                       context(proven))

    assert ballot.support is Support.ABSTAIN


def test_cast_vote__mint_to_unknown__against_and_to_known__abstain():
    against = cast_vote(GOVERNOR, mint(STRANGER), State.ACTIVE, POLICY, context())
    known = cast_vote(GOVERNOR, mint(APPLICANT), State.ACTIVE, POLICY, context())

    assert (against.support, against.rule) == (Support.AGAINST, "mints_to_unknown")
    assert (known.support, known.rule) == (Support.ABSTAIN, "otherwise")


@pytest.mark.parametrize("state", [State.PENDING, State.SUCCEEDED, State.DEFEATED])
def test_cast_vote__proposal_not_active__no_ballot(state):
    assert cast_vote(GOVERNOR, mint(STRANGER), state, POLICY, context()) is None


def test_cast_vote__no_rule_applies_and_no_default__no_ballot():
    policy = VotePolicy.parse({"rules": [{"when": "mints_to_unknown", "vote": "against"}]})

    assert cast_vote(GOVERNOR, mint(APPLICANT), State.ACTIVE, policy, context()) is None


@pytest.mark.parametrize("declared", [
    {"rules": [{"when": "always", "vote": "for"}]},
    {"rules": [{"when": "mints_to_unknown", "vote": "yes"}]},
    {"otherwise": "maybe"},
])
def test_vote_policy__unknown_condition_or_vote__refused(declared):
    with pytest.raises(InvalidParameter):
        VotePolicy.parse(declared)


def votes(*supports: Support) -> list[CastVote]:
    return [CastVote("0x" + f"{index:040x}", index, support)
            for index, support in enumerate(supports, start=1)]


CORE = ProposalCore(vote_start=10, vote_end=20)
TIMES = {"block": 21, "timestamp": 1_000, "grace_period": 100}


def test_tally_proposal__quorum_and_majority__hand_computed():
    # 5 live licenses, 50%: quorum ceil(2.5) = 3; For 2 + Abstain 1 reach it; 2 For > 1 Against.
    tally = tally_proposal(votes(Support.FOR, Support.FOR, Support.AGAINST, Support.ABSTAIN),
                           CORE, live_supply=5, quorum_numerator=50, **TIMES)

    assert (tally.for_votes, tally.against_votes, tally.abstain_votes) == (2, 1, 1)
    assert (tally.quorum, tally.quorum_reached, tally.succeeded) == (3, True, True)
    assert tally.state is State.SUCCEEDED


def test_tally_proposal__tie_or_short_of_quorum__defeated():
    tie = tally_proposal(votes(Support.FOR, Support.AGAINST, Support.ABSTAIN), CORE,
                         live_supply=4, quorum_numerator=50, **TIMES)
    short = tally_proposal(votes(Support.FOR, Support.FOR), CORE, live_supply=5,
                           quorum_numerator=50, **TIMES)

    assert (tie.quorum_reached, tie.succeeded, tie.state) == (True, False, State.DEFEATED)
    assert (short.quorum, short.quorum_reached, short.state) == (3, False, State.DEFEATED)


@pytest.mark.parametrize(("core", "block", "timestamp", "state"), [
    (CORE, 10, 0, State.PENDING),               # up to and including the snapshot block
    (CORE, 11, 0, State.ACTIVE),
    (CORE, 20, 0, State.ACTIVE),                # up to and including the deadline
    (ProposalCore(10, 20, eta=500), 21, 599, State.QUEUED),
    (ProposalCore(10, 20, eta=500), 21, 600, State.EXPIRED),   # eta + grace
    (ProposalCore(10, 20, eta=500, timelock="done"), 21, 0, State.EXECUTED),
    (ProposalCore(10, 20, eta=500, timelock="absent"), 21, 0, State.CANCELED),
    (ProposalCore(10, 20, executed=True), 21, 0, State.EXECUTED),
    (ProposalCore(10, 20, canceled=True), 5, 0, State.CANCELED),
])
def test_tally_proposal__state__as_the_governor_reads_it(core, block, timestamp, state):
    tally = tally_proposal(votes(Support.FOR, Support.FOR), core, live_supply=4,
                           quorum_numerator=50, block=block, timestamp=timestamp,
                           grace_period=100)

    assert tally.state is state


def test_tally_proposal__license_counted_twice__refused():
    twice = votes(Support.FOR) * 2
    with pytest.raises(InvalidParameter, match="twice"):
        tally_proposal(twice, CORE, live_supply=4, quorum_numerator=50, **TIMES)


def test_execute_proposal__succeeded__queue_call():
    proposal = mint(APPLICANT)

    step = execute_proposal(GOVERNOR, proposal, State.SUCCEEDED, 0, 1_000)

    assert step.action == "queue"
    data = step.transaction.data
    assert data[:4] == keccak(text="queue(address[],uint256[],bytes[],bytes32)")[:4]
    arguments = decode(["address[]", "uint256[]", "bytes[]", "bytes32"], data[4:])
    assert arguments[3] == keccak(text=proposal.description)


@pytest.mark.parametrize(("state", "now", "action", "at"), [
    (State.QUEUED, 499, "wait", 500),
    (State.QUEUED, 500, "execute", 500),
    (State.ACTIVE, 0, "wait", None),
    (State.EXPIRED, 10_000, "none", None),
    (State.EXECUTED, 10_000, "none", None),
    (State.DEFEATED, 10_000, "none", None),
])
def test_execute_proposal__by_state_and_eta__decides(state, now, action, at):
    step = execute_proposal(GOVERNOR, mint(APPLICANT), state, 500, now)

    assert step.action == action
    assert (step.transaction is not None) == (action == "execute")
    if at is not None:
        assert step.at == at
