"""n = 7 validators (f = 2) on the real network, in order on one network: the leader of a
landed round killed, then two validators Byzantine at once (tests/node/validators/byzantine.py
in place of #7's and #8's processes: equivocating as leaders, voting two digests per phase,
replaying and forging, signing two reports per round, and echoing each other's pre-prepares
into a flood). Rounds keep landing once each with the chain's answer, and the honest five name
both liars, and no one else, in their double-signing evidence."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from node.runtime.keys import anvil_account
from tests.node.runtime.conftest import ROUND_INTERVAL
from tests.node.validators.byzantine import ByzantineValidator
from tests.node.validators.conftest import (
    FEED,
    VALIDATOR_ENV,
    FeedNetwork,
    all_active,
    kill_the_leader,
)
from tests.node.validators.test_validator_opponent_byzantine import (
    all_listed_agree_with_chain,
    double_signs_found,
)

BYZANTINE = (7, 8)


def test_leader_killed__n7__rounds_keep_landing_without_it(feed_network: FeedNetwork):
    network = feed_network.network
    all_active(feed_network)
    leader, events, opened_after_kill = kill_the_leader(feed_network, 3)

    dead = network.account(leader)
    assert all(event["transmitter"] != dead for event in events)
    assert all(dead not in event["signers"] and len(event["signers"]) >= 5
               for event in opened_after_kill)
    assert max(Counter(event["round"] for event in events).values()) == 1
    feed_network.start_validator(leader).wait_for("node activated", timeout=60)


def test_two_byzantine_validators__n7__rounds_land_once_each_and_both_are_named(
        feed_network: FeedNetwork):
    network = feed_network.network
    all_active(feed_network)
    feed_network.wait_rounds(1)
    for account in BYZANTINE:
        feed_network.validators[account].stop()
    started_at, since = network.w3.eth.block_number, datetime.now(UTC)
    members = tuple(sorted(network.account(account) for account in feed_network.validators))
    liars = [ByzantineValidator(
        anvil_account(account, network.w3.eth.chain_id), network.w3.eth.chain_id,
        network.bus.url, FEED, feed_network.feed.address, members, ROUND_INTERVAL,
        int(VALIDATOR_ENV["NODERR_VALIDATOR_ROUND_EVERY"])) for account in BYZANTINE]
    for liar in liars:
        liar.start()
    try:
        network.wait_until(lambda: any(liar.attacks.equivocated for liar in liars),
                           "a liar leading a round", timeout=60)
        events = feed_network.wait_rounds(4, after_block=started_at)
    finally:
        attacks = [liar.stop() for liar in liars]

    assert all(attack.double_voted and attack.double_reported for attack in attacks)
    rounds = [event["round"] for event in feed_network.transmitted(started_at)]
    assert max(Counter(rounds).values()) == 1 and rounds == sorted(rounds)
    assert all_listed_agree_with_chain(feed_network, events)
    liar_addresses = {network.account(account) for account in BYZANTINE}
    honest = [account for account in feed_network.validators if account not in BYZANTINE]
    for account in honest:
        named = network.wait_until(
            lambda account=account: {found["signer"] for found in
                                     double_signs_found(network, account, since)}
            >= liar_addresses and double_signs_found(network, account, since),
            f"validator #{account} naming both liars in GET /network/executions", timeout=60)
        assert {found["signer"] for found in named} == liar_addresses
