"""A decided round's message is answered with the decision (its quorum of commits, each
re-embedded with its author's signature) only while the codec still keeps those signatures:
the replica's decided-round history ends where wire.KEPT_ROUNDS does. The n = 7 chaos run
raised `no signature of ... kept for Commit(...)` ~1,000 times when a liar replayed messages
of older decided rounds. And one member asking about many old rounds gets one answer per
retransmit period, as one laggard does."""

from __future__ import annotations

from node.consensus.messages import Commit, Decided, OracleValue, Prepare
from node.consensus.proposals import propose
from node.consensus.replica import Replica, Send
from node.consensus.wire import KEPT_ROUNDS, Codec
from node.runtime.keys import anvil_account
from node.runtime.validator import consensus_codec

CHAIN = 31337
KEYS = [anvil_account(index, CHAIN) for index in (5, 6, 7, 9)]
MEMBERS = tuple(sorted(key.address for key in KEYS))
RETRANSMIT = 5
ROUNDS = KEPT_ROUNDS + 4


def observation(round_number: int) -> OracleValue:
    return OracleValue("0x" + "11" * 20, 100 + round_number, b"\x01signed frame")


def deciding(replica: Replica, codec: Codec, others: dict[str, Codec], round_number: int,
             now: int) -> None:
    """Open the round as the runtime does (then the codec forgets older signatures) and let a
    Decided from the other members, decoded by the codec, decide it."""
    replica.start_round(round_number, MEMBERS, (), now)
    codec.forget_before(round_number)
    proposal = propose(round_number, [observation(round_number)])
    authors = sorted(others)
    commits = tuple(Commit(author, round_number, round_number, proposal.digest)
                    for author in authors)
    decided = Decided(authors[0], round_number, proposal, commits)
    for commit in commits:
        signed = others[commit.sender].encode(commit)
        for receiver in (codec, *others.values()):
            receiver.decode(signed)
    message = codec.decode(others[authors[0]].encode(decided))
    assert any(action.round == round_number for action in replica.on_message(message, now)
               if not isinstance(action, Send))


def decided_replica() -> tuple[Replica, Codec, list[str]]:
    codecs = {key.address: consensus_codec(key, CHAIN) for key in KEYS}
    me = MEMBERS[0]
    codec = codecs.pop(me)
    replica = Replica(me, timeout_ticks=20, retransmit_ticks=RETRANSMIT, min_observations=1,
                      check_observation=lambda _round, _item: True)
    for round_number in range(1, ROUNDS + 1):
        deciding(replica, codec, codecs, round_number, now=round_number * 100)
    return replica, codec, sorted(codecs)


def answers(replica: Replica, codec: Codec, sender: str, round_number: int,
            now: int) -> list[dict]:
    actions = replica.on_message(Prepare(sender, round_number, round_number, "0" * 64), now)
    return [codec.encode(action.message) for action in actions if isinstance(action, Send)]


def test_answer_laggard__round_older_than_the_codecs_signatures__not_answered():
    replica, codec, others = decided_replica()
    now = (ROUNDS + 1) * 100
    for round_number in range(1, ROUNDS - KEPT_ROUNDS):
        assert answers(replica, codec, others[0], round_number, now + round_number
                       * RETRANSMIT) == []


def test_answer_laggard__decided_round_in_the_codecs_horizon__answered_with_its_commits():
    replica, codec, others = decided_replica()
    [answer] = answers(replica, codec, others[0], ROUNDS - KEPT_ROUNDS, (ROUNDS + 1) * 100)
    assert answer["type"] == "decided" and len(answer["body"]["commits"]) == len(others)


def test_answer_laggard__one_member_asking_about_every_kept_round__one_answer_per_period():
    replica, codec, others = decided_replica()
    now = (ROUNDS + 1) * 100
    asked = range(ROUNDS - KEPT_ROUNDS, ROUNDS)
    at_once = [answers(replica, codec, others[0], number, now) for number in asked]
    later = answers(replica, codec, others[0], ROUNDS - 1, now + RETRANSMIT)
    other_member = answers(replica, codec, others[1], ROUNDS - 1, now)

    assert sum(map(len, at_once)) == 1
    assert len(later) == 1 and len(other_member) == 1
