"""A validator's governance duty: it proposes, votes and moves passed proposals on, exactly as
its operator's policy file says (NODERR_VALIDATOR_GOVERNANCE_POLICY) and never otherwise. No
file, no duty: the node sends no governance transaction at all.

Each step (once per consensus round, at most every GOVERNANCE_EVERY seconds):
  1. penalties   with `propose_penalties`, each double-sign evidence the consensus watch kept
                 whose signatures check (verify_evidence) becomes the apply_penalty proposal
                 against the signer's active Validator license, submitted unless the proposal
                 exists: in the mirror (GET /governance/proposals) or on the governor (its
                 snapshot is set), so a restarted node or a second validator never proposes
                 it again (the proposal id is a hash of the proposal itself);
  2. votes       with a `vote` policy, each Active proposal this node has not voted on
                 (the governor's has_voted) and has a vote in at its snapshot
                 (compute_voting_power) gets the ballot cast_vote gives it, if any;
  3. execution   with `execute_when_due`, a Succeeded proposal is queued once the node's own
                 count agrees (tally_proposal) and a Queued one executed from its eta
                 (execute_proposal); when several validators do it, the first transaction
                 lands and the others' estimates revert (logged).

Every decision runs under its catalogue name in the ExecutionLog (GET /network/executions)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eth_utils import to_checksum_address

from client import AsyncBackendClient, BackendError
from client.models import Proposal
from node.consensus.wire import Recover
from node.errors import FunctionInputError, InvalidParameter
from node.execution import ExecutionLog
from node.runtime.chain import AbiFunction, Chain
from node.runtime.consensus_watch import recover_signer
from node.runtime.governance_logs import license_event, license_filter, vote_cast, votes_filter
from node.runtime.keys import NodeKey
from node.runtime.validator import ValidatorDuties
from node.settings import ValidatorSettings
from node.validator.calls import ProposalCall, Transaction, address
from node.validator.governance import (
    CastVote,
    ProposalCore,
    State,
    Tally,
    VoteContext,
    VotePolicy,
    cast_vote,
    execute_proposal,
    submit_proposal,
    tally_proposal,
)
from node.validator.stake import (
    DoubleSignEvidence,
    LicenseEvent,
    apply_penalty,
    compute_voting_power,
    verify_evidence,
)
from noderr import jsonrpc
from noderr.deployment import Deployment
from noderr.domain import NodeType

log = logging.getLogger("noderr.node.governance")
GOVERNANCE_EVERY = 5.0
OPEN_STATES = ("created", "queued")
"""The mirror's lifecycle states of a proposal that may still need a vote, a queue or an
execution (the governor's own state says which)."""
PAGE = 100
FINAL_STATES = (State.CANCELED, State.DEFEATED, State.EXPIRED, State.EXECUTED)


@dataclass(frozen=True)
class GovernancePolicy:
    """What the operator allows, read from a JSON file such as
    {"propose_penalties": true,
     "vote": {"rules": [{"when": "suspends_double_signer", "vote": "for"}], "otherwise": null},
     "execute_when_due": true,
     "known_accounts": ["0x…"]}
    Every key is optional and off by default; `vote` is a VotePolicy (absent: never vote);
    `known_accounts` adds to the license holders the accounts `mints_to_unknown` knows."""

    propose_penalties: bool = False
    vote: VotePolicy | None = None
    execute_when_due: bool = False
    known_accounts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, declared: Mapping[str, Any]) -> GovernancePolicy:
        unknown = set(declared) - {"propose_penalties", "vote", "execute_when_due",
                                   "known_accounts"}
        if unknown:
            raise InvalidParameter(f"unknown governance policy key(s): {sorted(unknown)}")
        flags = {name: declared.get(name, False) for name in ("propose_penalties",
                                                             "execute_when_due")}
        if any(not isinstance(flag, bool) for flag in flags.values()):
            raise InvalidParameter("propose_penalties and execute_when_due are true or false")
        vote = declared.get("vote")
        if not (vote is None or isinstance(vote, Mapping)):
            raise InvalidParameter("vote is a policy object ({\"rules\": [...], ...}) or null")
        known = declared.get("known_accounts", ())
        if not isinstance(known, list | tuple):
            raise InvalidParameter("known_accounts is a list of addresses")
        return cls(vote=None if vote is None else VotePolicy.parse(vote),
                   known_accounts=tuple(address("known account", item) for item in known),
                   **flags)

    @classmethod
    def load(cls, path: Path) -> GovernancePolicy:
        try:
            declared = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise InvalidParameter(f"governance policy {path}: {error}") from None
        if not isinstance(declared, dict):
            raise InvalidParameter(f"governance policy {path} is not a JSON object")
        return cls.parse(declared)


