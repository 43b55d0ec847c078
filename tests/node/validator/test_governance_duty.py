"""The governance duty's decisions against an in-memory governor and mirror: nothing without a
policy, one proposal per piece of evidence (also after a restart, the mirror knowing it), no
proposal from forged evidence, one vote per proposal, execution only when due and allowed."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from types import SimpleNamespace

import pytest

from client import BackendError
from node.errors import InvalidParameter
from node.execution import ExecutionLog
from node.runtime.governance_duty import (
    Addresses,
    GovernanceDuty,
    GovernancePolicy,
    GovernedValidatorDuties,
    MirroredProposal,
    ValidatorLicense,
    with_governance,
)
from node.validator.calls import CAST_VOTE_WITH_REASON, EXECUTE, PROPOSE, QUEUE, ProposalCall
from node.validator.governance import CastVote, State, Support
from node.validator.stake import LicenseEvent, apply_penalty, detect_double_sign
from noderr.deployment import Deployment
from noderr.domain import NodeType
from onchain.compile import compiled
from tests.node.validator.helpers import CHAIN, DOMAIN, KEYS, eth_keys_recover, pre_prepare

GOVERNOR = "0x" + "6" * 40
LICENSE = "0x" + "5" * 40
ME = KEYS[1].address
LICENSES = [ValidatorLicense(token, key.address, True) for token, key in enumerate(KEYS, 1)]
EVERYTHING = GovernancePolicy.parse({
    "propose_penalties": True, "execute_when_due": True,
    "vote": {"rules": [{"when": "suspends_double_signer", "vote": "for"}], "otherwise": None}})


def double_sign():
    return detect_double_sign([pre_prepare(KEYS[0], 8, 0, 1, 2, 3),
                               pre_prepare(KEYS[0], 8, 0, 4, 5, 6)], DOMAIN, eth_keys_recover)[0]


class FakeGovernor:
    """NodeGovernor as the duty sees it: a `propose` creates the proposal in `states`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple]] = []
        self.states: dict[int, State] = {}
        self.voted: set[int] = set()
        self.etas: dict[int, int] = {}
        self.timestamp = 1_000
        self.state_reads = 0
        self.licenses = [LicenseEvent("minted", token, 1, 0, key.address, NodeType.VALIDATOR)
                         for token, key in enumerate(KEYS, 1)]
        self.votes = [CastVote(key.address, token, Support.FOR)
                      for token, key in enumerate(KEYS[1:], 2)]

    async def state(self, proposal_id: int) -> State:
        self.state_reads += 1
        return self.states[proposal_id]

    async def exists(self, proposal_id: int) -> bool:
        return proposal_id in self.states

    async def has_voted(self, proposal_id: int, account: str) -> bool:
        return account == ME and proposal_id in self.voted

    async def eta(self, proposal_id: int) -> int:
        return self.etas.get(proposal_id, 0)

    async def proposer_votes(self, account: str) -> int:
        return 1

    async def proposal_threshold(self) -> int:
        return 1

    async def now(self) -> int:
        return self.timestamp

    async def head(self) -> int:
        return 100

    async def quorum_numerator_at(self, block: int) -> int:
        return 50

    async def grace_period(self) -> int:
        return 10_000

    async def license_events(self) -> list[LicenseEvent]:
        return self.licenses

    async def vote_casts(self, proposal_id: int, from_block: int) -> list[CastVote]:
        return self.votes

    async def send_transaction(self, transaction) -> str:
        assert transaction.to == GOVERNOR
        for name, function in (("propose", PROPOSE), ("vote", CAST_VOTE_WITH_REASON),
                               ("queue", QUEUE), ("execute", EXECUTE)):
            arguments = function.arguments(transaction.data)
            if arguments is not None:
                self.sent.append((name, arguments))
                if name == "propose":
                    self.states[ProposalCall.of(*arguments).proposal_id] = State.PENDING
                if name == "vote":
                    self.voted.add(arguments[0])
                return "0x" + "ab" * 32
        raise AssertionError("an unexpected transaction")

    def sent_named(self, name: str) -> list[tuple]:
        return [arguments for sent, arguments in self.sent if sent == name]


@dataclasses.dataclass
class FakeMirror:
    held: list[MirroredProposal] = dataclasses.field(default_factory=list)
    licenses: list[ValidatorLicense] = dataclasses.field(default_factory=lambda: LICENSES)

    async def proposals(self) -> list[MirroredProposal]:
        return list(self.held)

    async def validator_licenses(self) -> list[ValidatorLicense]:
        return self.licenses


