"""Validator duties: the PBFT core (node/consensus/replica.py) driven over the bus, and the
agreed report put on-chain by staged transmission.

Per feed (the deployment file's contracts named `NodeFeed.<FEED>`) and consensus round:
  1. observations   the oracles' verified observations of the round, one per oracle
  2. consensus      a Replica over the active validators of the node's membership snapshot;
                    its messages go out on `noderr.validator.consensus.<FEED>` (wire.Codec:
                    each signed by its author, embedded proofs included), its timers are
                    asyncio timers of NODERR_VALIDATOR_TICK_MS each
  3. signatures     on Decide, each validator signs the EIP-712 report (round, answer,
                    observedAt) for the feed and publishes it on
                    `noderr.validator.signatures.<FEED>`
  4. transmission   with a quorum (floor(2n/3)+1 of the active validators) of signatures, the
                    validators in order from the deciding view's leader transmit one after
                    another, NODERR_VALIDATOR_TRANSMIT_DELAY apart, each first checking the
                    feed's latest round and standing down once the round is there (OCR2)
  5. reporting      each validator tells the backend what it decided (view, leader, report,
                    signatures: `agreed`) and, after its turn, whether the round landed
                    (`transmitted` or `failed`); GET /network/rounds shows them beside the
                    chain's Transmitted event. Every consensus message it signs or accepts
                    from a member goes to the backend too (its signed text and signature),
                    for GET /network/rounds/{feed}/{round}/messages

Consensus round c reports oracle round c * NODERR_VALIDATOR_ROUND_EVERY (oracle rounds are unix
time // NODERR_NODE_ROUND_INTERVAL); every validator opens it once the oracle round after that
one has begun, from the same clock, so the replicas meet in the same round without a
coordinator, and consecutive consensus rounds rotate the first leader.

Duties one validator runs for all (peer scoring) wait on the coordinator lease
(node/runtime/lease.py), renewed in the background as each round opens, LEASE_ROUNDS rounds
long: consensus never waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import coincurve

from client.models import RoundReport, RoundStatus
from node.bus import subjects
from node.bus.admission import SenderBudget
from node.bus.envelope import checksum, recover
from node.bus.membership import Membership
from node.consensus.messages import (
    Decided,
    Message,
    NewView,
    OracleValue,
    Prepare,
    PrePrepare,
    ViewChange,
)
from node.consensus.replica import Action, Decide, Replica, Send, StartTimer, leader_first
from node.consensus.wire import Codec, InvalidMessage, canonical
from node.errors import FunctionInputError, InvalidParameter, NonPositivePrice, StaleInput
from node.execution import ExecutionLog
from node.oracle.observation import InvalidObservation, Observation
from node.runtime import metrics
from node.runtime.attendance import Attendance
from node.runtime.chain import AbiFunction, Chain
from node.runtime.consensus_watch import ConsensusWatch, recover_signer
from node.runtime.keys import NodeKey
from node.runtime.lease import Coordination
from node.runtime.network import OBSERVATIONS, Network, Verified
from node.runtime.observation_proofs import ObservationProofs
from node.runtime.reporting import MessageLog, RoundLog
from node.settings import ValidatorSettings
from noderr import jsonrpc
from noderr.consensus_text import consensus_domain
from noderr.deployment import Deployment
from noderr.domain import NodeType
from noderr.feed_report import Report, report_digest, sign_report, transmit_args

log = logging.getLogger("noderr.node.validator")
CONSENSUS = subjects.subject("validator", "consensus")
SIGNATURES = subjects.subject("validator", "signatures")
FEED_PREFIX = "NodeFeed."
KEPT_ROUNDS = 8
LEASE_ROUNDS = 3
LIVENESS_WINDOW = 100
VOTES_ON_RECEIPT = {PrePrepare: "vote_prepare", Prepare: "vote_commit",
                    ViewChange: "handle_view_change", NewView: "handle_view_change",
                    Decided: "sync_state"}
"""The catalogue function a received message of the open round runs: a pre-prepare is checked
and prepared, a prepare counted towards the commit vote, a view change or new view handled, a
decision caught up from its quorum of commits."""


# chain adapter
@dataclass(frozen=True)
class FeedContract:
    feed_id: str
    address: str
    transmit: AbiFunction
    latest_round: AbiFunction


def feed_contracts(deployment: Deployment) -> dict[str, FeedContract]:
    """The deployment's feeds by id, from its contracts named `NodeFeed.<FEED>`."""
    return {name.removeprefix(FEED_PREFIX): FeedContract(
        name.removeprefix(FEED_PREFIX), record.address, AbiFunction.of(record.abi, "transmit"),
        AbiFunction.of(record.abi, "latest_round"))
        for name, record in deployment.contracts.items() if name.startswith(FEED_PREFIX)}