@dataclass(frozen=True)
class MirroredProposal:
    """A proposal as the backend mirrors it: the call, its lifecycle state there, its
    snapshot and deadline blocks and the block that created it."""

    call: ProposalCall
    state: str
    snapshot: int
    deadline: int
    created_block: int

    @classmethod
    def of(cls, proposal: Proposal) -> MirroredProposal:
        call = ProposalCall.of(proposal.targets, [int(value) for value in proposal.values],
                               [bytes.fromhex(data.removeprefix("0x"))
                                for data in proposal.calldatas], proposal.description)
        return cls(call, proposal.state, int(proposal.snapshot), int(proposal.deadline),
                   proposal.created_block)


@dataclass(frozen=True)
class ValidatorLicense:
    token_id: int
    owner: str
    active: bool


class Mirror(Protocol):
    """What the duty reads from the backend's mirror of the chain."""

    async def proposals(self) -> list[MirroredProposal]: ...

    async def validator_licenses(self) -> list[ValidatorLicense]: ...


class Governor(Protocol):
    """What the duty reads from the governor and how it sends a transaction."""

    async def state(self, proposal_id: int) -> State: ...

    async def exists(self, proposal_id: int) -> bool: ...

    async def has_voted(self, proposal_id: int, account: str) -> bool: ...

    async def eta(self, proposal_id: int) -> int: ...

    async def proposer_votes(self, account: str) -> int: ...

    async def proposal_threshold(self) -> int: ...

    async def now(self) -> int: ...

    async def head(self) -> int: ...

    async def quorum_numerator_at(self, block: int) -> int: ...

    async def grace_period(self) -> int: ...

    async def license_events(self) -> list[LicenseEvent]: ...

    async def vote_casts(self, proposal_id: int, from_block: int) -> list[CastVote]: ...

    async def send_transaction(self, transaction: Transaction) -> str: ...


@dataclass(frozen=True)
class Addresses:
    governor: str
    license: str


