"""The validator's observation check on real signed bus frames: an observation counts only as
the frame an active Oracle license holder published on the feed's subject, for that value and
a round the consensus round covers; and a replica using it refuses a leader's made-up values."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from node.bus.envelope import Domain, Signer
from node.bus.membership import Membership
from node.consensus import proposals
from node.consensus.messages import OracleValue, Prepare, PrePrepare
from node.consensus.replica import Replica, Send
from node.oracle.observation import Observation
from node.runtime.keys import anvil_account
from node.runtime.network import OBSERVATIONS
from node.runtime.observation_proofs import ObservationProofs
from noderr.domain import NodeType

CHAIN = 31337
FEED = "SP500"
EVERY = 4
ORACLE_KEYS = [anvil_account(index, CHAIN) for index in (1, 2, 3)]
OUTSIDER = anvil_account(8, CHAIN)
VALIDATORS = tuple(sorted(anvil_account(index, CHAIN).address for index in (5, 6, 7, 9)))


def membership() -> Membership:
    members = Membership()
    members.update(1, [(key.address, NodeType.ORACLE, token)
                       for token, key in enumerate(ORACLE_KEYS, start=10)]
                   + [(address, NodeType.VALIDATOR, token)
                      for token, address in enumerate(VALIDATORS, start=1)])
    return members


def check() -> ObservationProofs:
    return ObservationProofs(FEED, f"{OBSERVATIONS}.{FEED}", Domain(CHAIN), membership(), EVERY)


def published(key, value: int, *, oracle_round: int = 8, feed: str = FEED,
              node_type: NodeType = NodeType.ORACLE, subject: str | None = None) -> OracleValue:
    """An observation as `key` seals it on the bus, relayed with its frame."""
    observation = Observation(feed, oracle_round, value, 0, ("a", "b", "c"),
                              datetime(2026, 1, 1, tzinfo=UTC))
    signer = Signer(key.private_key, node_type, Domain(CHAIN))
    frame = signer.seal(subject or f"{OBSERVATIONS}.{feed}",
                        orjson.dumps(observation.to_payload()))
    return OracleValue(key.address, value, frame)


def test_check__genuine_observation__accepted():
    assert check().problem(2, published(ORACLE_KEYS[0], 100)) is None


@pytest.mark.parametrize(("made_up", "words"), [
    (OracleValue(ORACLE_KEYS[0].address, 100), "not a signed frame"),
    (OracleValue(ORACLE_KEYS[0].address, 999, published(ORACLE_KEYS[0], 100).proof),
     "the oracle signed 100, not 999"),
    (OracleValue(ORACLE_KEYS[1].address, 100, published(ORACLE_KEYS[0], 100).proof),
     "not signed by that oracle"),
    (published(OUTSIDER, 100), "no active Oracle license"),
    (published(anvil_account(5, CHAIN), 100, node_type=NodeType.VALIDATOR),
     "no active Oracle license"),
    (published(ORACLE_KEYS[0], 100, feed="NDX"), "published on noderr.oracle.observations.NDX"),
    (published(ORACLE_KEYS[0], 100, feed="NDX", subject=f"{OBSERVATIONS}.{FEED}"),
     "an observation of NDX"),
    (published(ORACLE_KEYS[0], 100, oracle_round=4), "oracle round 4 is not in (4, 8]"),
    (published(ORACLE_KEYS[0], 100, oracle_round=9), "oracle round 9 is not in (4, 8]"),
])
def test_check__made_up_observation__refused_with_its_reason(made_up, words):
    assert words in check().problem(2, made_up)


def test_check__tampered_frame__refused():
    genuine = published(ORACLE_KEYS[0], 100)
    tampered = genuine.proof.replace(b'"100"', b'"900"')
    assert "not signed by that oracle" in check().problem(2, OracleValue(
        genuine.oracle, 900, tampered))


def test_replica__leader_relays_an_oracle_signature_over_another_value__refused():
    genuine = [published(key, value) for key, value in zip(ORACLE_KEYS, (100, 101, 102),
                                                           strict=True)]
    forged = [OracleValue(item.oracle, 10 * item.value, item.proof) for item in genuine]
    replica = Replica(VALIDATORS[1], timeout_ticks=20, retransmit_ticks=5, min_observations=1,
                      check_observation=check())
    replica.start_round(2, VALIDATORS, genuine, now=0)
    leader = VALIDATORS[2 % 4]

    for observations, prepares in ((forged, False), (genuine, True)):
        proposal = proposals.propose(2, observations)
        actions = replica.on_message(PrePrepare(leader, 2, 2, proposal.digest, proposal), now=1)
        assert any(isinstance(action, Send) and isinstance(action.message, Prepare)
                   for action in actions) is prepares
