"""Governance as a validator takes part in it on NodeGovernor (docs/governance.md): it proposes
(submit_proposal), votes as its operator's policy says and never otherwise (cast_vote),
mirrors the tally and state the governor computes (tally_proposal) and moves a passed
proposal on when it is due (execute_proposal). Each answers the transaction to send; the
runtime signs and sends it."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from node.consensus.wire import Recover
from node.errors import InvalidParameter
from node.validator.calls import (
    CAST_VOTE_WITH_REASON,
    EXECUTE,
    MINT,
    PROPOSE,
    QUEUE,
    SUSPEND,
    ProposalCall,
    Transaction,
    address,
)
from node.validator.stake import DoubleSignEvidence, verify_evidence

MAX_REASON = 256


class State(enum.IntEnum):
    """NodeGovernor's proposal states (OpenZeppelin's order)."""

    PENDING = 0
    ACTIVE = 1
    CANCELED = 2
    DEFEATED = 3
    SUCCEEDED = 4
    QUEUED = 5
    EXPIRED = 6
    EXECUTED = 7


class Support(enum.IntEnum):
    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


# proposing
def submit_proposal(governor: str, proposal: ProposalCall, *, proposer_votes: int,
                    proposal_threshold: int) -> Transaction:
    """The governor's `propose` for `proposal`, refused (InvalidParameter) when the proposer's
    votes at the previous block are below the threshold: the governor would revert."""
    if proposer_votes < proposal_threshold:
        raise InvalidParameter(f"the proposer has {proposer_votes} vote(s), the threshold is "
                               f"{proposal_threshold}")
    return Transaction(address("governor", governor),
                       PROPOSE.calldata(*proposal.arrays(), proposal.description))


# voting
@dataclass(frozen=True)
class VoteContext:
    """What the policy's conditions read: the NodeLicense address, each license's current
    owner (token id -> account, from the mirror), the accounts an operator knows (approved
    applicants and members), the double-sign evidence at hand by digest, and how to check it
    (the consensus domain and signer recovery)."""

    license: str
    owners: Mapping[int, str]
    known: Collection[str]
    evidence: Mapping[str, DoubleSignEvidence]
    domain: bytes
    recover: Recover


Condition = Callable[[ProposalCall, VoteContext], bool]
DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


def _calls_to(proposal: ProposalCall, context: VoteContext) -> list[bytes | None]:
    """Each action's calldata when it calls the license contract with no value, else None."""
    license_address = address("license", context.license)
    return [calldata if target == license_address and value == 0 else None
            for target, value, calldata in zip(proposal.targets, proposal.values,
                                               proposal.calldatas, strict=True)]


def suspends_double_signer(proposal: ProposalCall, context: VoteContext) -> bool:
    """Every action suspends a Validator license whose owner signed two conflicting consensus
    messages, by evidence the description quotes and whose signatures check."""
    quoted = [context.evidence[digest] for digest in DIGEST.findall(proposal.description)
              if digest in context.evidence]
    proven = {item.signer for item in quoted
              if verify_evidence(item, context.domain, context.recover)}
    for calldata in _calls_to(proposal, context):
        arguments = None if calldata is None else SUSPEND.arguments(calldata)
        if arguments is None or context.owners.get(arguments[0]) not in proven:
            return False
    return True


def mints_to_unknown(proposal: ProposalCall, context: VoteContext) -> bool:
    """Some action mints a license to an account the operator does not know."""
    known = {address("known account", account) for account in context.known}
    for calldata in _calls_to(proposal, context):
        arguments = None if calldata is None else MINT.arguments(calldata)
        if arguments is not None and address("recipient", arguments[0]) not in known:
            return True
    return False


CONDITIONS: dict[str, Condition] = {
    "suspends_double_signer": suspends_double_signer, "mints_to_unknown": mints_to_unknown}


@dataclass(frozen=True)
class VotePolicy:
    """The operator's rules: the first rule whose condition holds gives the vote; `otherwise`
    (None: do not vote) when none does. Declared as data, e.g.
    {"rules": [{"when": "suspends_double_signer", "vote": "for"},
               {"when": "mints_to_unknown", "vote": "against"}], "otherwise": "abstain"}."""

    rules: tuple[tuple[str, Support], ...]
    otherwise: Support | None = Support.ABSTAIN

    @classmethod
    def parse(cls, declared: Mapping[str, Any]) -> VotePolicy:
        rules = []
        for rule in declared.get("rules", ()):
            condition = rule.get("when")
            if condition not in CONDITIONS:
                raise InvalidParameter(f"unknown policy condition {condition!r}; known: "
                                       f"{', '.join(CONDITIONS)}")
            rules.append((condition, _support(rule.get("vote"))))
        otherwise = declared.get("otherwise")
        return cls(tuple(rules), None if otherwise is None else _support(otherwise))


def _support(value: Any) -> Support:
    try:
        return Support[str(value).upper()]
    except KeyError:
        raise InvalidParameter(f"a vote is for, against or abstain, not {value!r}") from None


@dataclass(frozen=True)
class Ballot:
    """The vote the policy gives a proposal, the rule that gave it and the transaction."""

    proposal_id: int
    support: Support
    rule: str
    transaction: Transaction


