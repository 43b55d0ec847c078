"""The validator runtime's watch over consensus traffic: an equivocating leader is caught as
double-sign evidence once its round closes, peers are scored on what they sent (silent,
invalid, honest), and both runs are recorded in the execution log with what they found (the
double signer, the peers scoring low) as the records' results; a validator that does not
hold the coordinator lease still looks for double signing but leaves the scoring to the holder."""

from __future__ import annotations

import time

from node.bus.verify import Message
from node.consensus.messages import Commit, Prepare
from node.consensus.wire import Codec
from node.execution import ExecutionLog
from node.runtime.consensus_watch import LOW_SCORE, ConsensusWatch, double_sign_result
from node.validator.stake import DoubleSignEvidence, verify_evidence
from noderr.domain import NodeType
from noderr.execution_results import MAX_ITEMS, ExecutionResult
from tests.node.validator.helpers import (
    CHAIN,
    DOMAIN,
    KEYS,
    eth_keys_recover,
    pre_prepare,
    proposal,
    vote,
)

LEADER, HONEST, SILENT, ME = (key.address for key in KEYS)
MEMBERS = tuple(sorted((LEADER, HONEST, SILENT, ME)))


def verified(sender: str, payload: dict) -> Message:
    return Message(sender, NodeType.VALIDATOR, 1, int(time.time() * 1000) - 100,
                   "noderr.validator.consensus.SP500", payload)


def feed(watch: ConsensusWatch, sender: str, payload: dict) -> None:
    message = Codec("", DOMAIN, lambda digest: b"", eth_keys_recover).decode(payload)
    watch.received("SP500", verified(sender, payload), message, MEMBERS)


def run_rounds(watch: ConsensusWatch) -> None:
    digest = proposal(8, 1, 2, 3).digest
    feed(watch, LEADER, pre_prepare(KEYS[0], 8, 0, 1, 2, 3))
    feed(watch, HONEST, vote(Prepare, KEYS[1], 8, 0, digest))
    watch.refused("SP500", verified(HONEST, {"type": "prepare", "body": {}}))
    feed(watch, LEADER, pre_prepare(KEYS[0], 8, 0, 4, 5, 6))
    for round_number in (9, 10):
        feed(watch, HONEST, vote(Commit, KEYS[1], round_number, 0,
                                 proposal(round_number, 1, 2, 3).digest))


def test_watch__equivocating_leader__evidence_after_its_round_closes():
    watch = ConsensusWatch(ExecutionLog(), CHAIN, ME)

    run_rounds(watch)

    [evidence] = watch.evidence.values()
    assert (evidence.signer, evidence.round, evidence.phase) == (LEADER, 8, "pre_prepare")
    assert verify_evidence(evidence, DOMAIN, eth_keys_recover)


def test_watch__closed_round__peers_scored_on_what_they_sent():
    watch = ConsensusWatch(ExecutionLog(), CHAIN, ME)

    run_rounds(watch)

    scores = watch.scores["SP500"]
    assert set(scores) == {LEADER, HONEST, SILENT}
    assert scores[SILENT].score == 0.0
    assert (scores[HONEST].uptime, scores[HONEST].validity) == (1.0, 0.5)
    assert scores[LEADER].validity == 1.0
    assert 0.0 < scores[HONEST].score < scores[LEADER].score < 1.0


def test_watch__round_closed__both_functions_recorded():
    log = ExecutionLog()
    watch = ConsensusWatch(log, CHAIN, ME)

    run_rounds(watch)

    recorded = [(execution.function, execution.outcome) for execution in log.drain()]
    assert recorded == [("detect_double_sign", "ok"), ("score_peer", "ok")]


def test_watch__round_closed__findings_are_the_records_results():
    log = ExecutionLog()
    watch = ConsensusWatch(log, CHAIN, ME)

    run_rounds(watch)

    detected, scored = log.drain()
    [evidence] = watch.evidence.values()
    [named] = detected.result.double_signs
    assert (named.signer, named.round, named.view, named.phase, named.evidence) == (
        LEADER, 8, 0, "pre_prepare", evidence.digest)
    low = {item.peer: item.score for item in scored.result.low_scores}
    assert low == {peer: round(score.score, 3) for peer, score in watch.scores["SP500"].items()
                   if score.score < LOW_SCORE}
    assert low[SILENT] == 0.0


def test_watch__no_finding__no_result():
    log = ExecutionLog()
    watch = ConsensusWatch(log, CHAIN, ME, coordinating=lambda: False)
    feed(watch, HONEST, vote(Commit, KEYS[1], 8, 0, proposal(8, 1, 2, 3).digest))
    for round_number in (9, 10):
        feed(watch, HONEST, vote(Commit, KEYS[1], round_number, 0,
                                 proposal(round_number, 1, 2, 3).digest))

    [execution] = log.drain()
    assert (execution.function, execution.result) == ("detect_double_sign", None)


def test_double_sign_result__more_than_max_items__the_first_max_items():
    found = tuple(DoubleSignEvidence(LEADER, number, 0, "commit", {"n": number}, {"n": -number})
                  for number in range(MAX_ITEMS + 5))

    result = double_sign_result(found)

    assert [item.round for item in result.double_signs] == list(range(MAX_ITEMS))
    assert ExecutionResult.model_validate(result.model_dump()) == result


def test_watch__late_message_of_a_closed_round__ignored():
    watch = ConsensusWatch(ExecutionLog(), CHAIN, ME)
    run_rounds(watch)

    feed(watch, SILENT, vote(Prepare, KEYS[2], 8, 0, proposal(8, 1, 2, 3).digest))

    assert 8 not in watch.feeds["SP500"].open


def test_watch__not_the_coordinator__double_signing_found_peers_not_scored():
    log = ExecutionLog()
    watch = ConsensusWatch(log, CHAIN, ME, coordinating=lambda: False)

    run_rounds(watch)

    assert len(watch.evidence) == 1 and watch.scores == {}
    assert [execution.function for execution in log.drain()] == ["detect_double_sign"]
