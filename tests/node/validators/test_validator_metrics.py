"""A validator's /metrics (NODERR_NODE_METRICS_PORT) counts the rounds it saw decided per feed,
says when it last saw one and how often one is due: what the alert NoderrConsensusStalled
compares (ops/prometheus/alerts.yml). Runs on the network of tests/node/validators/conftest.py
before test_validator_network.py kills and suspends its validators."""

from __future__ import annotations

import time

import httpx

from tests.backend.helpers import sample
from tests.node.runtime.conftest import ROUND_INTERVAL
from tests.node.validators.conftest import FEED, VALIDATOR_ENV, VALIDATORS, FeedNetwork


def scrape(feed_network: FeedNetwork, account: int) -> str:
    port = feed_network.metrics_ports[account]
    return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text


def test_rounds__decided__counted_per_feed_with_last_time_and_period(feed_network: FeedNetwork):
    account = VALIDATORS[0]
    feed_network.wait_rounds(1)
    text = feed_network.network.wait_until(
        lambda: (text := scrape(feed_network, account))
        and (sample(text, "noderr_consensus_rounds_total", feed=FEED) or 0) >= 2 and text,
        "two decided rounds in the validator's metrics")
    last = sample(text, "noderr_consensus_last_round_timestamp_seconds", feed=FEED)
    assert last is not None and 0 <= time.time() - last < 60
    period = sample(text, "noderr_consensus_round_period_seconds", feed=FEED)
    assert period == int(VALIDATOR_ENV["NODERR_VALIDATOR_ROUND_EVERY"]) * ROUND_INTERVAL