class GovernanceDuty:
    """Carries out the operator's policy; see the module docstring. `evidence` is the
    consensus watch's evidence by digest, read at each step."""

    def __init__(self, policy: GovernancePolicy, me: str, addresses: Addresses,
                 governor: Governor, mirror: Mirror, log: ExecutionLog,
                 evidence: Mapping[str, DoubleSignEvidence], domain: bytes,
                 recover: Recover = recover_signer, every: float = GOVERNANCE_EVERY) -> None:
        self.policy, self.me, self.addresses = policy, me, addresses
        self.governor, self.mirror, self.log = governor, mirror, log
        self.evidence, self.domain, self.recover = evidence, domain, recover
        self.every, self.next_at = every, 0.0
        self.settled: set[str] = set()
        """Evidence digests dealt with: proposed, found proposed, or refused."""
        self.undecided: dict[int, int] = {}
        """Active proposals the node gave no vote, with the evidence count then."""
        self.tallies: dict[int, bool] = {}
        """Succeeded proposals the node counted: whether its count agreed."""
        self.finished: set[int] = set()
        """Proposals in a final state on the governor: never read again."""

    async def step(self) -> None:
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + self.every
        if not (self.policy.propose_penalties or self.policy.vote
                or self.policy.execute_when_due):
            return
        proposals = await self.mirror.proposals()
        licenses = await self.mirror.validator_licenses()
        if self.policy.propose_penalties:
            await self.propose_penalties(proposals, licenses)
        if self.policy.vote is not None:
            await self.vote(proposals, licenses)
        if self.policy.execute_when_due:
            await self.execute(proposals)

    # 1. penalties
    async def propose_penalties(self, proposals: Collection[MirroredProposal],
                                licenses: Collection[ValidatorLicense]) -> None:
        known = {proposal.call.proposal_id for proposal in proposals}
        tokens = {license.owner: license.token_id for license in licenses if license.active}
        for digest, evidence in list(self.evidence.items()):
            if digest in self.settled:
                continue
            if not verify_evidence(evidence, self.domain, self.recover):
                self.settled.add(digest)
                log.warning("evidence sha256:%s does not check: nothing proposed", digest)
                continue
            token = tokens.get(evidence.signer)
            if token is None:
                continue
            with self.log.run("apply_penalty"):
                penalty = apply_penalty(evidence, self.addresses.license, token)
            if penalty.proposal_id in known or await self.governor.exists(penalty.proposal_id):
                self.settled.add(digest)
                continue
            if await self._submit(penalty):
                self.settled.add(digest)

    async def _submit(self, proposal: ProposalCall) -> bool:
        votes = await self.governor.proposer_votes(self.me)
        threshold = await self.governor.proposal_threshold()
        try:
            with self.log.run("submit_proposal"):
                transaction = submit_proposal(self.addresses.governor, proposal,
                                              proposer_votes=votes, proposal_threshold=threshold)
        except InvalidParameter as refused:
            log.warning("penalty not proposed: %s", refused)
            return False
        return await self._send(transaction, f"proposal {proposal.proposal_id}")

    # 2. votes
    async def vote(self, proposals: Collection[MirroredProposal],
                   licenses: Collection[ValidatorLicense]) -> None:
        assert self.policy.vote is not None
        context = VoteContext(
            self.addresses.license, {license.token_id: license.owner for license in licenses},
            {*self.policy.known_accounts, *(license.owner for license in licenses)},
            dict(self.evidence), self.domain, self.recover)
        events: list[LicenseEvent] | None = None
        for proposal in proposals:
            proposal_id = proposal.call.proposal_id
            if (proposal.state != "created"
                    or self.undecided.get(proposal_id) == len(context.evidence)
                    or await self._state(proposal_id) is not State.ACTIVE
                    or await self.governor.has_voted(proposal_id, self.me)):
                continue
            events = events if events is not None else await self.governor.license_events()
            with self.log.run("compute_voting_power"):
                power = compute_voting_power(events, proposal.snapshot)
            ballot = None
            if self.me in power.power:
                with self.log.run("cast_vote"):
                    ballot = cast_vote(self.addresses.governor, proposal.call, State.ACTIVE,
                                       self.policy.vote, context)
            if ballot is None:
                self.undecided[proposal_id] = len(context.evidence)
                continue
            self.undecided.pop(proposal_id, None)
            await self._send(ballot.transaction,
                             f"{ballot.support.name} vote on proposal {proposal_id}")

    # 3. execution
    async def execute(self, proposals: Collection[MirroredProposal]) -> None:
        for proposal in proposals:
            if proposal.state not in OPEN_STATES:
                continue
            proposal_id = proposal.call.proposal_id
            state = await self._state(proposal_id)
            if state not in (State.SUCCEEDED, State.QUEUED) or not await self._confirmed(
                    proposal, state):
                continue
            eta, now = await self.governor.eta(proposal_id), await self.governor.now()
            with self.log.run("execute_proposal"):
                step = execute_proposal(self.addresses.governor, proposal.call, state, eta, now)
            if step.transaction is not None:
                await self._send(step.transaction, f"{step.action} of proposal {proposal_id}")

    async def _state(self, proposal_id: int) -> State | None:
        """The governor's state of the proposal; None once it is final (Canceled, Defeated,
        Expired, Executed), which the governor is then no longer asked."""
        if proposal_id in self.finished:
            return None
        state = await self.governor.state(proposal_id)
        if state in FINAL_STATES:
            self.finished.add(proposal_id)
        return state

    async def _confirmed(self, proposal: MirroredProposal, state: State) -> bool:
        """Whether the node's own count of a Succeeded proposal (its VoteCast events against
        the live Validator supply at the snapshot) agrees that it passed: the node queues
        only what it counted itself. Counted once per proposal; Queued needs no count."""
        proposal_id = proposal.call.proposal_id
        if state is not State.SUCCEEDED:
            return True
        if proposal_id not in self.tallies:
            tally = await self._tally(proposal)
            self.tallies[proposal_id] = tally.state is State.SUCCEEDED
            if not self.tallies[proposal_id]:
                log.warning("proposal %s: the governor says succeeded, the node's count %s; "
                            "not queued", proposal_id, tally)
        return self.tallies[proposal_id]

    async def _tally(self, proposal: MirroredProposal) -> Tally:
        governor = self.governor
        votes = await governor.vote_casts(proposal.call.proposal_id, proposal.created_block)
        events = await governor.license_events()
        numerator = await governor.quorum_numerator_at(proposal.snapshot)
        block, now = await governor.head() + 1, await governor.now()
        grace = await governor.grace_period()
        with self.log.run("compute_voting_power"):
            power = compute_voting_power(events, proposal.snapshot)
        with self.log.run("tally_proposal"):
            return tally_proposal(votes, ProposalCore(proposal.snapshot, proposal.deadline),
                                  live_supply=power.live_supply, quorum_numerator=numerator,
                                  block=block, timestamp=now, grace_period=grace)

    async def _send(self, transaction: Transaction, what: str) -> bool:
        try:
            tx_hash = await self.governor.send_transaction(transaction)
        except jsonrpc.JsonRpcError as error:
            log.warning("%s not sent: %s", what, error)
            return False
        log.info("%s sent: %s", what, tx_hash)
        return True