class FeedChain(Chain):
    """Reads a feed's latest round and sends its `transmit`."""

    async def latest_round(self, feed: FeedContract) -> int:
        return (await self.read(feed.address, feed.latest_round))[0]

    async def transmit(self, feed: FeedContract, report: Report, validators: Iterable[str],
                       signatures: dict[str, bytes]) -> str:
        """Send the report with `signatures` of some of `validators`, the round's Active
        validators (transmit_args lists them ascending by numeric address, as NodeFeed checks
        them); the transaction hash. JsonRpcError when the node refuses it (the estimate
        reverts: a stale round, a quorum not met, a validator list the chain no longer has)."""
        return await self.send(feed.address, feed.transmit.calldata(
            *transmit_args(report, validators, signatures)))


# membership and signatures
def active_validators(membership: Membership) -> tuple[str, ...]:
    """The holders of an active Validator license in the snapshot, sorted as the replica
    orders them (by their checksummed text)."""
    return tuple(sorted(checksum(raw) for raw in membership.holders(NodeType.VALIDATOR)))


def quorum(active: int) -> int:
    """NodeFeed's quorum: floor(2n/3) + 1 of the active validators."""
    return active * 2 // 3 + 1


def consensus_codec(key: NodeKey, chain_id: int) -> Codec:
    private = coincurve.PrivateKey(key.private_key)

    def sign(digest: bytes) -> bytes:
        signature = private.sign_recoverable(digest, hasher=None)
        return signature[:64] + bytes((signature[64] + 27,))

    return Codec(key.address, consensus_domain(chain_id), sign, recover_signer)


class Liveness:
    """Who signed each round's report, over the last `window` rounds (Cosmos x/slashing's
    signed-blocks window): a validator's missed rounds are those of its membership it did not
    sign."""

    def __init__(self, window: int = LIVENESS_WINDOW) -> None:
        self.window = window
        self.rounds: dict[int, tuple[frozenset[str], frozenset[str]]] = {}

    def record(self, round_number: int, members: tuple[str, ...], signers: set[str]) -> dict:
        self.rounds[round_number] = (frozenset(members), frozenset(signers))
        for old in sorted(self.rounds)[:-self.window]:
            del self.rounds[old]
        missed: dict[str, int] = {}
        for round_members, round_signers in self.rounds.values():
            for member in round_members - round_signers:
                missed[member] = missed.get(member, 0) + 1
        return missed


@dataclass
class Agreed:
    """A decided round on its way on-chain."""

    report: Report
    members: tuple[str, ...]
    order: tuple[str, ...]
    view: int
    decided_at: datetime
    signatures: dict[str, bytes] = field(default_factory=dict)
    scheduled: bool = False

    def reported(self, feed_id: str, status: RoundStatus) -> RoundReport:
        """The round as this validator tells the backend: decided in `view`, led by that
        view's leader (the first of `order`)."""
        report = self.report
        return RoundReport(feed=feed_id, round=report.round, view=self.view,
                           leader=self.order[0],
                           answer=report.answer, observed_at=report.observed_at,
                           signers=tuple(sorted(self.signatures)), status=status,
                           decided_at=self.decided_at)


@dataclass
class Context:
    network: Network
    log: ExecutionLog
    key: NodeKey
    chain_id: int
    chain: FeedChain
    codec: Codec
    settings: ValidatorSettings
    round_interval: float
    watch: ConsensusWatch
    rounds: RoundLog = field(default_factory=RoundLog)
    messages: MessageLog = field(default_factory=MessageLog)
    liveness: Liveness = field(default_factory=Liveness)
    tasks: set[asyncio.Task] = field(default_factory=set)

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


@contextlib.contextmanager
def executing(log: ExecutionLog, function: str | None) -> Iterator[None]:
    """`log.run(function)`, or nothing when no catalogue function runs here."""
    if function is None:
        yield
        return
    with log.run(function):
        yield


