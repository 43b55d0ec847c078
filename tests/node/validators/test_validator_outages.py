"""Outages on the validators' network (after test_validator_network.py, on the same network):
the bus restarted mid-consensus, then more than f validators down.

- NATS restarted (the test stack's nats-server stopped and started again on the same port and
  store): the nodes reconnect and rounds resume, each landing once (one Transmitted per round).
- Two of four validators stopped (f = 1): no report lands, and the two left say why, in
  `GET /network/executions` (a rejected handle_view_change) and in their logs."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from tests.node.validators.conftest import FeedNetwork, all_active

STALLED = "2 of 4 validators answer, quorum 3"


def test_nats_restarted__rounds_resume_and_land_once_each(feed_network: FeedNetwork):
    network = feed_network.network
    before = feed_network.wait_rounds(1)[-1]["block"]
    running = [node for node in feed_network.validators.values() if node.process.poll() is None]
    marks = [len(node.lines) for node in running]
    network.bus.stop()
    network.bus.start()
    restarted_at = network.w3.eth.block_number

    feed_network.wait_rounds(3, after_block=restarted_at, timeout=90)

    for node, mark in zip(running, marks, strict=True):
        node.wait_for("bus disconnected", timeout=10, after=mark)

    rounds = [event["round"] for event in feed_network.transmitted(before - 1)]
    assert max(Counter(rounds).values()) == 1
    assert rounds == sorted(rounds)


def test_more_than_f_down__no_report_lands_and_the_others_say_why(feed_network: FeedNetwork):
    network = feed_network.network
    stopped, live = (5, 6), (9, 7)
    for account in stopped:
        feed_network.validators[account].stop()
    stopped_at, since = network.w3.eth.block_number, datetime.now(UTC)
    all_active(feed_network)

    def stalled_rounds() -> dict[int, str]:
        rows = [row for account in live
                for row in network.executions(network.account(account),
                                              function="handle_view_change",
                                              outcome="rejected")
                if STALLED in (row["error"] or "")
                and datetime.fromisoformat(row["started_at"]) > since]
        found = {int(re.search(r"round (\d+) of SP500", row["error"])[1]): row["error"]
                 for row in rows}
        return found if len(found) >= 2 else {}

    stalled = network.wait_until(stalled_rounds, "two rounds reported stalled", timeout=90)

    silent = {network.account(account) for account in stopped}
    for reason in stalled.values():
        named = set(reason.split("silent: ")[1].split(", "))
        assert named == silent
    assert all(event["round"] < min(stalled) for event in feed_network.transmitted(stopped_at))
    feed_network.validators[live[0]].wait_for(STALLED, timeout=10)