# the node's adapters
class GovernorChain(Chain):
    """The governor's reads and the node's signed transactions (node/runtime/chain.py)."""

    FUNCTIONS = ("state", "proposal_snapshot", "has_voted", "proposal_eta", "get_votes",
                 "proposal_threshold", "quorum_numerator_at", "grace_period")

    def __init__(self, rpc_url: str, key: NodeKey, chain_id: int, addresses: Addresses,
                 abi: list[dict[str, Any]], license_block: int = 0) -> None:
        """`abi` is the governor's; `license_block` the license's deployment block, where
        its events start."""
        super().__init__(rpc_url, key, chain_id)
        self.address, self.license, self.license_block = (addresses.governor, addresses.license,
                                                          license_block)
        self.functions = {name: AbiFunction.of(abi, name) for name in self.FUNCTIONS}

    async def _read(self, name: str, *args: Any) -> Any:
        return (await self.read(self.address, self.functions[name], *args))[0]

    async def state(self, proposal_id: int) -> State:
        return State(await self._read("state", proposal_id))

    async def exists(self, proposal_id: int) -> bool:
        return await self._read("proposal_snapshot", proposal_id) != 0

    async def has_voted(self, proposal_id: int, account: str) -> bool:
        return await self._read("has_voted", proposal_id, account)

    async def eta(self, proposal_id: int) -> int:
        return await self._read("proposal_eta", proposal_id)

    async def proposer_votes(self, account: str) -> int:
        """The account's votes at the previous block, as `propose` counts them."""
        return await self._read("get_votes", account, max(await self.head() - 1, 0))

    async def head(self) -> int:
        return int(await self._call("eth_blockNumber"), 16)

    async def quorum_numerator_at(self, block: int) -> int:
        return await self._read("quorum_numerator_at", block)

    async def grace_period(self) -> int:
        return await self._read("grace_period")

    async def license_events(self) -> list[LicenseEvent]:
        logs = await self._call("eth_getLogs", [license_filter(self.license, self.license_block)])
        return [license_event(item) for item in logs]

    async def vote_casts(self, proposal_id: int, from_block: int) -> list[CastVote]:
        logs = await self._call("eth_getLogs", [votes_filter(self.address, proposal_id,
                                                             from_block)])
        return [vote_cast(item) for item in logs]

    async def proposal_threshold(self) -> int:
        return await self._read("proposal_threshold")

    async def now(self) -> int:
        return await self.latest_timestamp()

    async def send_transaction(self, transaction: Transaction) -> str:
        return await self.send(transaction.to, "0x" + transaction.data.hex())


