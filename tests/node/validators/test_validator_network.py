"""Validators agree on each round's report by PBFT over the real bus and put it on-chain by
staged transmission: rounds land with answers from the replayed market, one Transmitted event
each, listed by GET /network/rounds as the validators report them with the chain's transmit
transaction; a killed leader costs a view change, not the feed (a round opens after its
observed_at, so one observed after the kill cannot carry the dead validator's signature; on a
loaded machine more than one round is in flight at the kill); a suspended validator leaves the
next round and its signatures stop counting.

The tests run in order on one network (tests/node/validators/conftest.py)."""

from __future__ import annotations

import contextlib
from collections import Counter

from noderr.catalogue import of_type
from noderr.consensus_text import signed_digest, signer
from noderr.domain import NodeType
from tests.node.validators.conftest import FEED, FeedNetwork, kill_the_leader

CONSENSUS_FUNCTIONS = {"propose_batch", "vote_prepare", "vote_commit", "validate_tx_signature",
                       "validate_report_payload", "schedule_transmission",
                       "validate_nonce_and_replay", "track_liveness", "detect_double_sign",
                       "score_peer"}


def test_rounds__four_validators__land_once_each_within_the_replayed_range(
        feed_network: FeedNetwork, replay_range: tuple[int, int]):
    events = feed_network.wait_rounds(4)

    rounds = [event["round"] for event in events]
    assert rounds == sorted(set(rounds))
    low, high = replay_range
    assert all(low <= event["answer"] <= high for event in events)
    assert all(len(event["signers"]) >= 3 for event in events)
    latest = feed_network.feed.functions.latestRoundData().call()
    assert (latest[0], latest[1]) == (events[-1]["round"], events[-1]["answer"])


def test_rounds_listing__landed_rounds__reported_with_the_chains_transmit_tx(
        feed_network: FeedNetwork):
    network = feed_network.network
    landed = {event["round"]: event for event in feed_network.wait_rounds(2)}
    validators = {network.account(account) for account in feed_network.validators}

    def listed() -> list[dict]:
        items = network.api("/network/rounds", feed=FEED, status="transmitted",
                            from_round=min(landed), to_round=max(landed), limit=1000)["items"]
        return items if {item["round"] for item in items} == set(landed) else []

    items = network.wait_until(listed, "the landed rounds listed as transmitted")

    for item in items:
        event = landed[item["round"]]
        assert (item["transmit_tx_hash"], item["block_number"], item["transmitter"]) == \
            (event["tx_hash"], event["block"], event["transmitter"])
        assert (int(item["value"]), item["signers"]) == (event["answer"], list(event["signers"]))
        assert item["reported_by"] in validators and item["agrees_with_chain"]
        assert item["view"] is None or (item["view"] >= item["round"]
                                        and item["leader"] in validators)
    assert {item["round"] for item in items if item["view"] is not None} == set(landed), \
        "a validator that decided in a view reports it and its leader"


def test_messages__landed_round__every_validators_messages_stored_and_verifiable(
        feed_network: FeedNetwork):
    network = feed_network.network
    event = feed_network.wait_rounds(2)[-1]
    validators = {network.account(account) for account in feed_network.validators}
    path = f"/network/rounds/{FEED}/{event['round']}/messages"

    def reported() -> list[dict]:
        items = network.api(path, limit=1000)["items"]
        senders = {item["reported_by"] for item in items if item["direction"] == "sent"}
        phases = {item["phase"] for item in items}
        return items if senders == validators and phases >= {"pre_prepare", "prepare",
                                                              "commit"} else []

    items = network.wait_until(reported, f"round {event['round']}'s messages reported by all")

    assert len({(item["reported_by"], item["signed_digest"]) for item in items}) == len(items)
    for item in items:
        digest = signed_digest(network.w3.eth.chain_id, item["text"])
        assert signer(digest, bytes.fromhex(item["signature"][2:])) == item["sender"].lower()
        assert item["sender"] in validators and item["round"] == event["round"]


def test_executions__consensus_functions__recorded_by_validators(feed_network: FeedNetwork):
    network = feed_network.network
    assert {spec.name for spec in of_type(NodeType.VALIDATOR)} >= CONSENSUS_FUNCTIONS
    addresses = [network.account(account) for account in feed_network.validators]

    def recorded() -> set[str]:
        return {function for function in CONSENSUS_FUNCTIONS
                if any(network.api("/network/executions", node=address, function=function,
                                   limit=1)["items"] for address in addresses)}

    with contextlib.suppress(AssertionError):
        network.wait_until(lambda: recorded() == CONSENSUS_FUNCTIONS,
                           "every consensus function recorded")
    assert recorded() == CONSENSUS_FUNCTIONS


def test_leader_killed__rounds_keep_landing_through_the_next(feed_network: FeedNetwork):
    network = feed_network.network
    leader, events, opened_after_kill = kill_the_leader(feed_network, 4)

    dead = network.account(leader)
    assert all(event["transmitter"] != dead for event in events)
    assert all(dead not in event["signers"] for event in opened_after_kill), \
        "only rounds in flight at the kill may carry the dead validator's signature"
    assert max(Counter(event["round"] for event in events).values()) == 1
    view_changes = [row for account in feed_network.validators if account != leader
                    for row in network.executions(network.account(account),
                                                  function="handle_view_change", outcome="ok")]
    assert view_changes
    feed_network.start_validator(leader).wait_for("node activated", timeout=60)


def test_suspended_validator__leaves_and_its_signatures_stop_counting(
        feed_network: FeedNetwork):
    network = feed_network.network
    account = 6
    address = network.account(account)
    feed_network.wait_rounds(1)
    token = network.ops.contract.functions.token_of(address, NodeType.VALIDATOR).call()
    network.ops.suspend(token)
    feed_network.validators[account].wait_for("suspended", timeout=30)
    suspended_at = network.w3.eth.block_number

    events = feed_network.wait_rounds(3, after_block=suspended_at)

    assert all(address not in event["signers"] and event["transmitter"] != address
               for event in events)
    assert all(len(event["signers"]) >= 3 for event in events)
