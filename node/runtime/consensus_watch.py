"""What a validator learns about its peers from the consensus traffic it receives, per feed:
double signing (detect_double_sign over each round's signed messages, embedded ones included)
and peer scores (score_peer over the last WINDOW rounds). A round is examined once the
messages of the round after next arrive, so its late messages are in.

The FeedDrivers of node/runtime/validator.py hand it every consensus message they receive
(`received`) or refuse (`refused`); evidence and scores are kept here and logged, and each
examination is recorded in the ExecutionLog like every catalogue function, with what it found
(the double signers, the peers scoring low) as the record's result, so GET /network/executions
names them.

Every validator looks for double signing (each acts on evidence by its operator's policy);
peer scoring is a coordinator duty: it runs only while `coordinating()` says this validator
holds the coordinator lease (node/runtime/lease.py), so one validator scores for all."""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.bus.envelope import checksum, recover
from node.consensus.messages import Message
from node.execution import ExecutionLog
from node.runtime.network import Verified
from node.validator.coordination import PeerScore, PeerStats, score_peer
from node.validator.stake import DoubleSignEvidence, detect_double_sign
from noderr.consensus_text import consensus_domain
from noderr.execution_results import MAX_ITEMS, DoubleSign, ExecutionResult, LowScore

log = logging.getLogger("noderr.node.validator")
WINDOW = 20
LOW_SCORE = 0.25


def recover_signer(digest: bytes, signature: bytes) -> str | None:
    """The checksummed signer of `digest`, as the consensus codec recovers it."""
    signer = recover(digest, signature) if len(signature) == 65 else None
    return None if signer is None else checksum(signer)


@dataclass
class RoundLog:
    members: tuple[str, ...] = ()
    payloads: list[dict[str, Any]] = field(default_factory=list)
    messages: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class FeedLog:
    open: dict[int, RoundLog] = field(default_factory=dict)
    closed: deque[RoundLog] = field(default_factory=lambda: deque(maxlen=WINDOW))
    closed_through: int = -1


class ConsensusWatch:
    def __init__(self, log: ExecutionLog, chain_id: int, me: str,
                 coordinating: Callable[[], bool] = lambda: True) -> None:
        self.log, self.me, self.coordinating = log, me, coordinating
        self.domain = consensus_domain(chain_id)
        self.feeds: dict[str, FeedLog] = {}
        self.evidence: dict[str, DoubleSignEvidence] = {}
        self.scores: dict[str, dict[str, PeerScore]] = {}

    def received(self, feed_id: str, verified: Verified, message: Message,
                 members: tuple[str, ...]) -> None:
        """A decoded consensus message of `feed_id`'s round `message.round`, whose members
        are `members`; one signed by someone other than the bus sender counts as invalid."""
        feed = self.feeds.setdefault(feed_id, FeedLog())
        if message.round <= feed.closed_through:
            return
        round_log = feed.open.get(message.round)
        if round_log is None:
            round_log = feed.open[message.round] = RoundLog(members)
            self._close_before(feed_id, feed, message.round - 1)
        sender = verified.sender
        round_log.payloads.append(verified.payload)
        round_log.messages[sender] += 1
        if message.sender != sender:
            round_log.invalid[sender] += 1
        round_log.latencies_ms.setdefault(sender, []).append(
            time.time() * 1000 - verified.timestamp_ms)

    def refused(self, feed_id: str, verified: Verified) -> None:
        """A consensus message that did not decode (malformed, or a signature not its
        author's), counted against its sender in the newest round."""
        feed = self.feeds.get(feed_id)
        if feed is None or not feed.open:
            return
        round_log = feed.open[max(feed.open)]
        round_log.messages[verified.sender] += 1
        round_log.invalid[verified.sender] += 1

    def _close_before(self, feed_id: str, feed: FeedLog, round_number: int) -> None:
        for number in sorted(number for number in feed.open if number < round_number):
            closing = feed.open.pop(number)
            feed.closed_through = number
            self._examine(feed_id, number, closing)
            feed.closed.append(closing)
            if self.coordinating():
                self._score(feed_id, feed)

    def _examine(self, feed_id: str, round_number: int, round_log: RoundLog) -> None:
        with self.log.run("detect_double_sign") as run:
            found = detect_double_sign(round_log.payloads, self.domain, recover_signer)
            run.result = double_sign_result(found)
        for evidence in found:
            if evidence.digest not in self.evidence:
                self.evidence[evidence.digest] = evidence
                log.warning("double signing by %s in round %s of %s (view %s, %s): evidence "
                            "sha256:%s", evidence.signer, round_number, feed_id, evidence.view,
                            evidence.phase, evidence.digest)

    def _score(self, feed_id: str, feed: FeedLog) -> None:
        peers = [peer for peer in feed.closed[-1].members if peer != self.me]
        with self.log.run("score_peer") as run:
            scores = {peer: score_peer(self._stats(feed, peer)) for peer in peers}
            low = {peer: round(score.score, 3) for peer, score in scores.items()
                   if score.score < LOW_SCORE}
            run.result = low_score_result(low)
        self.scores[feed_id] = scores
        if low:
            log.warning("peers scoring below %s on %s: %s", LOW_SCORE, feed_id, low)

    @staticmethod
    def _stats(feed: FeedLog, peer: str) -> PeerStats:
        rounds = [round_log for round_log in feed.closed if peer in round_log.members]
        return PeerStats(
            messages=sum(round_log.messages[peer] for round_log in rounds),
            invalid_messages=sum(round_log.invalid[peer] for round_log in rounds),
            latencies_ms=[latency for round_log in rounds
                          for latency in round_log.latencies_ms.get(peer, ())],
            rounds_heard=sum(1 for round_log in rounds if round_log.messages[peer]),
            rounds_member=len(rounds))


def double_sign_result(found: tuple[DoubleSignEvidence, ...]) -> ExecutionResult | None:
    """The execution result naming the double signers (the first MAX_ITEMS), None if none."""
    if not found:
        return None
    return ExecutionResult(double_signs=[
        DoubleSign(signer=evidence.signer, round=evidence.round, view=evidence.view,
                   phase=evidence.phase, evidence=evidence.digest)
        for evidence in found[:MAX_ITEMS]])


def low_score_result(low: dict[str, float]) -> ExecutionResult | None:
    """The execution result naming the peers scoring low (the first MAX_ITEMS), None if none."""
    if not low:
        return None
    return ExecutionResult(low_scores=[LowScore(peer=peer, score=score)
                                       for peer, score in list(low.items())[:MAX_ITEMS]])