class BackendMirror:
    """The backend's mirror through the node's API client."""

    def __init__(self, client: AsyncBackendClient) -> None:
        self.client = client

    async def proposals(self) -> list[MirroredProposal]:
        found: list[MirroredProposal] = []
        for state in OPEN_STATES:
            offset = 0
            while page := await self.client.proposals(state, limit=PAGE, offset=offset):
                found.extend(MirroredProposal.of(proposal) for proposal in page)
                offset += len(page)
                if len(page) < PAGE:
                    break
        return found

    async def validator_licenses(self) -> list[ValidatorLicense]:
        found: list[ValidatorLicense] = []
        after = 0
        while page := await self.client.licenses(node_type=int(NodeType.VALIDATOR),
                                                 after=after, limit=PAGE):
            found.extend(ValidatorLicense(item.token_id, to_checksum_address(item.owner),
                                          item.status == "active")
                         for item in page if item.status != "revoked")
            after = page[-1].token_id
            if len(page) < PAGE:
                break
        return found


# wiring
class GovernedValidatorDuties:
    """A validator's duties followed, each step, by its governance duty."""

    def __init__(self, duties: ValidatorDuties, governance: GovernanceDuty) -> None:
        self.duties, self.governance = duties, governance

    async def step(self) -> int:
        """The validator's step, then the governance duty's; a backend or chain that does not
        answer, or a mirror the functions refuse, costs this step's governance only (logged),
        never the consensus."""
        executed = await self.duties.step()
        before = self.governance.log.recorded
        try:
            await self.governance.step()
        except (BackendError, jsonrpc.JsonRpcError, FunctionInputError) as error:
            log.warning("governance duty skipped a step: %s", error)
        return executed + self.governance.log.recorded - before


def with_governance(duties: ValidatorDuties, deployment: Deployment,
                    rpc_url: str) -> ValidatorDuties | GovernedValidatorDuties:
    """`duties` with the governance duty when the operator configured a policy
    (NODERR_VALIDATOR_GOVERNANCE_POLICY); unchanged otherwise. A policy file that does not
    parse stops the node at start-up (InvalidParameter)."""
    path = ValidatorSettings().validator_governance_policy
    if path is None:
        return duties
    context = duties.context
    governor, license_ = (deployment.contracts[name] for name in ("NodeGovernor", "NodeLicense"))
    addresses = Addresses(governor.address, license_.address)
    chain = GovernorChain(rpc_url, context.key, context.chain_id, addresses, governor.abi,
                          license_.block)
    duty = GovernanceDuty(GovernancePolicy.load(path), context.key.address, addresses, chain,
                          BackendMirror(context.network.client), context.log,
                          context.watch.evidence, context.watch.domain)
    return GovernedValidatorDuties(duties, duty)
