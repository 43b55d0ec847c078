"""The deployment's feeds are indexed like the core contracts: their events land in
chain_events, decoded, under the feed's contract name, for auditors to read (int192 answers
and bounds as decimal strings, as every integer wider than 48 bits)."""

from __future__ import annotations

from noderr.feed_report import Report, sign_report, transmit_args
from noderr.feeds import FEED_MAX_ANSWER, FEED_MIN_ANSWER, REPLAYED_INSTRUMENTS
from tests.fixtures_chain import GENESIS_VALIDATOR
from tests.indexer.helpers import index_once, rows

GENESIS_VALIDATOR_KEY = bytes.fromhex(
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6")
"""Anvil #9's well-known dev key: the stack's one validator, a quorum on its own."""
FEED_EVENTS = ("SELECT contract_name, event_name, args FROM chain_events "
               "WHERE contract_name LIKE 'NodeFeed.%' ORDER BY block_number, log_index")


def test_index__feeds_deployed__bounds_set_of_each_in_chain_events(stack, database_url):
    index_once(stack.rpc_url, database_url, stack.deployment)

    events = rows(database_url, FEED_EVENTS)
    assert [(name, event) for name, event, _ in events] == [
        (f"NodeFeed.{feed}", "BoundsSet") for feed in REPLAYED_INSTRUMENTS]
    assert all(args == {"min_answer": str(FEED_MIN_ANSWER), "max_answer": str(FEED_MAX_ANSWER)}
               for _, _, args in events)


def test_index__transmitted_round__decoded_with_its_signers(stack, database_url):
    feed = stack.contract("NodeFeed.GOOG")
    report = Report(round=1, answer=12_345_000_000, observed_at=1_700_000_000)
    signature = sign_report(GENESIS_VALIDATOR_KEY, stack.w3.eth.chain_id, feed.address, report)
    tx = feed.functions.transmit(*transmit_args(
        report, [GENESIS_VALIDATOR], {GENESIS_VALIDATOR: signature})).transact(
        {"from": stack.accounts[0]})
    assert stack.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    index_once(stack.rpc_url, database_url, stack.deployment)

    (name, event, args), = [row for row in rows(database_url, FEED_EVENTS)
                            if row[1] == "Transmitted"]
    assert (name, event) == ("NodeFeed.GOOG", "Transmitted")
    assert args == {"round": 1, "answer": "12345000000", "observed_at": 1_700_000_000,
                    "transmitter": stack.accounts[0].lower(),
                    "signers": [GENESIS_VALIDATOR.lower()]}
