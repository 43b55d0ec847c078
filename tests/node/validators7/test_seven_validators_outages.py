"""n = 7 validators (f = 2) through the faults whose n = 4 tests are in
tests/node/validators (after test_seven_validators.py, on the same network, in this order):
two validators silent (SIGSTOP: alive, connected, saying nothing), NATS restarted, three down
(f + 1), and last, since a revoked license is gone for good, a validator's license revoked
mid-run. A round opens after its observed_at, so only rounds observed after a fault are held
to it: one in flight may still carry a frozen validator's signature."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime

from node.runtime.validator import quorum
from noderr.domain import NodeType
from tests.node.validators.conftest import FeedNetwork, all_active
from tests.node.validators.revoked_signature import (
    LISTED_REASON,
    OUTSIDER_REASON,
    revoked_signature_reverts,
)

SILENT = (3, 4)
DOWN = (5, 6, 7)
REVOKED = 8
STALLED = "4 of 7 validators answer, quorum 5"


def all_running(feed_network: FeedNetwork) -> None:
    """Every validator's process running and activated (an earlier test stopped some), and
    every license active in the mirror."""
    restarted = [feed_network.start_validator(account)
                 for account, node in list(feed_network.validators.items())
                 if node.process.poll() is not None]
    for node in restarted:
        node.wait_for("node activated", timeout=60)
    all_active(feed_network)


def once_each_in_order(feed_network: FeedNetwork, after_block: int) -> bool:
    rounds = [event["round"] for event in feed_network.transmitted(after_block)]
    return max(Counter(rounds).values(), default=1) == 1 and rounds == sorted(rounds)


def test_two_silent__n7__rounds_land_signed_by_a_quorum_of_the_rest(feed_network: FeedNetwork):
    network = feed_network.network
    all_running(feed_network)
    feed_network.wait_rounds(1)
    frozen = [feed_network.validators[account].process for account in SILENT]
    for process in frozen:
        process.send_signal(signal.SIGSTOP)
    silenced_at, silenced_time = network.w3.eth.block_number, time.time()
    try:
        opened_after = network.wait_until(
            lambda: len(later := [event for event in feed_network.transmitted(silenced_at)
                                  if event["observed_at"] > silenced_time]) >= 3 and later,
            "three rounds opened after the freeze landed", timeout=90)
    finally:
        for process in frozen:
            process.send_signal(signal.SIGCONT)

    silent = {network.account(account) for account in SILENT}
    for event in opened_after:
        assert len(event["signers"]) >= quorum(7)
        assert not silent & set(event["signers"]) and event["transmitter"] not in silent
    assert once_each_in_order(feed_network, silenced_at)


def test_nats_restarted__n7__rounds_resume_and_land_once_each(feed_network: FeedNetwork):
    network = feed_network.network
    all_running(feed_network)
    before = feed_network.wait_rounds(1)[-1]["block"]
    marks = {account: len(node.lines) for account, node in feed_network.validators.items()}
    network.bus.stop()
    network.bus.start()
    restarted_at = network.w3.eth.block_number

    feed_network.wait_rounds(3, after_block=restarted_at, timeout=90)

    for account, mark in marks.items():
        feed_network.validators[account].wait_for("bus disconnected", timeout=10, after=mark)
    assert once_each_in_order(feed_network, before - 1)


def test_three_down__n7__no_report_lands_and_the_four_left_name_them(
        feed_network: FeedNetwork):
    network = feed_network.network
    all_running(feed_network)
    feed_network.wait_rounds(1)
    for account in DOWN:
        feed_network.validators[account].stop()
    stopped_at, since = network.w3.eth.block_number, datetime.now(UTC)
    live = [account for account in feed_network.validators if account not in DOWN]

    def stalled_rounds() -> dict[int, str]:
        found = {int(re.search(r"round (\d+) of SP500", row["error"])[1]): row["error"]
                 for account in live
                 for row in network.executions(network.account(account),
                                               function="handle_view_change",
                                               outcome="rejected")
                 if STALLED in (row["error"] or "")
                 and datetime.fromisoformat(row["started_at"]) > since}
        return found if len(found) >= 2 else {}

    stalled = network.wait_until(stalled_rounds, "two rounds reported stalled", timeout=90)

    down = {network.account(account) for account in DOWN}
    for reason in stalled.values():
        assert set(reason.split("silent: ")[1].split(", ")) == down
    assert all(event["round"] < min(stalled) for event in feed_network.transmitted(stopped_at))


def test_revoked__n7__its_node_stops_rounds_land_without_it_its_signature_reverts(
        feed_network: FeedNetwork):
    network = feed_network.network
    all_running(feed_network)
    feed_network.wait_rounds(1)
    address = network.account(REVOKED)
    license_ = network.ops.contract
    network.ops.revoke(license_.functions.token_of(address, NodeType.VALIDATOR).call())
    revoked_at = network.w3.eth.block_number

    assert feed_network.validators[REVOKED].wait_exit(timeout=60) == 4
    events = feed_network.wait_rounds(3, after_block=revoked_at, timeout=90)

    assert license_.functions.active_count(NodeType.VALIDATOR).call() == 6
    for event in events:
        assert address not in event["signers"] and event["transmitter"] != address
        assert len(event["signers"]) >= quorum(6)
    assert once_each_in_order(feed_network, revoked_at)
    remaining = {account: network.account(account) for account in feed_network.validators
                 if account != REVOKED}
    reverts = revoked_signature_reverts(network.w3, feed_network.feed, remaining,
                                        (REVOKED, address))
    assert OUTSIDER_REASON in reverts["in another's entry"]
    assert LISTED_REASON in reverts["kept in the list"]
