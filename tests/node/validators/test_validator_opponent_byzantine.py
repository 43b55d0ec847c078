"""One Byzantine validator (f = 1 of n = 4) on the real network: validator #7's process is
stopped and a participant holding its key (tests/node/validators/byzantine.py) takes its place
on the bus, equivocating as leader, voting two digests per phase, replaying and forging
messages and signing two reports per round. The three honest processes still land every
round once, with the answer they report, and name the liar, and no one else, in their
double-signing evidence, as GET /network/executions shows their detect_double_sign runs.

Named `opponent` so it sorts after test_validator_network.py and test_validator_onchain_*.py
and before test_validator_outages.py, on the same network: it reinstates any validator an
earlier test suspended (so n = 4, f = 1) and restarts #7's honest process at the end."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from node.runtime.keys import anvil_account
from node.runtime.validator import CONSENSUS
from tests.node.runtime.conftest import ROUND_INTERVAL, Network
from tests.node.validators.byzantine import Attacks, ByzantineValidator
from tests.node.validators.conftest import (
    FEED,
    VALIDATOR_ENV,
    FeedNetwork,
    all_active,
)

BYZANTINE = 7


def test_byzantine_validator__rounds_land_once_each_and_the_equivocation_is_evidence(
        feed_network: FeedNetwork):
    network = feed_network.network
    all_active(feed_network)
    feed_network.wait_rounds(1)
    feed_network.validators[BYZANTINE].stop()
    honest = {account: node for account, node in feed_network.validators.items()
              if account != BYZANTINE}
    marks = {account: len(node.lines) for account, node in honest.items()}
    started_at, since = network.w3.eth.block_number, datetime.now(UTC)
    key = anvil_account(BYZANTINE, network.w3.eth.chain_id)
    liar = ByzantineValidator(
        key, network.w3.eth.chain_id, network.bus.url, FEED, feed_network.feed.address,
        tuple(sorted(network.account(account) for account in feed_network.validators)),
        ROUND_INTERVAL, int(VALIDATOR_ENV["NODERR_VALIDATOR_ROUND_EVERY"]))
    try:
        attacks, events = attacked(liar, feed_network, started_at)

        assert attacks.double_voted and attacks.double_reported
        assert attacks.replayed and attacks.forged
        rounds = [event["round"] for event in feed_network.transmitted(started_at)]
        assert max(Counter(rounds).values()) == 1 and rounds == sorted(rounds)
        assert all_listed_agree_with_chain(feed_network, events)
        for account, node in honest.items():
            node.wait_for(f"consensus message from {key.address} refused: prepare not signed "
                          "by its sender", after=marks[account])
            node.wait_for(f"bus dropped a message on {CONSENSUS}.{FEED} from .*: "
                          "(replayed|stale)", after=marks[account])
        for account in honest:
            named = network.wait_until(
                lambda account=account: double_signs_found(network, account, since),
                f"validator #{account}'s double-signing evidence in GET /network/executions")
            assert {found["signer"] for found in named} == {key.address}
        assert network.wait_until(lambda: [
            found for found in double_signs_found(network, min(honest), since)
            if found["phase"] == "pre_prepare" and found["round"] in attacks.equivocated],
            "the equivocating pre-prepare in GET /network/executions")
    finally:
        feed_network.start_validator(BYZANTINE).wait_for("node activated", timeout=60)


def attacked(liar: ByzantineValidator, feed_network: FeedNetwork,
             started_at: int) -> tuple[Attacks, list[dict]]:
    """The liar's attacks, run until it has led a round and four rounds landed."""
    liar.start()
    try:
        feed_network.network.wait_until(lambda: liar.attacks.equivocated,
                                        "the liar leading a round", timeout=30)
        events = feed_network.wait_rounds(4, after_block=started_at)
    finally:
        attacks = liar.stop()
    return attacks, events


def all_listed_agree_with_chain(feed_network: FeedNetwork, events: list[dict]) -> bool:
    """GET /network/rounds lists every landed round as the honest validators reported it:
    the chain's answer, agreeing with the chain."""
    network = feed_network.network
    landed = {event["round"]: event for event in events}

    def listed() -> list[dict]:
        items = network.api("/network/rounds", feed=FEED, status="transmitted",
                            from_round=min(landed), to_round=max(landed), limit=1000)["items"]
        return items if {item["round"] for item in items} == set(landed) else []

    items = network.wait_until(listed, "the rounds landed under attack listed as transmitted")
    return all(item["agrees_with_chain"] and int(item["value"]) == landed[item["round"]]["answer"]
               for item in items)


def double_signs_found(network: Network, account: int, since: datetime) -> list[dict]:
    """The double signs validator #`account`'s detect_double_sign runs since `since` named,
    as GET /network/executions lists them."""
    runs = network.executions(network.account(account), function="detect_double_sign")
    return [found for run in runs
            if run["result"] and datetime.fromisoformat(run["started_at"]) >= since
            for found in run["result"]["double_signs"]]