class FeedDriver:
    """One feed's consensus: its replica, the observations and signatures of its rounds."""

    def __init__(self, feed: FeedContract, context: Context) -> None:
        self.feed, self.context = feed, context
        settings = context.settings
        self.me = context.key.address
        self.replica = Replica(self.me, timeout_ticks=settings.validator_view_timeout_ticks,
                               retransmit_ticks=settings.validator_retransmit_ticks,
                               min_observations=settings.validator_min_observations,
                               check_observation=ObservationProofs.of_feed(
                                   feed.feed_id, context.network,
                                   settings.validator_round_every))
        self.consensus_subject = f"{CONSENSUS}.{feed.feed_id}"
        self.signatures_subject = f"{SIGNATURES}.{feed.feed_id}"
        self.observations: dict[int, dict[str, tuple[int, int, bytes]]] = {}
        """Per consensus round, per oracle: (oracle round, value, signed frame) of its latest
        observation."""
        self.members: dict[int, tuple[str, ...]] = {}
        self.agreed: dict[int, Agreed] = {}
        self.early: dict[int, dict[str, tuple[Report, bytes]]] = {}
        self.landed = 0
        self.attendance = Attendance(feed.feed_id, self.me, context.log,
                                     settings.validator_min_observations)
        self._epoch = time.monotonic()

    def now(self) -> int:
        return int((time.monotonic() - self._epoch) * 1000 / self.context.settings
                   .validator_tick_ms)

    # inputs
    def observed(self, oracle: str, observation: Observation, frame: bytes) -> None:
        """Keep each oracle's latest observation among the oracle rounds a consensus round
        covers ((c - 1) * every, c * every]: an oracle whose loop skipped round c * every (its
        rounds follow the wall clock) still counts with the one before."""
        every = self.context.settings.validator_round_every
        round_number = -(-observation.round_id // every)
        if self.replica.round is not None and round_number <= self.replica.round:
            return
        kept = self.observations.setdefault(round_number, {})
        known = kept.get(oracle)
        if known is None or observation.round_id > known[0]:
            kept[oracle] = (observation.round_id, observation.value, frame)

    async def start(self, round_number: int) -> None:
        self._close_round()
        members = active_validators(self.context.network.membership)
        if self.me not in members:
            return
        self.members[round_number] = members
        observations = [OracleValue(oracle, value, frame) for oracle, (_, value, frame)
                        in sorted(self.observations.get(round_number, {}).items())]
        self.attendance.open(round_number, members, len(observations))
        leading = members[round_number % len(members)] == self.me
        with executing(self.context.log, "propose_batch" if leading else None):
            actions = self.replica.start_round(round_number, members, observations, self.now())
        self._forget_before(round_number)
        await self._carry_out(actions)

    async def on_consensus(self, verified: Verified) -> None:
        if verified.sender == self.me:
            return
        try:
            message = self.context.codec.decode(verified.payload)
        except InvalidMessage as error:
            log.warning("consensus message from %s refused: %s", verified.sender, error)
            self.context.watch.refused(self.feed.feed_id, verified)
            return
        members = self.members.get(message.round) or active_validators(
            self.context.network.membership)
        self.context.watch.received(self.feed.feed_id, verified, message, members)
        if message.sender != verified.sender or message.sender not in members:
            return
        self.attendance.heard_from(message.sender)
        self._keep(message, verified.payload["signature"])
        current = (message.round == self.replica.round
                   and self.replica.decision(message.round) is None)
        function = VOTES_ON_RECEIPT.get(type(message)) if current else None
        with executing(self.context.log, function):
            actions = self.replica.on_message(message, self.now())
        await self._carry_out(actions)

    async def on_signature(self, verified: Verified) -> None:
        payload = verified.payload
        try:
            with self.context.log.run("validate_tx_signature"):
                report, signature = self._checked_signature(verified.sender, payload)
        except InvalidParameter as refused:
            log.warning("report signature from %s refused: %s", verified.sender, refused)
            return
        agreed = self.agreed.get(report.round)
        if agreed is None:
            if report.round > self.landed:
                self.early.setdefault(report.round, {})[verified.sender] = (report, signature)
            return
        if verified.sender in agreed.members and report == agreed.report:
            agreed.signatures[verified.sender] = signature
            self._schedule_if_quorum(agreed)

    def _checked_signature(self, sender: str, payload: dict[str, Any]) -> tuple[Report, bytes]:
        """The report and signature of a signature message, if the signature is the sender's
        EIP-712 signature of that report for this feed on this chain."""
        try:
            report = Report(int(payload["round"]), int(payload["answer"]),
                            int(payload["observed_at"]))
            signature = bytes.fromhex(str(payload["signature"]).removeprefix("0x"))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidParameter(f"malformed report signature: {error}") from None
        digest = report_digest(self.context.chain_id, self.feed.address, report)
        signer = recover(digest, signature) if len(signature) == 65 else None
        if signer is None or checksum(signer) != sender:
            raise InvalidParameter(f"report signature of round {report.round} is not "
                                   f"{sender}'s")
        return report, signature

    def _close_round(self) -> None:
        """The round ending now says why it was not decided, if a quorum did not answer."""
        ending = self.attendance.round
        self.attendance.close(ending is not None and self.replica.decision(ending) is not None)

    def _wake(self) -> None:
        self.context.spawn(self.on_timer())

    async def on_timer(self) -> None:
        await self._carry_out(self.replica.on_timer(self.now()))

    # outputs
    async def _carry_out(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                payload = self.context.codec.encode(action.message)
                self._keep(action.message, payload["signature"])
                await self.context.network.publish(self.consensus_subject, payload)
            elif isinstance(action, StartTimer):
                delay = action.ticks * self.context.settings.validator_tick_ms / 1000
                asyncio.get_running_loop().call_later(delay, self._wake)
            elif isinstance(action, Decide):
                await self._decided(action)

    def _keep(self, message: Message, signature: str) -> None:
        """A message this validator signed or accepted, for the backend."""
        self.context.messages.record(self.feed.feed_id, canonical(message), signature,
                                     datetime.now(UTC))

    async def _decided(self, decision: Decide) -> None:
        metrics.decided(self.feed.feed_id)
        observed_at = (decision.round * self.context.settings.validator_round_every
                       * self.context.round_interval)
        report = Report(decision.round, decision.value, int(observed_at))
        try:
            with self.context.log.run("validate_report_payload"):
                self._check_report(report)
        except FunctionInputError as refused:
            log.info("round %s of %s decided here, not signed: %s", decision.round,
                     self.feed.feed_id, refused)
            return
        if self.me not in active_validators(self.context.network.membership):
            return
        members = self.members[decision.round]
        agreed = Agreed(report, members, leader_first(members, decision.view), decision.view,
                        datetime.now(UTC))
        agreed.signatures[self.me] = sign_report(self.context.key.private_key,
                                                 self.context.chain_id, self.feed.address,
                                                 report)
        self.agreed[decision.round] = agreed
        await self.context.network.publish(self.signatures_subject, {
            "round": report.round, "answer": str(report.answer),
            "observed_at": report.observed_at,
            "signature": "0x" + agreed.signatures[self.me].hex()})
        for sender, (early_report, signature) in self.early.pop(decision.round, {}).items():
            if sender in members and early_report == report:
                agreed.signatures[sender] = signature
        self.context.rounds.record(agreed.reported(self.feed.feed_id, "agreed"))
        self._schedule_if_quorum(agreed)

    def _check_report(self, report: Report) -> None:
        """A report worth signing: a positive answer for a round after the last landed."""
        if report.answer <= 0:
            raise NonPositivePrice(f"round {report.round} answer {report.answer} is not > 0")
        if report.round <= self.landed:
            raise StaleInput(f"round {report.round} is not after round {self.landed}, "
                             f"already on-chain")

    def _schedule_if_quorum(self, agreed: Agreed) -> None:
        active = active_validators(self.context.network.membership)
        counted = [signer for signer in agreed.signatures if signer in active]
        if agreed.scheduled or len(counted) < quorum(len(active)):
            return
        agreed.scheduled = True
        self.context.spawn(self._transmit_in_turn(agreed))

    async def _transmit_in_turn(self, agreed: Agreed) -> None:
        """OCR2's staged transmission: wait for this validator's turn, then transmit unless
        the round has landed."""
        round_number = agreed.report.round
        with self.context.log.run("schedule_transmission"):
            turn = agreed.order.index(self.me)
            wait = turn * self.context.settings.validator_transmit_delay
        await asyncio.sleep(wait)
        try:
            with self.context.log.run("validate_nonce_and_replay"):
                self.landed = max(self.landed, await self.context.chain.latest_round(self.feed))
                fresh = round_number > self.landed
            active = active_validators(self.context.network.membership)
            if fresh and self.me not in active:
                log.warning("round %s of %s not transmitted: this validator is no longer "
                            "active", round_number, self.feed.feed_id)
            elif fresh:
                signatures = {signer: signature for signer, signature
                              in agreed.signatures.items() if signer in active}
                sent = await self.context.chain.transmit(self.feed, agreed.report, active,
                                                         signatures)
                if not await self.context.chain.succeeded(sent):
                    log.warning("round %s of %s: transmit %s reverted or not mined",
                                round_number, self.feed.feed_id, sent)
                self.landed = max(self.landed, await self.context.chain.latest_round(self.feed))
        except jsonrpc.JsonRpcError as error:
            log.warning("round %s of %s not transmitted: %s", round_number,
                        self.feed.feed_id, error)
        finally:
            self._track_liveness(agreed)
            self.context.rounds.record(agreed.reported(
                self.feed.feed_id, "transmitted" if self.landed >= round_number else "failed"))

    def _track_liveness(self, agreed: Agreed) -> None:
        with self.context.log.run("track_liveness"):
            missed = self.context.liveness.record(agreed.report.round, agreed.members,
                                                  set(agreed.signatures))
        late = {member: count for member, count in missed.items() if count * 2 > LIVENESS_WINDOW}
        if late:
            log.warning("validators missing most rounds of %s: %s", self.feed.feed_id, late)

    def _forget_before(self, round_number: int) -> None:
        oldest = round_number - KEPT_ROUNDS
        for kept in (self.members, self.agreed, self.early):
            for old in [number for number in kept if number < oldest]:
                del kept[old]
        self.observations = {number: values for number, values in self.observations.items()
                             if number > round_number}
        self.context.codec.forget_before(round_number)


class ValidatorDuties:
    """Opens a consensus round per feed on the shared clock; the bus handlers do the rest."""

    def __init__(self, network: Network, log: ExecutionLog, key: NodeKey,
                 feeds: dict[str, FeedContract], rpc_url: str, round_interval: float,
                 settings: ValidatorSettings | None = None,
                 rounds: RoundLog | None = None, messages: MessageLog | None = None) -> None:
        settings = settings or ValidatorSettings()
        chain_id = network.bus.signer.domain.chain_id
        self.coordination = Coordination(
            lambda: network.bus.jetstream, key.address,
            LEASE_ROUNDS * settings.validator_round_every * round_interval)
        self._renewing: asyncio.Task | None = None
        self.context = Context(network, log, key, chain_id, FeedChain(rpc_url, key, chain_id),
                               consensus_codec(key, chain_id), settings, round_interval,
                               ConsensusWatch(log, chain_id, key.address,
                                              self.coordination.holds),
                               RoundLog() if rounds is None else rounds,
                               MessageLog() if messages is None else messages)
        self.drivers = {feed_id: FeedDriver(feed, self.context) for feed_id, feed in feeds.items()}
        self.started = 0
        self.subscribed = False

    async def step(self) -> int:
        if not self.subscribed:
            await self._subscribe()
            self.subscribed = True
        if not self.drivers:
            return 0
        before = self.context.log.recorded
        round_number, starts_at = self._next_round(time.time())
        wait = starts_at - time.time()
        if wait < self.context.round_interval:
            await asyncio.sleep(max(0.0, wait))
            self.started = round_number
            self._renew_lease()
            for driver in self.drivers.values():
                await driver.start(round_number)
        return self.context.log.recorded - before

    def _renew_lease(self) -> None:
        """Renew the coordinator lease in the background (one renewal at a time)."""
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.get_running_loop().create_task(self.coordination.renew())

    def _next_round(self, now: float) -> tuple[int, float]:
        """The next consensus round to open and when: round c (oracle round r = c * every)
        opens a fifth of an interval into oracle round r + 1, when every oracle has published
        r; a round whose time has passed opens now."""
        interval = self.context.round_interval
        every = self.context.settings.validator_round_every
        grace = interval / 5
        round_number = max((int((now - grace) // interval) - 1) // every, self.started + 1)
        return round_number, (round_number * every + 1) * interval + grace

    async def _subscribe(self) -> None:
        network = self.context.network
        await network.subscribe(f"{OBSERVATIONS}.*", self._observed)
        for driver in self.drivers.values():
            await network.subscribe(driver.consensus_subject, driver.on_consensus,
                                    self._budget())
            await network.subscribe(driver.signatures_subject, driver.on_signature,
                                    self._budget())

    def _budget(self) -> SenderBudget:
        """Each validator's budget on one feed's subject: a flooding member is dropped
        before any codec or replica work (docs/consensus.md, "Flooding")."""
        settings = self.context.settings
        return SenderBudget(settings.validator_message_rate, settings.validator_message_burst)

    async def _observed(self, message: Verified) -> None:
        try:
            observation = Observation.from_payload(message.payload)
        except InvalidObservation as error:
            log.warning("observation from %s refused: %s", message.sender, error)
            return
        driver = self.drivers.get(observation.feed_id)
        if driver is not None:
            driver.observed(message.sender, observation, message.frame)
