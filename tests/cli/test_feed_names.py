"""Which feeds `noderr deploy` deploys (no chain needed)."""

import pytest

from noderr.feeds import REPLAYED_INSTRUMENTS
from noderr.settings import LOCAL_CHAIN_ID
from onchain.deploy import DeployError, feed_names
from onchain.settings import DeploySettings


def test_feed_names__unset_on_local_chain__the_replayed_instruments():
    assert feed_names(DeploySettings(), LOCAL_CHAIN_ID) == list(REPLAYED_INSTRUMENTS)


def test_feed_names__unset_on_other_chain__none():
    assert feed_names(DeploySettings(), 1) == []


def test_feed_names__empty_variable__none(monkeypatch):
    monkeypatch.setenv("NODERR_FEEDS", "")
    assert feed_names(DeploySettings(), LOCAL_CHAIN_ID) == []


def test_feed_names__from_the_environment__in_order(monkeypatch):
    monkeypatch.setenv("NODERR_FEEDS", "ETH, BTC_2,A23456789012345B")
    assert feed_names(DeploySettings(), 1) == ["ETH", "BTC_2", "A23456789012345B"]


@pytest.mark.parametrize(("feeds", "words"), [
    (["btc"], "bad feed name 'btc' in NODERR_FEEDS"),
    (["BTC-USD"], "bad feed name 'BTC-USD'"),
    (["A" * 17], "bad feed name"),
    (["SP500", "SP500"], "NODERR_FEEDS names a feed twice"),
])
def test_feed_names__refused_with_one_line(feeds, words):
    with pytest.raises(DeployError, match=words):
        feed_names(DeploySettings(feeds=feeds), LOCAL_CHAIN_ID)


def test_replayed_instruments__are_the_node_replay_datasets():
    """The local feeds are the prices the node runtime's replay observes."""
    from node.sources.replay import INSTRUMENTS

    assert INSTRUMENTS == REPLAYED_INSTRUMENTS
