"""The Validator governance functions on the real governor: double-sign evidence against a
genesis validator becomes an apply_penalty proposal that submit_proposal creates with the id
the node computed; every validator's policy votes For; the tally mirror agrees with the
governor; execute_proposal queues and executes it; the timelock suspends the license. The
voting power replayed from the license's events matches the governor's at the snapshot."""

from __future__ import annotations

from node.consensus.messages import OracleValue, PrePrepare
from node.consensus.proposals import propose
from node.consensus.wire import Codec
from node.runtime.consensus_watch import recover_signer
from node.validator.calls import Transaction
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
from node.validator.stake import (
    LicenseEvent,
    apply_penalty,
    compute_voting_power,
    detect_double_sign,
)
from noderr.consensus_text import consensus_domain
from noderr.domain import LicenseStatus, NodeType
from tests.contracts.governance_setup import GRACE_PERIOD, MIN_DELAY, QUORUM_NUMERATOR

POLICY = VotePolicy.parse({"rules": [{"when": "suspends_double_signer", "vote": "for"}],
                           "otherwise": "abstain"})


def equivocation(account, domain: bytes) -> list[dict]:
    """Two pre-prepares `account` signed for round 3, view 0, over different values."""
    codec = Codec(account.address, domain,
                  lambda digest: account.sign_raw_msghash(digest).encode_rsv(), recover_signer)
    messages = []
    for value in (100, 200):
        made = propose(3, [OracleValue("0x" + "11" * 20, value)])
        messages.append(codec.encode(PrePrepare(account.address, 3, 0, made.digest, made)))
    return messages


def send(chain, sender, transaction: Transaction):
    """Sign and send a transaction the node built, as its operator's account would."""
    return sender.call(chain.provider.network.ecosystem.create_transaction(
        receiver=transaction.to, data=transaction.data))


def license_events(license_) -> list[LicenseEvent]:
    head = license_.chain_manager.blocks.head.number
    return [LicenseEvent("minted", log.token_id, log.block_number, log.log_index, log.owner,
                         NodeType(log.node_type))
            for log in license_.LicenseMinted.range(0, head + 1)]


def test_penalty__double_signer__proposed_voted_executed_and_suspended(
        chain, governor, license, validators, alice, bob, carol, dave):
    domain = consensus_domain(chain.chain_id)
    [evidence] = detect_double_sign(equivocation(alice, domain), domain, recover_signer)
    token = validators[alice]
    proposal = apply_penalty(evidence, license.address, token)

    proposer_votes = governor.get_votes(bob, chain.blocks.head.number - 1)
    receipt = send(chain, bob, submit_proposal(governor.address, proposal,
                                               proposer_votes=proposer_votes,
                                               proposal_threshold=governor.proposal_threshold()))

    [created] = receipt.decode_logs(governor.ProposalCreated)
    assert created.proposal_id == proposal.proposal_id == governor.hash_proposal(
        *proposal.arrays(), proposal.description_hash)
    assert governor.state(proposal.proposal_id) == State.PENDING
    snapshot = governor.proposal_snapshot(proposal.proposal_id)
    chain.mine(snapshot - chain.blocks.head.number + 1)

    power = compute_voting_power(license_events(license), snapshot)
    assert power.power == {str(account): governor.get_votes(account, snapshot)
                           for account in (alice, bob, carol, dave)}
    assert power.live_supply == 4

    context = VoteContext(license.address, {token_id: str(account) for account, token_id
                                            in validators.items()}, [],
                          {evidence.digest: evidence}, domain, recover_signer)
    votes = []
    for voter in (alice, bob, carol, dave):
        state = State(governor.state(proposal.proposal_id))
        ballot = cast_vote(governor.address, proposal, state, POLICY, context)
        assert ballot.support is Support.FOR
        [cast] = send(chain, voter, ballot.transaction).decode_logs(governor.VoteCast)
        votes.append(CastVote(cast.voter, cast.token_id, Support(cast.support), cast.weight))
    chain.mine(governor.proposal_deadline(proposal.proposal_id) - chain.blocks.head.number + 1)

    core = ProposalCore(snapshot, governor.proposal_deadline(proposal.proposal_id))
    tally = tally_proposal(votes, core, live_supply=power.live_supply,
                           quorum_numerator=QUORUM_NUMERATOR, block=chain.blocks.head.number + 1,
                           timestamp=chain.pending_timestamp, grace_period=GRACE_PERIOD)
    on_chain = State(governor.state(proposal.proposal_id))
    assert (tally.for_votes, tally.quorum, tally.state) == (4, governor.quorum(snapshot), on_chain)

    queue = execute_proposal(governor.address, proposal, tally.state, 0, chain.pending_timestamp)
    assert queue.action == "queue"
    send(chain, carol, queue.transaction)
    eta = governor.proposal_eta(proposal.proposal_id)
    assert eta >= MIN_DELAY
    waiting = execute_proposal(governor.address, proposal, State.QUEUED, eta,
                               chain.pending_timestamp)
    assert (waiting.action, waiting.at) == ("wait", eta)
    chain.pending_timestamp = eta
    run = execute_proposal(governor.address, proposal,
                           State(governor.state(proposal.proposal_id)), eta, eta)
    send(chain, dave, run.transaction)

    assert governor.state(proposal.proposal_id) == State.EXECUTED
    assert license.license_of(token).status == LicenseStatus.SUSPENDED