def duty(policy: GovernancePolicy, governor: FakeGovernor, mirror: FakeMirror,
         *evidence) -> GovernanceDuty:
    return GovernanceDuty(policy, ME, Addresses(GOVERNOR, LICENSE), governor, mirror,
                          ExecutionLog(), {item.digest: item for item in evidence}, DOMAIN,
                          eth_keys_recover, every=0)


def penalty() -> ProposalCall:
    return apply_penalty(double_sign(), LICENSE, 1)


def mirrored(state: str = "created") -> MirroredProposal:
    return MirroredProposal(penalty(), state, snapshot=10, deadline=20, created_block=8)


def run_steps(governance: GovernanceDuty, steps: int = 1) -> None:
    async def scenario() -> None:
        for _ in range(steps):
            await governance.step()
    asyncio.run(scenario())


def executed(governance: GovernanceDuty) -> list[str]:
    return [item.function for item in governance.log.drain()]


def test_step__no_policy__no_transaction_and_no_execution():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.SUCCEEDED
    governance = duty(GovernancePolicy(), governor,
                      FakeMirror([mirrored()]), double_sign())

    run_steps(governance, 3)

    assert governor.sent == []
    assert executed(governance) == []


def test_step__evidence_seen_in_many_steps__proposed_once():
    governor = FakeGovernor()
    governance = duty(EVERYTHING, governor, FakeMirror(), double_sign())

    run_steps(governance, 3)

    [(targets, values, calldatas, description)] = governor.sent_named("propose")
    assert ProposalCall.of(targets, values, calldatas, description) == penalty()
    assert executed(governance)[:2] == ["apply_penalty", "submit_proposal"]


def test_step__restarted_node_with_proposal_in_mirror__not_proposed_again():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.PENDING
    mirror = FakeMirror([mirrored()])

    run_steps(duty(EVERYTHING, governor, mirror, double_sign()))

    assert governor.sent_named("propose") == []


def test_step__proposal_on_governor_not_yet_mirrored__not_proposed_again():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.PENDING

    run_steps(duty(EVERYTHING, governor, FakeMirror(), double_sign()))

    assert governor.sent_named("propose") == []


def test_step__forged_evidence__no_proposal():
    real = double_sign()
    forged = dataclasses.replace(real, second=pre_prepare(KEYS[2], 8, 0, 4, 5, 6))
    governor = FakeGovernor()

    run_steps(duty(EVERYTHING, governor, FakeMirror(), forged))

    assert governor.sent == []


def test_step__signer_without_active_license__no_proposal():
    governor = FakeGovernor()
    suspended = [dataclasses.replace(item, active=item.owner != KEYS[0].address)
                 for item in LICENSES]

    run_steps(duty(EVERYTHING, governor, FakeMirror(licenses=suspended), double_sign()))

    assert governor.sent == []


def test_step__active_penalty__votes_for_once():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.ACTIVE
    governance = duty(EVERYTHING, governor,
                      FakeMirror([mirrored()]), double_sign())

    run_steps(governance, 3)

    [(proposal_id, support, reason)] = governor.sent_named("vote")
    assert (proposal_id, support) == (penalty().proposal_id, Support.FOR)
    assert reason == "operator policy: suspends_double_signer"
    assert executed(governance).count("cast_vote") == 1


def test_step__no_vote_at_the_snapshot__no_ballot():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.ACTIVE
    governor.licenses.append(LicenseEvent("suspended", 2, 3))
    governance = duty(EVERYTHING, governor, FakeMirror([mirrored()]), double_sign())

    run_steps(governance)

    assert governor.sent == []
    assert "cast_vote" not in executed(governance)


def test_step__already_voted__no_second_vote():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.ACTIVE
    governor.voted.add(penalty().proposal_id)

    governance = duty(EVERYTHING, governor,
                      FakeMirror([mirrored()]), double_sign())
    run_steps(governance)

    assert governor.sent == []
    assert "cast_vote" not in executed(governance)


def test_step__penalty_without_the_evidence__policy_gives_no_vote():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.ACTIVE

    run_steps(duty(EVERYTHING, governor, FakeMirror([mirrored()])))

    assert governor.sent == []


