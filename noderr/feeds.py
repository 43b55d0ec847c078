"""The price feeds a deployment carries: one NodeFeed contract per feed name.

A local deployment (chain 31337) carries one feed per instrument the node runtime replays
(node/sources/replay.py loads each one's data under these names), so a demo network has a
feed for every price its oracles observe.
"""

from __future__ import annotations

import re

REPLAYED_INSTRUMENTS: tuple[str, ...] = ("SP500", "NASDAQ", "GOOG", "EURUSD")
FEED_DECIMALS = 8
"""Chainlink's decimals for USD pairs: an answer of 6_512_345_000_000 reads 65,123.45."""
FEED_MIN_ANSWER = 1
FEED_MAX_ANSWER = 10**12 * 10**FEED_DECIMALS
"""Initial bounds of a deployed feed, 1e-8 to 1e12 in units: wide enough for any price,
narrowed per feed by governance (`set_bounds`)."""
FEED_NAME = re.compile(r"[A-Z0-9_]{1,16}")


def feed_description(feed: str) -> str:
    """What `description()` of the feed's contract returns: "SP500 / USD", "EUR / USD"."""
    base = feed.removesuffix("USD") or feed
    return f"{base} / USD"