def cast_vote(governor: str, proposal: ProposalCall, state: State, policy: VotePolicy,
              context: VoteContext) -> Ballot | None:
    """The ballot `policy` gives `proposal` while it is Active (None when it is not, or when no
    rule applies and the policy says not to vote). The reason sent on-chain names the rule."""
    if State(state) is not State.ACTIVE:
        return None
    for condition, support in policy.rules:
        if CONDITIONS[condition](proposal, context):
            return _ballot(governor, proposal, support, condition)
    if policy.otherwise is None:
        return None
    return _ballot(governor, proposal, policy.otherwise, "otherwise")


def _ballot(governor: str, proposal: ProposalCall, support: Support, rule: str) -> Ballot:
    reason = f"operator policy: {rule}"[:MAX_REASON]
    data = CAST_VOTE_WITH_REASON.calldata(proposal.proposal_id, int(support), reason)
    return Ballot(proposal.proposal_id, support, rule, Transaction(address("governor", governor),
                                                                   data))


# tally
@dataclass(frozen=True)
class CastVote:
    """A VoteCast event: one license's vote."""

    voter: str
    token_id: int
    support: Support
    weight: int = 1


@dataclass(frozen=True)
class ProposalCore:
    """The governor's record of a proposal: snapshot (vote_start), deadline (vote_end), eta (0
    until queued) and its flags; `timelock` is the queued operation's status there
    ("pending", "done" or "absent")."""

    vote_start: int
    vote_end: int
    eta: int = 0
    executed: bool = False
    canceled: bool = False
    timelock: str = "pending"


@dataclass(frozen=True)
class Tally:
    for_votes: int
    against_votes: int
    abstain_votes: int
    quorum: int
    quorum_reached: bool
    succeeded: bool
    state: State


def tally_proposal(votes: Iterable[CastVote], core: ProposalCore, *, live_supply: int,
                   quorum_numerator: int, block: int, timestamp: int,
                   grace_period: int) -> Tally:
    """NodeGovernor's count and state of a proposal, from its VoteCast events and its record:
    quorum = ceil(numerator * live Validator supply at the snapshot / 100), reached by For +
    Abstain; success = quorum reached and For > Against; the state as `state()` reads it in
    block `block` at `timestamp` (a call on the pending block: the head's number + 1). A
    token counted twice means a corrupt mirror (the governor refuses a second vote):
    InvalidParameter."""
    counts = {Support.FOR: 0, Support.AGAINST: 0, Support.ABSTAIN: 0}
    voters: set[int] = set()
    for vote in votes:
        if vote.token_id in voters:
            raise InvalidParameter(f"license {vote.token_id} voted twice")
        voters.add(vote.token_id)
        counts[Support(vote.support)] += vote.weight
    if live_supply < 0 or not 0 <= quorum_numerator <= 100:
        raise InvalidParameter("live supply is >= 0 and the quorum numerator in [0, 100]")
    quorum = -(-quorum_numerator * live_supply // 100)
    reached = counts[Support.FOR] + counts[Support.ABSTAIN] >= quorum
    succeeded = reached and counts[Support.FOR] > counts[Support.AGAINST]
    state = _state(core, succeeded, block, timestamp, grace_period)
    return Tally(counts[Support.FOR], counts[Support.AGAINST], counts[Support.ABSTAIN], quorum,
                 reached, succeeded, state)


def _state(core: ProposalCore, succeeded: bool, block: int, timestamp: int,
           grace_period: int) -> State:
    if core.executed:
        return State.EXECUTED
    if core.canceled:
        return State.CANCELED
    if core.vote_start >= block:
        return State.PENDING
    if core.vote_end >= block:
        return State.ACTIVE
    if not succeeded:
        return State.DEFEATED
    if core.eta == 0:
        return State.SUCCEEDED
    if core.timelock == "done":
        return State.EXECUTED
    if core.timelock != "pending":
        return State.CANCELED
    if timestamp >= core.eta + grace_period:
        return State.EXPIRED
    return State.QUEUED


# queue and execute
@dataclass(frozen=True)
class Step:
    """What to do with a proposal now: "queue", "execute", "wait" (until `at`, a timestamp)
    or "none" (nothing will ever be due: `why`)."""

    action: str
    why: str
    at: int | None = None
    transaction: Transaction | None = None


def execute_proposal(governor: str, proposal: ProposalCall, state: State, eta: int,
                     now: int) -> Step:
    """Queue a Succeeded proposal; execute a Queued one from its eta (the governor refuses it
    before); wait for the eta otherwise; nothing for a proposal still voting or finished."""
    state = State(state)
    arrays = (*proposal.arrays(), proposal.description_hash)
    if state is State.SUCCEEDED:
        return Step("queue", "succeeded, not yet queued", now,
                    Transaction(address("governor", governor), QUEUE.calldata(*arrays)))
    if state is State.QUEUED and now >= eta:
        return Step("execute", f"queued, eta {eta} reached", now,
                    Transaction(address("governor", governor), EXECUTE.calldata(*arrays)))
    if state is State.QUEUED:
        return Step("wait", f"queued, eta {eta} not reached", eta)
    if state in (State.PENDING, State.ACTIVE):
        return Step("wait", f"{state.name.lower()}: voting has not ended")
    return Step("none", f"{state.name.lower()}: nothing left to do")