def test_step__succeeded_then_queued_past_eta__queued_then_executed():
    governor = FakeGovernor()
    proposal_id = penalty().proposal_id
    mirror = FakeMirror([mirrored()])
    governance = duty(EVERYTHING, governor, mirror)
    governor.states[proposal_id] = State.SUCCEEDED
    run_steps(governance)
    governor.states[proposal_id], governor.etas[proposal_id] = State.QUEUED, 2_000
    mirror.held = [mirrored("queued")]
    run_steps(governance)
    governor.timestamp = 2_000
    run_steps(governance)

    assert len(governor.sent_named("queue")) == 1
    assert len(governor.sent_named("execute")) == 1
    assert executed(governance).count("tally_proposal") == 1


def test_step__governor_says_succeeded_but_count_short_of_quorum__not_queued():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.SUCCEEDED
    governor.votes = governor.votes[:1]

    run_steps(duty(EVERYTHING, governor, FakeMirror([mirrored()])), 2)

    assert governor.sent == []


def test_step__defeated_proposal__governor_asked_once():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.DEFEATED

    run_steps(duty(EVERYTHING, governor, FakeMirror([mirrored()])), 3)

    assert (governor.state_reads, governor.sent) == (1, [])


def test_step__succeeded_without_execute_when_due__not_queued():
    governor = FakeGovernor()
    governor.states[penalty().proposal_id] = State.SUCCEEDED
    policy = dataclasses.replace(EVERYTHING, execute_when_due=False)

    run_steps(duty(policy, governor, FakeMirror([mirrored()])))

    assert governor.sent == []


def test_load__policy_file__parsed(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"propose_penalties": True,
                                "vote": {"rules": [{"when": "mints_to_unknown",
                                                    "vote": "against"}]}}))

    policy = GovernancePolicy.load(path)

    assert policy.propose_penalties and not policy.execute_when_due
    assert policy.vote.rules == (("mints_to_unknown", Support.AGAINST),)


@pytest.mark.parametrize("declared", [{"propose_penalty": True}, {"propose_penalties": "yes"},
                                      {"vote": {"rules": [{"when": "always", "vote": "for"}]}},
                                      {"vote": "for"}, {"known_accounts": ["alice"]},
                                      {"known_accounts": "0x" + "7" * 40}])
def test_parse__malformed_policy__refused(declared):
    with pytest.raises(InvalidParameter):
        GovernancePolicy.parse(declared)


class UnreachableMirror(FakeMirror):
    async def proposals(self) -> list[MirroredProposal]:
        raise BackendError(0, "connection refused")


class ConsensusSteps:
    async def step(self) -> int:
        return 2


def test_governed_step__backend_unreachable__consensus_step_still_counted():
    governance = duty(EVERYTHING, FakeGovernor(), UnreachableMirror(), double_sign())

    executed = asyncio.run(GovernedValidatorDuties(ConsensusSteps(), governance).step())

    assert executed == 2


def deployment() -> Deployment:
    abi = compiled(("NodeGovernor",))["NodeGovernor"].abi
    record = {"abi": abi, "block": 1, "tx_hash": "0x" + "00" * 32}
    return Deployment(chain_id=CHAIN, deployer=ME, contracts={
        "NodeGovernor": {"address": GOVERNOR, **record},
        "NodeLicense": {"address": LICENSE, **record}})


def validator_duties() -> SimpleNamespace:
    watch = SimpleNamespace(evidence={}, domain=DOMAIN)
    return SimpleNamespace(context=SimpleNamespace(
        key=KEYS[1], chain_id=CHAIN, log=ExecutionLog(), watch=watch,
        network=SimpleNamespace(client=None)))


def test_with_governance__no_policy_setting__duties_unchanged(monkeypatch):
    monkeypatch.delenv("NODERR_VALIDATOR_GOVERNANCE_POLICY", raising=False)
    duties = validator_duties()

    assert with_governance(duties, deployment(), "http://127.0.0.1:8545") is duties


def test_with_governance__policy_file__governance_follows_each_step(monkeypatch, tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"propose_penalties": True}))
    monkeypatch.setenv("NODERR_VALIDATOR_GOVERNANCE_POLICY", str(path))
    duties = validator_duties()

    governed = with_governance(duties, deployment(), "http://127.0.0.1:8545")

    assert isinstance(governed, GovernedValidatorDuties)
    assert governed.governance.policy == GovernancePolicy(propose_penalties=True)
    assert governed.governance.evidence is duties.context.watch.evidence
