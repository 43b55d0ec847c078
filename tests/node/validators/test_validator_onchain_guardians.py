"""`noderr trade paper --onchain --guardians` as a person runs it (subprocesses) on the feed the
four validators land rounds on, every order asked of the two Guardian nodes of
`guarded_desks` over the bus: two desks trade the same rounds at once, one whose orders the
guardians allow and one whose key they deny-list; each run is stored and read back through
GET /trading/orders.

Named to run after test_validator_onchain_desk.py, for the reason its docstring gives (after
test_validator_network.py); the guardians are stopped at the end of this module."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal

from tests.node.validators.conftest import FEED, FeedNetwork, GuardedDesks

ROUNDS = 3
ROUND_LINE = re.compile(
    rf"round (\d+) of NodeFeed\.{FEED}: ([0-9.]+) \(answer (\d+), landed [^)]+\): "
    r"(\d+) order\(s\), \d+ fill\(s\)(?: at [0-9., ]+)?, (\d+) refused")
TRADE = ["trade", "paper", "--onchain", "--guardians", "--feed", FEED, "--rounds", str(ROUNDS),
         "--fast", "1", "--slow", "3", "--cash", "10000", "--fee-bps", "0",
         "--stale-after", "10", "--json"]
ANSWERS = {"NODERR_GUARDIAN_ANSWERS_REQUIRED": "2", "NODERR_GUARDIAN_ANSWER_TIMEOUT": "5"}


def start_desk(feed_network: FeedNetwork, *key: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "noderr_cli", *TRADE, *key],
                            env=feed_network.network.env(**ANSWERS), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finished(desk: subprocess.Popen) -> tuple[dict, str]:
    stdout, stderr = desk.communicate(timeout=120)
    assert desk.returncode == 0, stderr
    return json.loads(stdout), stderr


def stored_orders(feed_network: FeedNetwork, desk: str, stderr: str) -> list[dict]:
    run_id = re.search(r"stored as (run-[0-9a-f]+): ", stderr).group(1)
    orders = feed_network.network.api("/trading/orders", desk=desk.lower(), limit=1000)["items"]
    return [order for order in orders if order["run_id"] == run_id]


def test_trade_paper_onchain_guardians__allowed_and_denied_desks__guardians_decide_every_order(
        feed_network: FeedNetwork, guarded_desks: GuardedDesks):
    feed_network.wait_rounds(1)
    allowed = start_desk(feed_network, "--account", str(guarded_desks.desk_account))
    denied = start_desk(feed_network, "--keystore", str(guarded_desks.denied_keystore),
                        "--password-file", str(guarded_desks.denied_password_file))
    report, stderr = finished(allowed)
    denied_report, denied_stderr = finished(denied)

    assert "every order asked of the Guardian nodes (2 answer(s) within 5 s)" in stderr
    traded = ROUND_LINE.findall(stderr)
    assert len(traded) == ROUNDS, stderr
    for round_id, price, answer, _, refused in traded:
        on_chain = feed_network.feed.functions.getRoundData(int(round_id)).call()[1]
        assert int(answer) == on_chain and Decimal(price) == Decimal(on_chain).scaleb(-8)
        assert refused == "0"
    assert report["refused"] == {} and report["orders"] > 0 and report["fills"] >= 1
    mine = stored_orders(feed_network, feed_network.network.account(guarded_desks.desk_account),
                         stderr)
    assert len(mine) == report["orders"]
    assert all(order["status"] != "rejected" and order["rejection"] is None for order in mine)

    assert len(ROUND_LINE.findall(denied_stderr)) == ROUNDS, denied_stderr
    assert denied_report["orders"] == 0 and denied_report["fills"] == 0
    assert set(denied_report["refused"]) == {"address_denylist"}
    refusals = stored_orders(feed_network, guarded_desks.denied_address, denied_stderr)
    assert len(refusals) == denied_report["refused"]["address_denylist"] > 0
    assert {(order["status"], order["rejection"]["check"]) for order in refusals} == {
        ("rejected", "address_denylist")}
